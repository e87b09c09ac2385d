//! The SDK's side of the wire: logging in, synchronising, following the stream,
//! reconnecting, and sending the service's own changes.

use super::backend::{lock, policy_key, Cache, Shared};
use super::Credentials;
use crate::backend::BackendError;
use crate::model::{AuditEntry, AuditQuery, GlobalMaintenanceConfig, RouteState, RouteStatus};
use crate::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy};
use crate::stored::Sentinel;
use crate::wire::{PolicyAction, StreamFrame};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest wait for any request but the stream.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A stream silent this long is dead (servers send a keep-alive every 15 s).
const STREAM_IDLE: Duration = Duration::from_secs(45);
/// A connection that lasted this long starts the backoff over.
const STABLE: Duration = Duration::from_secs(30);

/// Why a connection attempt ended.
#[derive(Debug)]
struct Ended(String);

impl<E: std::fmt::Display> From<E> for Ended {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

/// Connects, synchronises and follows the stream, forever, with backoff between attempts.
pub(super) async fn run(shared: Arc<Shared>) {
    let (first, max) = shared.config.backoff;
    let mut delay = first;
    // Whether the outage was logged (once per outage).
    let mut down = false;
    loop {
        let began = Instant::now();
        let mut synced = false;
        let ended = session(&shared, &mut synced, &mut down).await;
        shared.connected.send_replace(false);
        let reason = match ended {
            Ok(()) => "the server closed the stream".to_owned(),
            Err(Ended(reason)) => reason,
        };
        if !down {
            tracing::warn!(
                app_id = %shared.app(),
                server = %shared.config.base,
                %reason,
                "waygate sdk: the Waygate Server cannot be reached; enforcing the last known state (fail open) and reconnecting with backoff"
            );
            down = true;
        } else {
            tracing::debug!(app_id = %shared.app(), %reason, "waygate sdk: reconnection failed");
        }
        shared.failures.send_modify(|n| *n += 1);
        if synced && began.elapsed() >= STABLE {
            delay = first;
        }
        tokio::time::sleep(jitter(delay)).await;
        delay = (delay * 2).min(max);
    }
}

/// `delay` less a random part of up to half of it, so a fleet does not reconnect in step.
fn jitter(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let fraction = (hasher.finish() % 1000) as f64 / 2000.0;
    delay.mul_f64(1.0 - fraction)
}

/// One connection: the stream is opened first (so nothing changed during the
/// synchronisation is missed), then everything is read again, then events are applied until
/// the stream ends.
async fn session(shared: &Shared, synced: &mut bool, down: &mut bool) -> Result<(), Ended> {
    ensure_token(shared).await?;
    let mut stream = match open_stream(shared).await? {
        Opened::Stream(response) => response,
        Opened::Unauthorized if matches!(shared.config.credentials, Credentials::Login { .. }) => {
            // The token stopped being accepted (a restarted server with a new secret): once
            // more with a fresh one.
            *lock(&shared.token) = None;
            ensure_token(shared).await?;
            match open_stream(shared).await? {
                Opened::Stream(response) => response,
                Opened::Unauthorized => return Err(Ended("401 on the SDK stream".into())),
            }
        }
        Opened::Unauthorized => {
            return Err(Ended(
                "401 on the SDK stream: the server needs a token (give the SDK a login or a token)"
                    .into(),
            ))
        }
    };
    let routes = synchronise(shared).await?;
    *synced = true;
    shared.connected.send_replace(true);
    shared.syncs.send_modify(|n| *n += 1);
    if *down {
        tracing::info!(app_id = %shared.app(), routes, "waygate sdk: reconnected to the Waygate Server; state synchronised");
        *down = false;
    } else {
        tracing::info!(app_id = %shared.app(), server = %shared.config.base, routes, "waygate sdk: connected to the Waygate Server; state synchronised");
    }
    let mut lines = LineBuffer::default();
    loop {
        let chunk = tokio::time::timeout(STREAM_IDLE, stream.chunk())
            .await
            .map_err(|_| Ended("the stream went silent".into()))??;
        let Some(chunk) = chunk else {
            return Ok(());
        };
        for data in lines.push(&chunk) {
            match StreamFrame::from_json(&data) {
                Ok(frame) => apply(shared, frame),
                Err(error) => {
                    tracing::debug!(app_id = %shared.app(), %error, "waygate sdk: unreadable stream frame ignored");
                }
            }
        }
    }
}

enum Opened {
    Stream(reqwest::Response),
    Unauthorized,
}

async fn open_stream(shared: &Shared) -> Result<Opened, Ended> {
    let url = format!(
        "{}/api/sdk/events?app_id={}",
        shared.config.base,
        encode(shared.app())
    );
    let response = with_headers(shared, shared.http.get(url))
        .header("accept", "text/event-stream")
        .send()
        .await?;
    match response.status().as_u16() {
        200..=299 => Ok(Opened::Stream(response)),
        401 => Ok(Opened::Unauthorized),
        status => Err(Ended(format!("HTTP {status} on the SDK stream"))),
    }
}

/// Logs in when the SDK has a user and no token yet.
async fn ensure_token(shared: &Shared) -> Result<(), Ended> {
    let Credentials::Login { username, password } = &shared.config.credentials else {
        return Ok(());
    };
    if lock(&shared.token).is_some() {
        return Ok(());
    }
    let body = json!({
        "username": username,
        "password": password,
        "platform": "sdk",
        "app_id": shared.app(),
    });
    let response = with_headers(shared, shared.http.post(url(shared, "/api/auth/login")))
        .timeout(REQUEST_TIMEOUT)
        .json(&body)
        .send()
        .await?;
    match response.status().as_u16() {
        200 => {
            let body: Value = response.json().await?;
            let token = body
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| Ended("the login answer has no token".into()))?;
            *lock(&shared.token) = Some(token.to_owned());
            Ok(())
        }
        // The server has no auth: carry on without a token.
        501 => Ok(()),
        status => Err(Ended(format!("login refused (HTTP {status})"))),
    }
}

