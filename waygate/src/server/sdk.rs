//! The endpoints services talk to: `POST api/sdk/register`, `GET api/sdk/events` (SSE) and
//! `POST api/sdk/audit` (upstream §5.7), behind the admin API's auth.
//!
//! A service acts for its own `app_id` only when its token was issued to it (see
//! [`Caller::may_act_for`]); user tokens (`cli`, `dashboard`) act for every service.

use super::hub::{Connection, Hub};
use crate::admin::body::{capped, capped_list, JsonObject};
use crate::admin::error::ApiError;
use crate::admin::extract::{header, Caller, Params};
use crate::admin::AdminState;
use crate::flags::{check_key, RegisteredFlag};
use crate::model::{Actor, AuditEntry, RouteState};
use crate::stored::RouteKey;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header as http_header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

/// How often a comment is sent when nothing changes (as the Python server).
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The header every SDK sends its service in.
pub(crate) const APP_ID_HEADER: &str = "x-waygate-app-id";

/// What the SDK endpoints share besides the admin's state.
#[derive(Debug, Clone)]
pub(crate) struct SdkState {
    pub(crate) hub: Arc<Hub>,
    pub(crate) closing: watch::Receiver<bool>,
}

fn forbidden(app_id: &str, caller: &Caller) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "this token was issued to service `{}` and cannot act for `{app_id}`",
            caller.app.as_deref().unwrap_or_default()
        ),
    )
}

/// `POST api/sdk/register`, body `{"app_id", "states": [RouteState..]}` → `{"states": [..],
/// "skipped"?: [{"index", "error"}]}`: the states in force for the given routes. Entries
/// that cannot be registered are skipped with `200`, as the spec says (§5.7: the Python SDK
/// ignores the answer), listed in `skipped` and logged. At most 2,000 routes a call and
/// 5,000 per service (`413`). A route the server knows keeps its stored
/// state (the server wins); a new one is stored as sent. Each state is the service's:
/// its key is `{app_id}:{METHOD}:{path}` (a key without the prefix gets it) and its
/// `service` is the app id; states of another namespace, or waygate's own records, are
/// skipped.
pub(super) async fn register(
    State(admin): State<AdminState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::required(&body)?;
    let app_id = body.string("app_id")?.unwrap_or_default().to_owned();
    if app_id.is_empty() {
        return Err(ApiError::bad_request("app_id is required"));
    }
    if !RouteKey::is_service_name(&app_id) {
        return Err(ApiError::bad_request(
            "app_id must be a service name: no `:`, `/`, spaces or control characters, not all capitals",
        ));
    }
    if !caller.may_act_for(&app_id) {
        return Err(forbidden(&app_id, &caller));
    }
    let Some(Value::Array(raw)) = body.value("states") else {
        return Err(ApiError::bad_request("states must be a list"));
    };
    if raw.len() > MAX_REGISTERED_PER_CALL {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "states has {} entries: a service registers at most {MAX_REGISTERED_PER_CALL} \
                 routes a call",
                raw.len()
            ),
        ));
    }
    let mut states = Vec::with_capacity(raw.len());
    let mut skipped = Vec::new();
    for (index, value) in raw.iter().enumerate() {
        match own_state(value, &app_id) {
            Ok(state) => states.push(state),
            Err(error) => skipped.push(json!({ "index": index, "error": error })),
        }
    }
    let known = admin
        .engine
        .list_states()
        .into_iter()
        .filter(|s| s.service.as_deref() == Some(app_id.as_str()))
        .map(|s| s.path)
        .collect::<std::collections::HashSet<_>>();
    let new = states.iter().filter(|s| !known.contains(&s.path)).count();
    if known.len() + new > MAX_ROUTES_PER_SERVICE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "service `{app_id}` would have {} routes: a service has at most \
                 {MAX_ROUTES_PER_SERVICE}",
                known.len() + new
            ),
        ));
    }
    if !skipped.is_empty() {
        tracing::warn!(
            app_id = %app_id,
            skipped = skipped.len(),
            first = %skipped[0],
            "waygate server: registration entries skipped (listed in the answer's `skipped`)"
        );
    }
    let declared = declared_flags(&body, &app_id)?;
    let sent = states.len();
    let in_force = admin.engine.register_states(states).await?;
    create_declared_flags(&admin, &app_id, &declared).await;
    tracing::info!(app_id = %app_id, routes = sent, "waygate server: service registered its routes");
    if skipped.is_empty() {
        return Ok(Json(json!({ "states": in_force })));
    }
    Ok(Json(json!({ "states": in_force, "skipped": skipped })))
}

