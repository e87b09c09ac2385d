//! `api/rate-limits/*`, `api/global-rate-limit/*` and `api/services/{service}/rate-limit/*`:
//! per-route, global and per-service rate limits, and the log of blocked requests.

use super::super::body::JsonObject;
use super::super::error::ApiError;
use super::super::extract::{Caller, Params, PathKey, Peer, Service};
use super::super::AdminState;
use super::ok;
use crate::model::HitQuery;
use crate::rate_limit::{
    Algorithm, GlobalRateLimitPolicy, KeyStrategy, OnMissingKey, RateLimitHit, RateLimitPolicy,
};
use crate::stored::RouteKey;
use crate::{Engine, EngineError, PolicyChange};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// The route key a policy of `method` on `path` belongs to: `METHOD:/path`; the bare path
/// when the method is `ALL`, or when the route is stored under its bare path only (it then
/// covers every method).
///
/// A service's route (waygate server) is named `svc:/path` (the key is then
/// `svc:METHOD:/path`) or by its full key `svc:METHOD:/path`, whose method wins. A path that
/// names no route gives a key the engine then reports as not found.
pub(in crate::admin) fn route_key(engine: &Engine, method: &str, path: &str) -> String {
    let method = method.to_ascii_uppercase();
    let Some(key) = RouteKey::from_policy(&method, path) else {
        return match method.as_str() {
            "ALL" => path.to_owned(),
            _ => format!("{method}:{path}"),
        };
    };
    let full = key.to_string();
    if key.method().is_some() && engine.state(&full).is_none() {
        let bare = RouteKey::bare(key.template());
        let bare = match key.service() {
            Some(service) => bare.in_service(service).to_string(),
            None => bare.to_string(),
        };
        if engine.state(&bare).is_some() {
            return bare;
        }
    }
    full
}

/// What the answer to setting a policy keyed by client IP says when the server does not
/// know the peer address: every client then shares one counter.
const NO_PEER_WARNING: &str = "per-IP limits need the peer address, and this server does not \
     record it: every client shares one counter (key \"unknown\"). Serve the app with \
     `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())`.";

/// The policy as JSON, with a `warning` when it keys by client IP and the server was not
/// started with `ConnectInfo` (seen on this very request: the admin is served by the same
/// `axum::serve` as the app).
fn with_warning(policy: &impl serde::Serialize, by_ip: bool, peer: Peer) -> Json<Value> {
    let mut json = serde_json::to_value(policy).unwrap_or(Value::Null);
    if let (true, None, Value::Object(map)) = (by_ip, peer.0, &mut json) {
        map.insert("warning".to_owned(), Value::from(NO_PEER_WARNING));
    }
    Json(json)
}

/// `GET api/rate-limits`: every per-route policy in force, sorted by path. A service's
/// routes' policies name the path `svc:/path`.
///
/// `?service=svc` lists that service's policies only. A service attached to a waygate server
/// (the Python SDK sends `X-Waygate-App-Id` and no `service`) gets its own policies with
/// the paths it serves (`/path`), which is what it enforces them under.
pub(super) async fn list(
    State(admin): State<AdminState>,
    params: Params,
    headers: axum::http::HeaderMap,
) -> Json<Vec<RateLimitPolicy>> {
    let policies = admin.engine.rate_limit_policies();
    if let Some(service) = params.get("service") {
        let prefix = format!("{service}:");
        return Json(
            policies
                .into_iter()
                .filter(|p| p.path.starts_with(&prefix))
                .collect(),
        );
    }
    if let Some(app) = super::super::extract::header(&headers, "x-waygate-app-id") {
        let prefix = format!("{app}:");
        return Json(
            policies
                .into_iter()
                .filter_map(|mut p| {
                    p.path = p.path.strip_prefix(&prefix)?.to_owned();
                    Some(p)
                })
                .collect(),
        );
    }
    Json(policies)
}

