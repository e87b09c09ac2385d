//! Changes made inside the service, sent to the server (which then audits them and tells
//! every instance of the service), and what the service reads from it on demand.

use crate::http::{get, send_json, Ended, Target};
use crate::shared::Shared;
use crate::sync::{record, register, states_in};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use waygate_core::backend::BackendError;
use waygate_core::stored::Sentinel;
use waygate_core::{AuditEntry, AuditQuery, GlobalMaintenanceConfig, RouteState, RouteStatus};

/// Registers a route first seen at runtime (or declared and new to the server). Without a
/// connection it is kept here and registered by the next synchronisation.
pub(crate) async fn register_one(shared: &Shared, state: RouteState) {
    let answer = match shared.is_connected() {
        true => Some(register(shared, &[shared.server_state(&state)]).await),
        false => None,
    };
    let in_force = match answer {
        Some(Ok(answer)) => states_in(answer.get("states"))
            .into_iter()
            .find_map(|s| shared.local_state(s)),
        Some(Err(error)) => {
            tracing::debug!(app_id = %shared.app(), key = %state.path, error = %error.0, "waygate sdk: route not registered; the next synchronisation will");
            None
        }
        None => None,
    };
    let state = in_force.unwrap_or(state);
    shared.update(|cache| {
        cache.routes.insert(state.path.clone(), state);
    });
}

/// Sends a change of one of the service's routes to the server, and takes its answer.
pub(crate) async fn change_route(
    shared: &Shared,
    current: &RouteState,
    next: &RouteState,
) -> Result<(), BackendError> {
    let (action, body) = match next.status {
        RouteStatus::Active => ("enable", json!({"reason": next.reason})),
        RouteStatus::Disabled => ("disable", json!({"reason": next.reason})),
        RouteStatus::Maintenance => match &next.window {
            Some(window) => (
                "maintenance",
                json!({"reason": next.reason, "start": window.start.to_rfc3339(), "end": window.end.to_rfc3339()}),
            ),
            None => ("maintenance", json!({"reason": next.reason})),
        },
        RouteStatus::EnvGated => ("env", json!({"envs": next.allowed_envs})),
        _ => {
            return Err(BackendError::other(format!(
                "a route cannot be made {} from a service; change it on the Waygate Server",
                next.status
            )))
        }
    };
    let key = URL_SAFE_NO_PAD.encode(shared.server_key(&current.path));
    let target = ["api", "routes", &key, action];
    let state: RouteState = send_json(
        shared,
        reqwest::Method::POST,
        Target::at(&target),
        Some(&body),
    )
    .await
    .map_err(Ended::unavailable)?;
    if let Some(state) = shared.local_state(state) {
        shared.update(|cache| {
            cache.routes.insert(state.path.clone(), state);
        });
    }
    Ok(())
}

/// Sends the service's own maintenance to the server.
pub(crate) async fn set_service_maintenance(
    shared: &Shared,
    config: &GlobalMaintenanceConfig,
) -> Result<(), BackendError> {
    let app = shared.app();
    let target = ["api", "services", app, "maintenance", switch(config)];
    send_maintenance(shared, &target, Sentinel::ServiceMaintenance(app), config).await
}

/// Sends global maintenance to the server (a user's token can; a service's cannot).
pub(crate) async fn set_global_maintenance(
    shared: &Shared,
    config: &GlobalMaintenanceConfig,
) -> Result<(), BackendError> {
    let target = ["api", "global", switch(config)];
    send_maintenance(shared, &target, Sentinel::GlobalMaintenance, config).await
}

/// `enable` or `disable`, as the maintenance endpoints are named.
fn switch(config: &GlobalMaintenanceConfig) -> &'static str {
    if config.enabled {
        "enable"
    } else {
        "disable"
    }
}

/// Posts a maintenance change and keeps the server's answer as the record `sentinel`.
async fn send_maintenance(
    shared: &Shared,
    target: &[&str],
    sentinel: Sentinel<'_>,
    config: &GlobalMaintenanceConfig,
) -> Result<(), BackendError> {
    let config: GlobalMaintenanceConfig = send_json(
        shared,
        reqwest::Method::POST,
        Target::at(target),
        Some(config),
    )
    .await
    .map_err(Ended::unavailable)?;
    let state = record(sentinel, Some(&config)).map_err(Ended::unavailable)?;
    shared.update(|cache| {
        cache.records.insert(state.path.clone(), state);
    });
    Ok(())
}

/// The service's audit entries, from the server.
pub(crate) async fn audit_log(
    shared: &Shared,
    query: &AuditQuery,
) -> Result<Vec<AuditEntry>, BackendError> {
    let limit = query.limit.to_string();
    let route = query.route.as_deref().map(|route| shared.server_key(route));
    let mut pairs = vec![("service", shared.app()), ("limit", limit.as_str())];
    if let Some(route) = &route {
        pairs.push(("route", route));
    }
    get(shared, Target::at(&["api", "audit"]).query(&pairs))
        .await
        .map_err(Ended::unavailable)
}
