//! OpenFeature's Remote Evaluation Protocol (OFREP 0.3.0): flags evaluated here for the
//! OpenFeature SDK of any language, through its OFREP provider.
//!
//! | method and path | answers |
//! |---|---|
//! | `POST ofrep/v1/evaluate/flags/{key}` | `{"key", "value", "reason", "variant", "metadata"}`; `404` `FLAG_NOT_FOUND` |
//! | `POST ofrep/v1/evaluate/flags` | every flag: `{"flags": [..], "metadata", "eventStreams"}` with an `ETag`; `304` when `If-None-Match` names it |
//! | `GET ofrep/v1/sse` | SSE: `{"type": "refetchEvaluation", "etag"}` whenever a flag or segment changes |
//!
//! The body is `{"context": {"targetingKey": .., <attribute>: ..}}`, the context optional
//! (the key is then `anonymous`): see [`EvaluationContext::from_openfeature`]. A body that
//! is not JSON answers `400` `PARSE_ERROR`, a context that is not an object or whose named
//! fields are not strings `400` `INVALID_CONTEXT`, each with `errorDetails`.
//!
//! Reasons: a target or rule matched → `TARGETING_MATCH`; the fallthrough's percentage
//! rollout → `SPLIT`; a flag without targets or rules → `STATIC`; the fallthrough of a flag
//! whose targets and rules did not match → `DEFAULT`; a disabled flag or a failed
//! prerequisite → `DISABLED` (with the off variation's value). A float flag's value is
//! always a JSON float (`1.0`, never `1`): typed clients check it.
//!
//! Auth, when the admin has it: `Authorization: Bearer <token>` (or `X-Waygate-Token`, or
//! `X-API-Key`) with any token the admin issued — a user's, a service's, or an
//! evaluation-only key (`waygate token create --evaluate`), which can do nothing else and is
//! safe to ship to browsers and apps. `401` without. The session cookie is not accepted
//! here. Browsers on other origins need [`ofrep_cors`](super::WaygateAdmin::ofrep_cors).

use super::body::etag_of;
use super::AdminState;
use crate::flags::{EvaluationContext, FlagSet, FlagType, Reason};
use crate::EngineEvent;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Where the protocol lives, under the admin's mount point.
pub(crate) const PREFIX: &str = "/ofrep/";
/// How often the event stream sends a comment when nothing changes.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// What the bulk answer tells clients about the stream: reconnect after this long hidden.
const INACTIVITY_DELAY_SECS: u64 = 120;

/// The protocol's three paths.
pub(crate) fn router() -> Router<AdminState> {
    Router::new()
        .route("/ofrep/v1/evaluate/flags/{key}", post(evaluate_one))
        .route("/ofrep/v1/evaluate/flags", post(evaluate_all))
        .route("/ofrep/v1/sse", get(events))
}

/// An OFREP error: `{"key"?, "errorCode", "errorDetails"}` with its status.
#[derive(Debug)]
struct OfrepError {
    status: StatusCode,
    key: Option<String>,
    code: &'static str,
    details: String,
}

impl OfrepError {
    fn bad_request(code: &'static str, details: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            key: None,
            code,
            details: details.into(),
        }
    }

    fn for_flag(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}

impl IntoResponse for OfrepError {
    fn into_response(self) -> Response {
        let mut body = json!({"errorCode": self.code, "errorDetails": self.details});
        if let Some(key) = self.key {
            body["key"] = key.into();
        }
        (self.status, Json(body)).into_response()
    }
}

/// The request's context: `{}`, `{"context": null}` and no body at all are the anonymous
/// context.
fn context_of(body: &[u8]) -> Result<EvaluationContext, OfrepError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(EvaluationContext::default());
    }
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| OfrepError::bad_request("PARSE_ERROR", format!("invalid JSON: {e}")))?;
    let Value::Object(mut request) = parsed else {
        return Err(OfrepError::bad_request(
            "PARSE_ERROR",
            "the body must be a JSON object",
        ));
    };
    match request.remove("context") {
        None | Some(Value::Null) => Ok(EvaluationContext::default()),
        Some(Value::Object(fields)) => EvaluationContext::from_openfeature(&fields)
            .map_err(|e| OfrepError::bad_request("INVALID_CONTEXT", e)),
        Some(_) => Err(OfrepError::bad_request(
            "INVALID_CONTEXT",
            "context must be an object",
        )),
    }
}

/// A success body: `{"key", "value", "reason", "variant", "metadata"}`, borrowed from the set.
#[derive(Serialize)]
struct Evaluated<'a> {
    key: &'a str,
    value: Cow<'a, Value>,
    reason: &'static str,
    variant: &'a str,
    metadata: Metadata,
}

/// Empty metadata (`{}`).
#[derive(Serialize)]
struct Metadata {}

/// One flag of a bulk answer: its evaluation, or why it has none.
#[derive(Serialize)]
#[serde(untagged)]
enum BulkItem<'a> {
    Evaluated(Evaluated<'a>),
    Failed {
        key: &'a str,
        #[serde(rename = "errorCode")]
        code: &'static str,
        #[serde(rename = "errorDetails")]
        details: String,
    },
}