/// The `flags` a register call declares (the `#[flag]`s of the service's code), checked:
/// `400` naming the entry when one is not a flag declaration.
fn declared_flags(body: &JsonObject, app_id: &str) -> Result<Vec<RegisteredFlag>, ApiError> {
    let Some(raw) = body.value("flags") else {
        return Ok(Vec::new());
    };
    let Value::Array(raw) = raw else {
        return Err(ApiError::bad_request("flags must be a list"));
    };
    if raw.len() > MAX_DECLARED_FLAGS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a service declares at most {MAX_DECLARED_FLAGS} flags"),
        ));
    }
    let declared: Vec<RegisteredFlag> = raw
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let flag: RegisteredFlag = serde_json::from_value(value.clone()).map_err(|e| {
                ApiError::bad_request(format!("flags[{index}] is not a flag declaration: {e}"))
            })?;
            check_key("flag", &flag.key)
                .map_err(|e| ApiError::bad_request(format!("flags[{index}]: {}", e.0)))?;
            flag.check().map_err(|e| {
                ApiError::bad_request(format!("flags[{index}] ({}): {e}", flag.key))
            })?;
            capped("description", &flag.description)?;
            Ok(flag)
        })
        .collect::<Result<_, ApiError>>()?;
    tracing::debug!(
        app_id,
        flags = declared.len(),
        "waygate server: service declares flags"
    );
    Ok(declared)
}

/// Records what `app_id` declares, and creates each declared flag the store lacks, with its
/// default, audited as the service (a flag that cannot be created is logged, not fatal:
/// the service reads its default).
async fn create_declared_flags(admin: &AdminState, app_id: &str, declared: &[RegisteredFlag]) {
    admin
        .engine
        .flag_usage()
        .declare(app_id, declared.iter().map(|flag| flag.key.clone()));
    for flag in declared {
        if admin.engine.flags().flag(&flag.key).is_some() {
            continue;
        }
        let actor = Actor::new(app_id).platform("sdk");
        let mut created = flag.to_flag();
        created.created_by = app_id.to_owned();
        match admin.engine.save_flag(created, actor).await {
            Ok(_) => {
                tracing::info!(app_id, flag = %flag.key, "waygate server: created a flag a service declares");
            }
            Err(error) => {
                tracing::warn!(app_id, flag = %flag.key, %error, "waygate server: cannot create a declared flag");
            }
        }
    }
}

/// `POST api/sdk/flag-usage`, body `{"app_id"?, "last_evaluated": {"<flag>": "<RFC 3339>"}}`
/// → `{"ok": true}`: when the service last evaluated each flag (the SDK reports it every
/// few seconds). The service is `app_id` (or `X-Waygate-App-Id`, or the caller's token's); a
/// service token naming another service gets `403`.
pub(super) async fn flag_usage(
    State(admin): State<AdminState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::required(&body)?;
    let named = body
        .string("app_id")?
        .map(str::to_owned)
        .or_else(|| header(&headers, APP_ID_HEADER).map(str::to_owned));
    let app = named
        .or_else(|| caller.app.clone())
        .ok_or_else(|| ApiError::bad_request("app_id is required"))?;
    if !RouteKey::is_service_name(&app) {
        return Err(ApiError::bad_request("app_id must be a service name"));
    }
    // A service reports for itself only (as it registers).
    if !caller.may_act_for(&app) {
        return Err(forbidden(&app, &caller));
    }
    let Some(Value::Object(times)) = body.value("last_evaluated") else {
        return Err(ApiError::bad_request(
            "last_evaluated must be an object of flag keys to RFC 3339 times",
        ));
    };
    if times.len() > MAX_DECLARED_FLAGS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_DECLARED_FLAGS} flags a report"),
        ));
    }
    let now = admin.engine.now();
    for (key, at) in times {
        check_key("flag", key).map_err(|e| ApiError::bad_request(e.0))?;
        let at = at
            .as_str()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("last_evaluated.{key} must be an RFC 3339 time"))
            })?
            .to_utc();
        // A service's clock cannot put a flag's use in the future.
        admin.engine.flag_usage().evaluated(&app, key, at.min(now));
    }
    Ok(Json(json!({"ok": true})))
}

