//! `api/flags/*` and `api/segments/*` (upstream §5.8): flags and segments, with optimistic
//! concurrency — `GET` answers an `ETag`, and a `PUT` or `PATCH` with `If-Match` that no
//! longer matches answers `412` (clients that send none, like the Python CLI, work as
//! before).

use super::super::body::{etag_of, JsonObject};
use super::super::error::ApiError;
use super::super::extract::Caller;
use super::super::AdminState;
use crate::flags::{EvaluationContext, FeatureFlag, Segment};
use crate::EngineError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

/// The `ETag` of a stored flag or segment: a digest of its JSON.
/// `value` as JSON with its `ETag`.
fn tagged<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let mut response = (status, Json(value)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&etag_of(value)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// `412` unless `If-Match` (when sent) names the current version (or `*` when it exists).
fn check_if_match<T: Serialize>(
    headers: &HeaderMap,
    current: Option<&T>,
    what: &str,
) -> Result<(), ApiError> {
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let current_tag = current.map(etag_of);
    let matches = wanted
        .split(',')
        .map(str::trim)
        .any(|tag| match &current_tag {
            Some(current) => {
                tag == "*" || tag == current || tag.strip_prefix("W/") == Some(current)
            }
            None => false,
        });
    if matches {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        format!("{what} changed since it was read (If-Match does not match its ETag); read it again and retry"),
    ))
}

fn not_found(kind: &str, key: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("{kind} '{key}' not found"))
}

/// An engine refusal as the API says it: invalid input is `400` with `prefix`.
fn refused(error: EngineError, prefix: &str) -> ApiError {
    match error {
        EngineError::Invalid { message, .. } => ApiError::bad_request(format!("{prefix}{message}")),
        other => other.into(),
    }
}

/// A JSON body, or `400 Invalid JSON body`.
fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|_| ApiError::bad_request("Invalid JSON body"))
}

/// A `PUT` body for the flag or segment `key`: a JSON object whose `key`, when present,
/// must be `key` (`400 "{Kind} key in URL and body must match"`), read as a `T`.
fn named_body<T: serde::de::DeserializeOwned>(
    body: &Bytes,
    key: &str,
    kind: &str,
    what: &str,
) -> Result<T, ApiError> {
    let invalid =
        |detail: String| ApiError::bad_request(format!("Invalid {what} definition: {detail}"));
    let mut value = json_body(body)?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| invalid("the body must be an object".to_owned()))?;
    match object.get("key").and_then(Value::as_str) {
        Some(named) if named != key => {
            return Err(ApiError::bad_request(format!(
                "{kind} key in URL and body must match"
            )))
        }
        _ => {
            object.insert("key".to_owned(), Value::String(key.to_owned()));
        }
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

/// `GET api/flags`: every flag, by key.
pub(super) async fn list(State(admin): State<AdminState>) -> Json<Vec<FeatureFlag>> {
    let flags = admin.engine.flags();
    let mut all: Vec<FeatureFlag> = flags.flags().cloned().collect();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    Json(all)
}

/// `GET api/flags/stale`: stored flags no running code declares (`stale`), flags running
/// code declares that the store lacks (`missing`), and for every flag who declares it and
/// when each service last evaluated it (see [`StaleReport`](crate::flags::StaleReport)).
/// (A flag keyed `stale` is read at `api/flags/stale` no more: this report answers there.)
pub(super) async fn stale(State(admin): State<AdminState>) -> Json<crate::flags::StaleReport> {
    Json(admin.engine.stale_flags())
}

/// `POST api/flags`: creates a flag; `409` when the key is taken.
pub(super) async fn create(
    State(admin): State<AdminState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let flag: FeatureFlag = serde_json::from_value(json_body(&body)?)
        .map_err(|e| ApiError::bad_request(format!("Invalid flag definition: {e}")))?;
    if admin.engine.flags().flag(&flag.key).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Flag '{}' already exists. Use PUT to update.", flag.key),
        ));
    }
    let saved = admin
        .engine
        .save_flag(flag, caller.actor())
        .await
        .map_err(|e| refused(e, "Invalid flag definition: "))?;
    Ok(tagged(StatusCode::CREATED, &saved))
}

/// `GET api/flags/{key}`.
pub(super) async fn get(
    State(admin): State<AdminState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let flags = admin.engine.flags();
    let flag = flags.flag(&key).ok_or_else(|| not_found("Flag", &key))?;
    Ok(tagged(StatusCode::OK, flag))
}

/// `PUT api/flags/{key}`: replaces (or creates) the flag.
pub(super) async fn replace(
    State(admin): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let flag: FeatureFlag = named_body(&body, &key, "Flag", "flag")?;
    check_if_match(&headers, admin.engine.flags().flag(&key), "the flag")?;
    let saved = admin
        .engine
        .save_flag(flag, caller.actor())
        .await
        .map_err(|e| refused(e, "Invalid flag definition: "))?;
    Ok(tagged(StatusCode::OK, &saved))
}

