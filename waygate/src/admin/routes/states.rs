//! `api/routes/*`: route states and their changes.

use super::super::body::JsonObject;
use super::super::error::ApiError;
use super::super::extract::{Caller, Params, PathKey};
use super::super::AdminState;
use crate::model::{MaintenanceWindow, RouteState};
use crate::EngineError;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;

/// The state as requests see it now: a maintenance window that has not started (or has
/// ended) is enforced as `active`, so it says `active`, its pending `window` beside it.
/// Every route state the API answers goes through here, so `waygate status` shows what
/// the route serves.
fn enforced(admin: &AdminState, mut state: RouteState) -> Json<RouteState> {
    state.status = state.effective_status(admin.engine.now());
    Json(state)
}

/// `GET api/routes?service=`: every route's state, sorted by key (waygate's own records
/// hidden).
pub(super) async fn list(State(admin): State<AdminState>, params: Params) -> Json<Vec<RouteState>> {
    let now = admin.engine.now();
    let mut states = admin.engine.list_states();
    if let Some(service) = params.get("service") {
        states.retain(|s| s.service.as_deref() == Some(service));
    }
    for state in &mut states {
        state.status = state.effective_status(now);
    }
    Json(states)
}

/// `GET api/routes/{path_key}`: the route's state. A bare path with a single method
/// resolves to it (as in mutations); an unknown key is `404` (the Python original made up
/// an active state).
pub(super) async fn get(
    State(admin): State<AdminState>,
    PathKey(key): PathKey,
) -> Result<Json<RouteState>, ApiError> {
    if let Some(state) = admin.engine.state(&key) {
        return Ok(enforced(&admin, state));
    }
    let resolved = admin.engine.resolve(&key)?;
    let state = admin
        .engine
        .state(&resolved)
        .ok_or(EngineError::NotFound { key })?;
    Ok(enforced(&admin, state))
}

/// `POST api/routes/{path_key}/enable`, body `{"reason"?}` (optional).
pub(super) async fn enable(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
    body: Bytes,
) -> Result<Json<RouteState>, ApiError> {
    let body = JsonObject::optional(&body)?;
    let reason = body.string("reason")?.unwrap_or_default();
    let state = admin
        .engine
        .enable_with_reason(&key, reason, caller.actor())
        .await?;
    Ok(enforced(&admin, state))
}

/// `POST api/routes/{path_key}/disable`, body `{"reason"?}` (optional).
pub(super) async fn disable(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
    body: Bytes,
) -> Result<Json<RouteState>, ApiError> {
    let body = JsonObject::optional(&body)?;
    let reason = body.string("reason")?.unwrap_or_default();
    let state = admin.engine.disable(&key, reason, caller.actor()).await?;
    Ok(enforced(&admin, state))
}

/// `POST api/routes/{path_key}/maintenance`, body `{"reason"?, "start"?, "end"?}`
/// (optional). With a window the route is in maintenance from `start` to `end`; `start`
/// and `end` come together.
pub(super) async fn maintenance(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
    body: Bytes,
) -> Result<Json<RouteState>, ApiError> {
    let body = JsonObject::optional(&body)?;
    let reason = body.string("reason")?.unwrap_or_default();
    let window = match (body.datetime("start")?, body.datetime("end")?) {
        (Some(start), Some(end)) => Some(MaintenanceWindow::new(start, end, reason)),
        (None, None) => None,
        (Some(_), None) => return Err(ApiError::bad_request("end is required with start")),
        (None, Some(_)) => return Err(ApiError::bad_request("start is required with end")),
    };
    let state = admin
        .engine
        .set_maintenance(&key, reason, window, caller.actor())
        .await?;
    Ok(enforced(&admin, state))
}

/// `POST api/routes/{path_key}/env`, body `{"envs": [..]}`.
pub(super) async fn env(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
    body: Bytes,
) -> Result<Json<RouteState>, ApiError> {
    let body = JsonObject::required(&body)?;
    let envs = body.strings("envs")?.unwrap_or_default();
    let state = admin
        .engine
        .set_env_only(&key, &envs, caller.actor())
        .await?;
    Ok(enforced(&admin, state))
}

/// `POST api/routes/{path_key}/schedule`, body `{"start", "end", "reason"?}`.
pub(super) async fn schedule(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
    body: Bytes,
) -> Result<Json<RouteState>, ApiError> {
    let body = JsonObject::required(&body)?;
    let reason = body.string("reason")?.unwrap_or_default();
    let (Some(start), Some(end)) = (body.datetime("start")?, body.datetime("end")?) else {
        return Err(ApiError::bad_request("start and end are required"));
    };
    let window = MaintenanceWindow::new(start, end, reason);
    let state = admin
        .engine
        .schedule_maintenance(&key, window, caller.actor())
        .await?;
    Ok(enforced(&admin, state))
}

/// `DELETE api/routes/{path_key}/schedule`: cancels the route's maintenance window (the
/// route is active again); a route without one is returned unchanged.
pub(super) async fn cancel_schedule(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
) -> Result<Json<RouteState>, ApiError> {
    let state = admin.engine.cancel_schedule(&key, caller.actor()).await?;
    Ok(enforced(&admin, state))
}