/// The most flags a service declares or reports (`413` beyond).
const MAX_DECLARED_FLAGS: usize = 2_000;

/// The most routes one register call takes (`413` beyond).
const MAX_REGISTERED_PER_CALL: usize = 2_000;
/// The most routes one service has on the server (`413` beyond).
const MAX_ROUTES_PER_SERVICE: usize = 5_000;

/// One entry of a register call as the service's state — its key `{app_id}:METHOD:/path`,
/// whether it was sent with the prefix or without, its `service` the app id — or why it is
/// skipped: not a route state, another service's, a text over the cap or holding a control
/// character.
fn own_state(value: &Value, app_id: &str) -> Result<RouteState, String> {
    let mut state = serde_json::from_value::<RouteState>(value.clone())
        .map_err(|e| format!("not a route state: {e}"))?;
    check_texts(&state).map_err(|e| e.message().to_owned())?;
    let key = RouteKey::parse(&state.path)
        .filter(|key| key.service().is_none_or(|s| s == app_id))
        .map(|key| key.in_service(app_id).to_string())
        .ok_or("path is not a route key of this service (METHOD:/path)")?;
    if state.service.as_deref().is_some_and(|s| s != app_id) {
        return Err("service names another service".to_owned());
    }
    capped("path", &key).map_err(|e| e.message().to_owned())?;
    state.path = key;
    state.service = Some(app_id.to_owned());
    Ok(state)
}

/// Every text of a state under the admin API's caps (length, no control characters).
fn check_texts(state: &RouteState) -> Result<(), ApiError> {
    capped("path", &state.path)?;
    capped("reason", &state.reason)?;
    capped("service", state.service.as_deref().unwrap_or_default())?;
    capped_list("allowed_envs", &state.allowed_envs)?;
    capped_list("allowed_roles", &state.allowed_roles)?;
    capped_list("allowed_ips", &state.allowed_ips)?;
    capped(
        "sunset_date",
        state.sunset_date.as_deref().unwrap_or_default(),
    )?;
    capped(
        "successor_path",
        state.successor_path.as_deref().unwrap_or_default(),
    )?;
    if let Some(window) = &state.window {
        capped("window.reason", &window.reason)?;
    }
    Ok(())
}

/// `POST api/sdk/audit`, an audit entry written in a service → `{"ok": true}`. It is
/// stored with the service (`service` = the caller's app id, or `X-Waygate-App-Id`) and
/// its route key in the server's form (`{app_id}:{key}`). Who made it, from where, when and
/// under which id are the server's to say: the actor and platform are the caller's (its
/// token's), the time is the server's clock, the id is fresh — a service cannot write an
/// entry in a user's name or date it.
pub(super) async fn audit(
    State(admin): State<AdminState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut entry: AuditEntry = serde_json::from_slice(&body).map_err(|e| {
        if serde_json::from_slice::<Value>(&body).is_err() {
            ApiError::bad_request("Invalid JSON body")
        } else {
            ApiError::bad_request(format!("Invalid audit entry: {e}"))
        }
    })?;
    for (field, value) in [
        ("path", entry.path.as_str()),
        ("action", &entry.action),
        ("reason", &entry.reason),
        ("service", entry.service.as_deref().unwrap_or_default()),
    ] {
        capped(field, value)?;
    }
    let stamp = AuditEntry::new("", "", &caller.actor());
    entry.id = stamp.id;
    entry.actor = stamp.actor;
    entry.platform = stamp.platform;
    entry.timestamp = admin.engine.now();
    let app = caller
        .app
        .clone()
        .or_else(|| header(&headers, APP_ID_HEADER).map(str::to_owned))
        .or_else(|| entry.service.clone());
    if let Some(app) = &app {
        if !caller.may_act_for(app) {
            return Err(forbidden(app, &caller));
        }
        if entry.service.as_deref().is_some_and(|s| s != app) {
            return Err(forbidden(
                entry.service.as_deref().unwrap_or_default(),
                &caller,
            ));
        }
        entry.path = audit_path(&entry.path, app);
        entry.service = Some(app.clone());
    }
    admin
        .engine
        .backend()
        .write_audit(&entry)
        .await
        .map_err(crate::EngineError::from)?;
    Ok(Json(json!({"ok": true})))
}