/// `PATCH api/flags/{key}`: merges the body's fields (`key` and `type` ignored) into the
/// flag, then checks it whole.
pub(super) async fn patch(
    State(admin): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let flags = admin.engine.flags();
    let current = flags.flag(&key).ok_or_else(|| not_found("Flag", &key))?;
    let changes = JsonObject::required(&body)?.into_fields();
    check_if_match(&headers, Some(current), "the flag")?;
    let mut merged =
        serde_json::to_value(current).map_err(|e| ApiError::bad_request(e.to_string()))?;
    for (field, value) in changes {
        if field != "key" && field != "type" {
            merged[field] = value;
        }
    }
    let flag: FeatureFlag = serde_json::from_value(merged)
        .map_err(|e| ApiError::bad_request(format!("Invalid patch: {e}")))?;
    let saved = admin
        .engine
        .save_flag(flag, caller.actor())
        .await
        .map_err(|e| refused(e, ""))?;
    Ok(tagged(StatusCode::OK, &saved))
}

/// `DELETE api/flags/{key}`.
pub(super) async fn delete(
    State(admin): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match admin.engine.delete_flag(&key, caller.actor()).await {
        Ok(()) => Ok(Json(json!({"ok": true, "deleted": key}))),
        Err(EngineError::NotFound { .. }) => Err(not_found("Flag", &key)),
        Err(other) => Err(other.into()),
    }
}

/// `POST api/flags/{key}/enable`.
pub(super) async fn enable(
    state: State<AdminState>,
    caller: Caller,
    key: Path<String>,
) -> Result<Response, ApiError> {
    switch(state, caller, key, true).await
}

/// `POST api/flags/{key}/disable`.
pub(super) async fn disable(
    state: State<AdminState>,
    caller: Caller,
    key: Path<String>,
) -> Result<Response, ApiError> {
    switch(state, caller, key, false).await
}

async fn switch(
    State(admin): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    enabled: bool,
) -> Result<Response, ApiError> {
    match admin
        .engine
        .set_flag_enabled(&key, enabled, caller.actor())
        .await
    {
        Ok(flag) => Ok(tagged(StatusCode::OK, &flag)),
        Err(EngineError::NotFound { .. }) => Err(not_found("Flag", &key)),
        Err(other) => Err(other.into()),
    }
}

/// `POST api/flags/{key}/evaluate`, body `{"context"?: {..}, "default"?}`: what the flag
/// serves that context, and why. The context may be `null` or absent (`anonymous`), and an
/// OpenFeature `targetingKey` is its key (the Python original answers `500` for `null` and
/// drops `targetingKey`).
pub(super) async fn evaluate(
    State(admin): State<AdminState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::optional(&body)?;
    let mut context = match body.value("context") {
        Some(Value::Object(fields)) => fields.clone(),
        None => serde_json::Map::new(),
        Some(_) => return Err(ApiError::bad_request("context must be an object")),
    };
    if !context.contains_key("key") {
        if let Some(targeting) = context.remove("targetingKey") {
            context.insert("key".to_owned(), targeting);
        }
    }
    let ctx: EvaluationContext = serde_json::from_value(Value::Object(context))
        .map_err(|e| ApiError::bad_request(format!("invalid context: {e}")))?;
    let flags = admin.engine.flags();
    let resolution = flags
        .explain(&key, &ctx)
        .ok_or_else(|| not_found("Flag", &key))?;
    Ok(Json(json!({
        "flag_key": key,
        "value": resolution.value,
        "variation": resolution.variation,
        "reason": resolution.reason.as_str(),
        "rule_id": resolution.rule_id,
        "prerequisite_key": resolution.prerequisite_key,
        "error_message": resolution.error_message,
    })))
}

/// `GET api/segments`: every segment, by key.
pub(super) async fn list_segments(State(admin): State<AdminState>) -> Json<Vec<Segment>> {
    let flags = admin.engine.flags();
    let mut all: Vec<Segment> = flags.segments().cloned().collect();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    Json(all)
}

/// `POST api/segments`: creates a segment; `409` when the key is taken.
pub(super) async fn create_segment(
    State(admin): State<AdminState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let segment: Segment = serde_json::from_value(json_body(&body)?)
        .map_err(|e| ApiError::bad_request(format!("Invalid segment definition: {e}")))?;
    if admin.engine.flags().segment(&segment.key).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Segment '{}' already exists. Use PUT to update.",
                segment.key
            ),
        ));
    }
    let saved = admin
        .engine
        .save_segment(segment, caller.actor())
        .await
        .map_err(|e| refused(e, "Invalid segment definition: "))?;
    Ok(tagged(StatusCode::CREATED, &saved))
}

/// `GET api/segments/{key}`.
pub(super) async fn get_segment(
    State(admin): State<AdminState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let flags = admin.engine.flags();
    let segment = flags
        .segment(&key)
        .ok_or_else(|| not_found("Segment", &key))?;
    Ok(tagged(StatusCode::OK, segment))
}

/// `PUT api/segments/{key}`: replaces (or creates) the segment.
pub(super) async fn replace_segment(
    State(admin): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let segment: Segment = named_body(&body, &key, "Segment", "segment")?;
    check_if_match(&headers, admin.engine.flags().segment(&key), "the segment")?;
    let saved = admin
        .engine
        .save_segment(segment, caller.actor())
        .await
        .map_err(|e| refused(e, "Invalid segment definition: "))?;
    Ok(tagged(StatusCode::OK, &saved))
}

/// `DELETE api/segments/{key}`.
pub(super) async fn delete_segment(
    State(admin): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match admin.engine.delete_segment(&key, caller.actor()).await {
        Ok(()) => Ok(Json(json!({"ok": true, "deleted": key}))),
        Err(EngineError::NotFound { .. }) => Err(not_found("Segment", &key)),
        Err(other) => Err(other.into()),
    }
}