/// Reads everything the service needs from the server and replaces the picture. Registers
/// the service's routes first, so a server that lost them (restarted on an empty backend)
/// has them again. Returns how many routes the service has.
async fn synchronise(shared: &Shared) -> Result<usize, Ended> {
    let app = shared.app().to_owned();
    let mut routes = BTreeMap::new();
    let registrations: Vec<RouteState> = lock(&shared.registrations)
        .values()
        .map(|state| server_state(shared, state))
        .collect();
    if !registrations.is_empty() {
        let answer: Value = send_json(
            shared,
            reqwest::Method::POST,
            "/api/sdk/register",
            Some(&json!({"app_id": app, "states": registrations})),
        )
        .await?;
        for state in states_in(answer.get("states")) {
            if let Some(state) = shared.local_state(state) {
                routes.insert(state.path.clone(), state);
            }
        }
    }
    let listed: Value = get(shared, &format!("/api/routes?service={}", encode(&app))).await?;
    for state in states_in(Some(&listed)) {
        if let Some(state) = shared.local_state(state) {
            routes.insert(state.path.clone(), state);
        }
    }
    let global: GlobalMaintenanceConfig = get(shared, "/api/global").await?;
    let service: GlobalMaintenanceConfig = get(
        shared,
        &format!("/api/services/{}/maintenance", encode(&app)),
    )
    .await?;
    let global_rl = shared_policy(get(shared, "/api/global-rate-limit").await?);
    let service_rl = shared_policy(
        get(
            shared,
            &format!("/api/services/{}/rate-limit", encode(&app)),
        )
        .await?,
    );
    let listed: Value = get(
        shared,
        &format!("/api/rate-limits?service={}", encode(&app)),
    )
    .await?;
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
        record(Sentinel::ServiceMaintenance(&app), Some(&service))?,
        record(Sentinel::GlobalRateLimit, global_rl.as_ref())?,
        record(Sentinel::ServiceRateLimit(&app), service_rl.as_ref())?,
    ] {
        // An empty record: none is set.
        if !record.reason.is_empty() {
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

/// `policy` of a `{"enabled", "policy"}` answer.
fn shared_policy(answer: Value) -> Option<GlobalRateLimitPolicy> {
    serde_json::from_value(answer.get("policy")?.clone()).ok()
}

/// The states of a JSON list, skipping what is not one.
fn states_in(value: Option<&Value>) -> Vec<RouteState> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

/// A record as its sentinel state (`None`: the removed record).
fn record<T: Serialize>(sentinel: Sentinel<'_>, value: Option<&T>) -> Result<RouteState, Ended> {
    Ok(sentinel.encode(value)?)
}

/// A local state in the server's form.
fn server_state(shared: &Shared, state: &RouteState) -> RouteState {
    let mut state = state.clone();
    state.path = shared.server_key(&state.path);
    state.service = Some(shared.app().to_owned());
    state
}

/// Applies one stream frame to the picture.
fn apply(shared: &Shared, frame: StreamFrame) {
    match frame {
        StreamFrame::State { payload } => apply_state(shared, payload),
        StreamFrame::RateLimitPolicy {
            action,
            key,
            policy,
            service,
        } => {
            // waygate for Rust sends the service's policies with the paths it serves, and
            // says so.
            let local_form = service.as_deref() == Some(shared.app());
            let translate =
                |policy: RateLimitPolicy| match local_form && policy.path.starts_with('/') {
                    true => Some(policy),
                    false => shared.local_policy(policy),
                };
            let policy = match action {
                PolicyAction::Set => policy,
                PolicyAction::Delete => StreamFrame::policy_key(&key)
                    .map(|(method, path)| RateLimitPolicy::new(path, method, "")),
            };
            let Some((key, policy)) = policy
                .and_then(translate)
                .and_then(|policy| Some((policy_key(&policy)?, policy)))
            else {
                return;
            };
            shared.update(|cache| match action {
                PolicyAction::Set => {
                    cache.policies.insert(key, policy);
                }
                PolicyAction::Delete => {
                    cache.policies.remove(&key);
                }
            });
        }
        // Flags and anything newer: not enforced by this SDK.
        _ => {}
    }
}

fn apply_state(shared: &Shared, mut state: RouteState) {
    if let Some(sentinel) = shared.kept_record(&state.path) {
        state.service = sentinel.service().map(str::to_owned);
        shared.update(|cache| {
            // An empty record: the setting was removed.
            if state.reason.trim().is_empty() {
                cache.records.remove(&state.path);
            } else {
                cache.records.insert(state.path.clone(), state);
            }
        });
    } else if let Some(state) = shared.local_state(state) {
        shared.update(|cache| {
            cache.routes.insert(state.path.clone(), state);
        });
    }
}

/// Registers a route first seen at runtime (or declared and new to the server). Without a
/// connection it is kept here and registered by the next synchronisation.
pub(super) async fn register_one(shared: &Shared, state: RouteState) {
    let local = state.clone();
    let connected = *shared.connected.borrow();
    let answer = match connected {
        true => Some(
            send_json::<Value>(
                shared,
                reqwest::Method::POST,
                "/api/sdk/register",
                Some(&json!({"app_id": shared.app(), "states": [server_state(shared, &state)]})),
            )
            .await,
        ),
        false => None,
    };
    let in_force = match answer {
        Some(Ok(answer)) => states_in(answer.get("states"))
            .into_iter()
            .find_map(|s| shared.local_state(s)),
        Some(Err(error)) => {
            tracing::debug!(app_id = %shared.app(), key = %local.path, error = %error.0, "waygate sdk: route not registered; the next synchronisation will");
            None
        }
        None => None,
    };
    let state = in_force.unwrap_or(local);
    shared.update(|cache| {
        cache.routes.insert(state.path.clone(), state);
    });
}

/// Sends a change of one of the service's routes to the server, and takes its answer.
pub(super) async fn change_route(
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
    let path = format!("/api/routes/{key}/{action}");
    let state: RouteState = send_json(shared, reqwest::Method::POST, &path, Some(&body))
        .await
        .map_err(backend_error)?;
    if let Some(state) = shared.local_state(state) {
        shared.update(|cache| {
            cache.routes.insert(state.path.clone(), state);
        });
    }
    Ok(())
}

/// Sends the service's own maintenance to the server.
pub(super) async fn set_service_maintenance(
    shared: &Shared,
    config: &GlobalMaintenanceConfig,
) -> Result<(), BackendError> {
    let app = shared.app();
    let path = match config.enabled {
        true => format!("/api/services/{}/maintenance/enable", encode(app)),
        false => format!("/api/services/{}/maintenance/disable", encode(app)),
    };
    let config: GlobalMaintenanceConfig =
        send_json(shared, reqwest::Method::POST, &path, Some(config))
            .await
            .map_err(backend_error)?;
    let state = record(Sentinel::ServiceMaintenance(app), Some(&config)).map_err(backend_error)?;
    shared.update(|cache| {
        cache.records.insert(state.path.clone(), state);
    });
    Ok(())
}

/// Sends global maintenance to the server (a user's token can; a service's cannot).
pub(super) async fn set_global_maintenance(
    shared: &Shared,
    config: &GlobalMaintenanceConfig,
) -> Result<(), BackendError> {
    let path = match config.enabled {
        true => "/api/global/enable",
        false => "/api/global/disable",
    };
    let config: GlobalMaintenanceConfig =
        send_json(shared, reqwest::Method::POST, path, Some(config))
            .await
            .map_err(backend_error)?;
    let state = record(Sentinel::GlobalMaintenance, Some(&config)).map_err(backend_error)?;
    shared.update(|cache| {
        cache.records.insert(state.path.clone(), state);
    });
    Ok(())
}

/// The service's audit entries, from the server.
pub(super) async fn audit_log(
    shared: &Shared,
    query: &AuditQuery,
) -> Result<Vec<AuditEntry>, BackendError> {
    let mut path = format!(
        "/api/audit?service={}&limit={}",
        encode(shared.app()),
        query.limit
    );
    if let Some(route) = &query.route {
        path.push_str(&format!("&route={}", encode(&shared.server_key(route))));
    }
    get(shared, &path).await.map_err(backend_error)
}

fn backend_error(error: Ended) -> BackendError {
    BackendError::Unavailable(error.0)
}

fn url(shared: &Shared, path: &str) -> String {
    format!("{}{path}", shared.config.base)
}

fn with_headers(shared: &Shared, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let request = request.header("x-waygate-app-id", shared.app());
    match lock(&shared.token).clone() {
        Some(token) => request.header("x-waygate-token", token),
        None => request,
    }
}

async fn get<T: DeserializeOwned>(shared: &Shared, path: &str) -> Result<T, Ended> {
    send_json(shared, reqwest::Method::GET, path, None::<&()>).await
}

/// One request; a non-2xx answer is an error carrying the server's `error` text.
async fn send_json<T: DeserializeOwned>(
    shared: &Shared,
    method: reqwest::Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, Ended> {
    let mut request = with_headers(shared, shared.http.request(method, url(shared, path)))
        .timeout(REQUEST_TIMEOUT);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        return Err(Ended(format!("{path}: {message}")));
    }
    Ok(response.json().await?)
}

/// Percent-encodes everything but unreserved characters (for a path segment or a query
/// value).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Splits an SSE byte stream into the `data` of its events (several `data:` lines join
/// with `\n`; comments and other fields are skipped).
#[derive(Debug, Default)]
struct LineBuffer {
    pending: Vec<u8>,
    data: Option<String>,
}

impl LineBuffer {
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    events.push(data);
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                let value = value.strip_prefix(' ').unwrap_or(value);
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames() {
        let mut lines = LineBuffer::default();
        assert!(lines.push(b": keepalive\n\nda").is_empty());
        assert_eq!(lines.push(b"ta: {\"a\":1}\n\n"), vec!["{\"a\":1}"]);
        assert_eq!(
            lines.push(b"data: x\r\ndata: y\r\n\r\ndata:z\n\n"),
            vec!["x\ny", "z"]
        );
    }

    #[test]
    fn jitter_stays_within_half() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(2));
            assert!(
                d <= Duration::from_secs(2) && d >= Duration::from_secs(1),
                "{d:?}"
            );
        }
        assert_eq!(encode("pay-svc_1"), "pay-svc_1");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