/// The path a service's audit entry is stored under: a route of the service under its
/// server key (`{app}:METHOD:/path`, whether it was sent with the prefix or without);
/// waygate's own records (`__...`) as sent; anything else — another service's key
/// included — under the caller's prefix, so that no service writes in another's name.
fn audit_path(path: &str, app: &str) -> String {
    if RouteKey::parse_in_service(path, app).is_some() || path.starts_with("__") {
        return path.to_owned();
    }
    match RouteKey::parse(path).filter(|key| key.service().is_none()) {
        Some(key) => key.in_service(app).to_string(),
        None => format!("{app}:{path}"),
    }
}

/// `GET api/sdk/events`: the stream of changes (see [`hub`](super::hub)), for the service
/// named by the caller's token, else `X-Waygate-App-Id`, else `?app_id=`; without any, every
/// service's. Ends when the server shuts down.
pub(super) async fn events(
    State(admin): State<AdminState>,
    caller: Caller,
    headers: HeaderMap,
    params: Params,
    Extension(sdk): Extension<SdkState>,
) -> Result<impl IntoResponse, ApiError> {
    let named = header(&headers, APP_ID_HEADER)
        .or_else(|| params.get("app_id"))
        .map(str::to_owned);
    let app = match (&caller.app, named) {
        (Some(bound), Some(named)) if *bound != named => {
            return Err(forbidden(&named, &caller));
        }
        (Some(bound), _) => Some(bound.clone()),
        (None, named) => named,
    };
    let connection = sdk.hub.connect(app.as_deref());
    // The flags and segments in force open the stream: a client that lost changes while it
    // was away (or, like the Python SDK's flag provider, never re-reads them after a
    // reconnect) is current from its first frames.
    let opening: Vec<Result<Event, Infallible>> = connection
        .hub()
        .flag_frames()
        .into_iter()
        .map(|text| Ok(Event::default().data(text)))
        .collect();
    let updates = stream::unfold(
        (connection, sdk.closing),
        |(mut connection, mut closing)| async move {
            if *closing.borrow() {
                return None;
            }
            let texts = loop {
                let texts: Vec<String> = tokio::select! {
                    frame = connection.frames.recv() => match frame {
                        Ok(frame) => frame
                            .for_app(connection.app.as_deref())
                            .map(str::to_owned)
                            .into_iter()
                            .collect(),
                        // Too slow to keep up: everything again, so nothing stays stale.
                        Err(RecvError::Lagged(_)) => resend(&connection),
                        Err(RecvError::Closed) => return None,
                    },
                    _ = closing.changed() => return None,
                };
                if !texts.is_empty() {
                    break texts;
                }
            };
            let events = texts
                .into_iter()
                .map(|text| Ok::<_, Infallible>(Event::default().data(text)));
            Some((stream::iter(events), (connection, closing)))
        },
    )
    .flatten();
    let updates = stream::iter(opening).chain(updates);
    // Nothing more once the token is revoked or expired: the stream ends.
    let updates = caller.while_token_holds(admin.engine.clone(), updates);
    Ok((
        [
            (http_header::CACHE_CONTROL, "no-cache"),
            (
                http_header::HeaderName::from_static("x-accel-buffering"),
                "no",
            ),
        ],
        Sse::new(updates).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive")),
    ))
}

fn resend(connection: &Connection) -> Vec<String> {
    connection.hub().everything(connection.app.as_deref())
}

#[cfg(test)]
mod tests {
    use super::audit_path;

    #[test]
    fn a_service_audits_in_its_own_name_only() {
        assert_eq!(audit_path("GET:/x", "pay"), "pay:GET:/x");
        assert_eq!(audit_path("pay:GET:/x", "pay"), "pay:GET:/x");
        assert_eq!(audit_path("/x", "pay"), "pay:/x");
        assert_eq!(audit_path("__global__", "pay"), "__global__");
        // Another service's key stays under the caller's prefix.
        assert_eq!(audit_path("orders:GET:/x", "pay"), "pay:orders:GET:/x");
        assert_eq!(audit_path("junk", "pay"), "pay:junk");
    }
}