/// `POST api/rate-limits`, body `{"path", "limit", "method"? (GET), "algorithm"?,
/// "key_strategy"?, "burst"?}` → `201` with the policy, plus a `warning` when it keys by
/// client IP and the server does not record peer addresses. The Python CLI sends the method
/// apart from the path, so a path served under several methods is not ambiguous here.
pub(super) async fn set(
    State(admin): State<AdminState>,
    caller: Caller,
    peer: Peer,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = JsonObject::required(&body)?;
    let path = body.string("path")?.unwrap_or_default();
    let limit = body.string("limit")?.unwrap_or_default();
    if path.is_empty() || limit.is_empty() {
        return Err(ApiError::bad_request("path and limit are required"));
    }
    let method = body
        .string("method")?
        .filter(|m| !m.is_empty())
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let mut change = PolicyChange::new();
    if let Some(algorithm) = body.parsed::<Algorithm>("algorithm")? {
        change = change.algorithm(algorithm);
    }
    if let Some(key_strategy) = body.parsed::<KeyStrategy>("key_strategy")? {
        change = change.key_strategy(key_strategy);
    }
    if let Some(burst) = body.count("burst")? {
        change = change.burst(burst);
    }
    let key = route_key(&admin.engine, &method, path);
    let policy = admin
        .engine
        .set_rate_limit_policy(&key, limit, change, caller.actor())
        .await?;
    let by_ip = policy.key_strategy == KeyStrategy::Ip;
    Ok((StatusCode::CREATED, with_warning(&policy, by_ip, peer)))
}

/// `DELETE api/rate-limits/{path_key}`, the key being `METHOD:/path`.
pub(super) async fn delete(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
) -> Result<Json<Value>, ApiError> {
    let Some((method, path)) = key.split_once(':') else {
        return Err(ApiError::bad_request("path_key must encode METHOD:path"));
    };
    let method = method.to_ascii_uppercase();
    admin
        .engine
        .delete_rate_limit_policy(&route_key(&admin.engine, &method, path), caller.actor())
        .await?;
    Ok(Json(json!({"ok": true, "path": path, "method": method})))
}

