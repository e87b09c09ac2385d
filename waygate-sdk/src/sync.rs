//! A synchronisation: register the service's routes, read everything the server holds for
//! it (its routes, maintenance and rate limits; every feature flag and segment), and replace
//! the picture with that.

use crate::http::{get, get_if_served, send_json, Ended, Target};
use crate::shared::{policy_key, Cache, Shared};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use waygate_core::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy};
use waygate_core::stored::Sentinel;
use waygate_core::{GlobalMaintenanceConfig, RouteState};

/// Reads everything the service needs from the server and replaces the picture. Registers
/// the service's routes (and the flags its code declares) first, so a server that lost them
/// (restarted on an empty backend) has them again. Returns how many routes the service has.
pub(crate) async fn synchronise(shared: &Shared) -> Result<usize, Ended> {
    let app = shared.app().to_owned();
    let mut routes = BTreeMap::new();
    let registrations = shared.registrations();
    if !registrations.is_empty() || !waygate_core::flags::declared_flags().is_empty() {
        let answer = register(shared, &registrations).await?;
        for state in states_in(answer.get("states")) {
            if let Some(state) = shared.local_state(state) {
                routes.insert(state.path.clone(), state);
            }
        }
    }
    let service = [("service", app.as_str())];
    let listed: Value = get(shared, Target::at(&["api", "routes"]).query(&service)).await?;
    for state in states_in(Some(&listed)) {
        if let Some(state) = shared.local_state(state) {
            routes.insert(state.path.clone(), state);
        }
    }
    let global: GlobalMaintenanceConfig = get(shared, Target::at(&["api", "global"])).await?;
    let service_maintenance: GlobalMaintenanceConfig = get(
        shared,
        Target::at(&["api", "services", app.as_str(), "maintenance"]),
    )
    .await?;
    let global_rl = shared_policy(get(shared, Target::at(&["api", "global-rate-limit"])).await?);
    let service_rl = shared_policy(
        get(
            shared,
            Target::at(&["api", "services", app.as_str(), "rate-limit"]),
        )
        .await?,
    );
    let listed: Value = get(shared, Target::at(&["api", "rate-limits"]).query(&service)).await?;
    let mut policies = BTreeMap::new();
    for value in listed.as_array().into_iter().flatten() {
        let Ok(policy) = serde_json::from_value::<RateLimitPolicy>(value.clone()) else {
            continue;
        };
        if let Some((key, policy)) = shared
            .local_policy(policy)
            .and_then(|policy| Some((policy_key(&policy)?, policy)))
        {
            policies.insert(key, policy);
        }
    }
    let mut records = BTreeMap::new();
    for record in [
        record(Sentinel::GlobalMaintenance, Some(&global))?,
        record(
            Sentinel::ServiceMaintenance(&app),
            Some(&service_maintenance),
        )?,
        record(Sentinel::GlobalRateLimit, global_rl.as_ref())?,
        record(Sentinel::ServiceRateLimit(&app), service_rl.as_ref())?,
    ] {
        // An empty record: none is set.
        if !record.reason.is_empty() {
            records.insert(record.path.clone(), record);
        }
    }
    // Flags and segments, every one (flags are not a service's own).
    for list in ["flags", "segments"] {
        let answer = get_if_served(shared, Target::at(&["api", list])).await?;
        for item in listed_records(answer, list) {
            let Some(key) = item.get("key").and_then(Value::as_str) else {
                continue;
            };
            let sentinel = match list {
                "flags" => Sentinel::Flag(key),
                _ => Sentinel::Segment(key),
            };
            let record = record(sentinel, Some(&item))?;
            records.insert(record.path.clone(), record);
        }
    }
    let count = routes.len();
    shared.replace(Cache {
        routes,
        records,
        policies,
    });
    Ok(count)
}

/// `POST api/sdk/register` with `states` in the server's form; its answer.
pub(crate) async fn register(shared: &Shared, states: &[RouteState]) -> Result<Value, Ended> {
    // The flags this binary declares: the server creates those it lacks, and knows who
    // reads what (servers that do not know the field ignore it).
    let flags: Vec<_> = waygate_core::flags::declared_flags()
        .iter()
        .map(|declared| declared.registered())
        .collect();
    let body = json!({"app_id": shared.app(), "states": states, "flags": flags});
    let target = Target::at(&["api", "sdk", "register"]);
    send_json(shared, reqwest::Method::POST, target, Some(&body)).await
}

/// The items of a list answer: a bare list, or `{field: [...]}` (both are what servers send
/// for `api/flags` and `api/segments`); none when the server does not serve the list.
fn listed_records(answer: Option<Value>, field: &str) -> Vec<Value> {
    let list = match answer.unwrap_or_default() {
        Value::Object(mut object) => object.remove(field).unwrap_or_default(),
        list => list,
    };
    match list {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// `policy` of a `{"enabled", "policy"}` answer.
fn shared_policy(answer: Value) -> Option<GlobalRateLimitPolicy> {
    serde_json::from_value(answer.get("policy")?.clone()).ok()
}

/// The states of a JSON list, skipping what is not one.
pub(crate) fn states_in(value: Option<&Value>) -> Vec<RouteState> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

/// A record as its sentinel state (`None`: the removed record).
pub(crate) fn record<T: Serialize>(
    sentinel: Sentinel<'_>,
    value: Option<&T>,
) -> Result<RouteState, Ended> {
    Ok(sentinel.encode(value)?)
}