/// What flag `key` serves `ctx`, as OFREP's success body, or its failure.
fn evaluation<'a>(
    flags: &'a FlagSet,
    key: &'a str,
    ctx: &EvaluationContext,
) -> Result<Evaluated<'a>, OfrepError> {
    let not_found = || OfrepError {
        status: StatusCode::NOT_FOUND,
        key: Some(key.to_owned()),
        code: "FLAG_NOT_FOUND",
        details: format!("flag `{key}` not found"),
    };
    if flags.is_pending() {
        return Err(OfrepError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            key: Some(key.to_owned()),
            code: "GENERAL",
            details: "flags are not loaded yet (this service has not synced with its server)"
                .into(),
        });
    }
    let flag = flags.flag(key).ok_or_else(not_found)?;
    let resolution = flags.evaluate(key, ctx).ok_or_else(not_found)?;
    if resolution.reason == Reason::Error {
        let details = resolution.error_message.unwrap_or("evaluation failed");
        return Err(OfrepError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            key: Some(key.to_owned()),
            code: "GENERAL",
            details: details.to_owned(),
        });
    }
    let value = match (flag.flag_type, resolution.value.as_f64()) {
        // Typed clients tell a float from an integer by its JSON form.
        (FlagType::Float, Some(number)) => Cow::Owned(json!(number)),
        _ => Cow::Borrowed(resolution.value),
    };
    Ok(Evaluated {
        key,
        value,
        reason: flags.open_feature_reason(key, &resolution),
        variant: resolution.variation,
        metadata: Metadata {},
    })
}

/// `POST ofrep/v1/evaluate/flags/{key}`.
async fn evaluate_one(
    State(admin): State<AdminState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Response, OfrepError> {
    let ctx = context_of(&body).map_err(|e| e.for_flag(&key))?;
    let flags = admin.engine.flags();
    Ok(Json(evaluation(&flags, &key, &ctx)?).into_response())
}

/// `POST ofrep/v1/evaluate/flags`: every flag for the context, sorted by key; a flag that
/// fails is listed with its error. The `ETag` is a digest of the answers, so `If-None-Match`
/// with it answers `304` until what this context gets changes.
async fn evaluate_all(
    State(admin): State<AdminState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OfrepError> {
    let ctx = context_of(&body)?;
    let flags = admin.engine.flags();
    let mut keys: Vec<&str> = flags.flags().map(|flag| flag.key.as_str()).collect();
    keys.sort_unstable();
    let evaluated: Vec<BulkItem<'_>> = keys
        .iter()
        .map(|key| match evaluation(&flags, key, &ctx) {
            Ok(success) => BulkItem::Evaluated(success),
            Err(failure) => BulkItem::Failed {
                key,
                code: failure.code,
                details: failure.details,
            },
        })
        .collect();
    // Serialised once: hashed for the ETag, and sent as is.
    let list = serde_json::to_vec(&evaluated).unwrap_or_else(|_| b"[]".to_vec());
    let etag = format!("\"{}\"", super::token::hex(&Sha256::digest(&list)[..12]));
    if if_none_match(&headers, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_etag(&mut response, &etag);
        return Ok(response);
    }
    // The stream beside this path, wherever the admin is mounted.
    let stream_uri = uri
        .path()
        .strip_suffix("/evaluate/flags")
        .map(|base| format!("{base}/sse"))
        .unwrap_or_else(|| "/ofrep/v1/sse".to_owned());
    let streams = json!([{
        "type": "sse",
        "endpoint": {"requestUri": stream_uri},
        "inactivityDelaySec": INACTIVITY_DELAY_SECS,
    }]);
    let mut body = Vec::with_capacity(list.len() + 160);
    body.extend_from_slice(b"{\"flags\":");
    body.extend_from_slice(&list);
    body.extend_from_slice(b",\"metadata\":{},\"eventStreams\":");
    body.extend_from_slice(streams.to_string().as_bytes());
    body.push(b'}');
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    set_etag(&mut response, &etag);
    Ok(response)
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

fn set_etag(response: &mut Response, etag: &str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

/// A digest of every flag and segment: what changes when any of them does.
fn config_etag(flags: &FlagSet) -> String {
    let mut all: Vec<_> = flags.flags().collect();
    all.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    let mut segments: Vec<_> = flags.segments().collect();
    segments.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    etag_of(&(all, segments))
}

/// `GET ofrep/v1/sse`: `data: {"type": "refetchEvaluation", "etag": ..}` each time a flag
/// or segment changes (here or, through the backend, on another instance); a comment every
/// 15 s otherwise. Ends when the caller's token is revoked or expires.
async fn events(
    State(admin): State<AdminState>,
    caller: super::extract::Caller,
) -> impl IntoResponse {
    let engine = admin.engine.clone();
    let receiver = admin.engine.subscribe();
    let refetches = stream::unfold((admin, receiver), |(admin, mut receiver)| async move {
        loop {
            match receiver.recv().await {
                Ok(EngineEvent::FlagsChanged | EngineEvent::Reloaded)
                | Err(RecvError::Lagged(_)) => break,
                Ok(_) => {}
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
        let frame = json!({
            "type": "refetchEvaluation",
            "etag": config_etag(&admin.engine.flags()),
        });
        let event = Event::default().data(frame.to_string());
        Some((Ok::<_, Infallible>(event), (admin, receiver)))
    })
    .boxed();
    let refetches = caller.while_token_holds(engine, refetches);
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Sse::new(refetches).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive")),
    )
}