/// `DELETE api/rate-limits/{path_key}/reset?method=`, the key being the bare path: clears
/// the counters of the route's policy for `method`, or without it of every method's
/// policy on the path. A registered route without a policy has nothing to reset: `200`, as
/// in the Python original; `404` only for a route that is not registered.
pub(super) async fn reset(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(path): PathKey,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let engine = &admin.engine;
    let key = match params.get("method") {
        Some(method) => route_key(engine, &method.to_ascii_uppercase(), &path),
        None => path.clone(),
    };
    let keys = match engine.resolve(&key) {
        Ok(key) => vec![key],
        Err(EngineError::Ambiguous { matches, .. }) => matches,
        Err(error) => return Err(error.into()),
    };
    for key in keys {
        match engine.reset_rate_limit(&key, caller.actor()).await {
            // The key is registered (it resolved): no limiter means no policy.
            Ok(()) | Err(EngineError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Json(json!({"ok": true, "path": path})))
}

/// `GET api/rate-limits/hits?route=&limit=50`: blocked requests, newest first; `route` is
/// a route template (`/items/{id}`).
pub(super) async fn hits(
    State(admin): State<AdminState>,
    params: Params,
) -> Result<Json<Vec<RateLimitHit>>, ApiError> {
    let mut query = HitQuery::latest(params.limit());
    if let Some(route) = params.get("route") {
        query = query.route(route);
    }
    Ok(Json(admin.engine.rate_limit_hits(&query).await?))
}

/// The body of a global or service policy: `{"limit", "algorithm"?, "key_strategy"?,
/// "on_missing_key"?, "burst"?, "exempt_routes"?}`.
fn shared_policy(body: &[u8]) -> Result<GlobalRateLimitPolicy, ApiError> {
    let body = JsonObject::required(body)?;
    let limit = body.string("limit")?.unwrap_or_default();
    if limit.is_empty() {
        return Err(ApiError::bad_request("limit is required"));
    }
    let mut policy = GlobalRateLimitPolicy::new(limit);
    if let Some(algorithm) = body.parsed::<Algorithm>("algorithm")? {
        policy.algorithm = algorithm;
    }
    if let Some(key_strategy) = body.parsed::<KeyStrategy>("key_strategy")? {
        policy.key_strategy = key_strategy;
    }
    policy.on_missing_key = body.parsed::<OnMissingKey>("on_missing_key")?;
    policy.burst = body.count("burst")?.unwrap_or(0);
    policy.exempt_routes = body.strings("exempt_routes")?.unwrap_or_default();
    Ok(policy)
}

/// `{"enabled", "policy"}`; `{"enabled": false, "policy": null}` without a policy.
fn shared_view(policy: Option<GlobalRateLimitPolicy>) -> Json<Value> {
    Json(json!({
        "enabled": policy.as_ref().is_some_and(|p| p.enabled),
        "policy": policy,
    }))
}

/// `GET api/global-rate-limit`.
pub(super) async fn global(State(admin): State<AdminState>) -> Json<Value> {
    shared_view(admin.engine.global_rate_limit())
}

/// `POST api/global-rate-limit` → `201` with the policy (enabled), and a `warning` as for
/// a route's.
pub(super) async fn set_global(
    State(admin): State<AdminState>,
    caller: Caller,
    peer: Peer,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let policy = shared_policy(&body)?;
    let policy = admin
        .engine
        .set_global_rate_limit(policy, caller.actor())
        .await?;
    let by_ip = policy.key_strategy == KeyStrategy::Ip;
    Ok((StatusCode::CREATED, with_warning(&policy, by_ip, peer)))
}

/// `DELETE api/global-rate-limit`.
pub(super) async fn delete_global(
    State(admin): State<AdminState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .delete_global_rate_limit(caller.actor())
        .await?;
    Ok(ok())
}

/// `DELETE api/global-rate-limit/reset`: clears the counters.
pub(super) async fn reset_global(
    State(admin): State<AdminState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    admin.engine.reset_global_rate_limit(caller.actor()).await?;
    Ok(ok())
}

/// `POST api/global-rate-limit/enable`: resumes a paused policy (no-op without one).
pub(super) async fn enable_global(
    State(admin): State<AdminState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .set_global_rate_limit_enabled(true, caller.actor())
        .await?;
    Ok(ok())
}

/// `POST api/global-rate-limit/disable`: pauses the policy without forgetting it.
pub(super) async fn disable_global(
    State(admin): State<AdminState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .set_global_rate_limit_enabled(false, caller.actor())
        .await?;
    Ok(ok())
}

/// `GET api/services/{service}/rate-limit`.
pub(super) async fn service(
    State(admin): State<AdminState>,
    Service(service): Service,
) -> Json<Value> {
    shared_view(admin.engine.service_rate_limit(&service))
}

/// `POST api/services/{service}/rate-limit` → `201` with the policy (enabled), and a
/// `warning` as for a route's.
pub(super) async fn set_service(
    State(admin): State<AdminState>,
    caller: Caller,
    peer: Peer,
    Service(service): Service,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let policy = shared_policy(&body)?;
    let policy = admin
        .engine
        .set_service_rate_limit(&service, policy, caller.actor())
        .await?;
    let by_ip = policy.key_strategy == KeyStrategy::Ip;
    Ok((StatusCode::CREATED, with_warning(&policy, by_ip, peer)))
}

/// `DELETE api/services/{service}/rate-limit`.
pub(super) async fn delete_service(
    State(admin): State<AdminState>,
    caller: Caller,
    Service(service): Service,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .delete_service_rate_limit(&service, caller.actor())
        .await?;
    Ok(ok())
}

/// `DELETE api/services/{service}/rate-limit/reset`.
pub(super) async fn reset_service(
    State(admin): State<AdminState>,
    caller: Caller,
    Service(service): Service,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .reset_service_rate_limit(&service, caller.actor())
        .await?;
    Ok(ok())
}

/// `POST api/services/{service}/rate-limit/enable`.
pub(super) async fn enable_service(
    State(admin): State<AdminState>,
    caller: Caller,
    Service(service): Service,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .set_service_rate_limit_enabled(&service, true, caller.actor())
        .await?;
    Ok(ok())
}

/// `POST api/services/{service}/rate-limit/disable`.
pub(super) async fn disable_service(
    State(admin): State<AdminState>,
    caller: Caller,
    Service(service): Service,
) -> Result<Json<Value>, ApiError> {
    admin
        .engine
        .set_service_rate_limit_enabled(&service, false, caller.actor())
        .await?;
    Ok(ok())
}
