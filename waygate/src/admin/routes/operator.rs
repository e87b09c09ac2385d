//! Operator tools: a route's rollout percentage, and maintenance bypass tokens.

use super::super::body::JsonObject;
use super::super::bypass::{BYPASS_COOKIE, MAX_BYPASS_TTL};
use super::super::error::ApiError;
use super::super::extract::{Caller, PathKey};
use super::super::AdminState;
use crate::model::RouteState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::SecondsFormat;
use serde_json::{json, Value};
use std::time::Duration;

/// `POST api/routes/{path_key}/rollout`, body `{"percentage": 0..=100}`.
pub(super) async fn rollout(
    State(admin): State<AdminState>,
    caller: Caller,
    PathKey(key): PathKey,
    body: Bytes,
) -> Result<Json<RouteState>, ApiError> {
    let body = JsonObject::required(&body)?;
    let percentage = match body.count("percentage") {
        Ok(Some(percentage)) if percentage <= 100 => percentage as u8,
        Ok(None) => return Err(ApiError::bad_request("percentage is required (0 to 100)")),
        _ => {
            return Err(ApiError::bad_request(
                "percentage must be a whole number from 0 to 100",
            ))
        }
    };
    let state = admin
        .engine
        .set_rollout_percentage(&key, percentage, caller.actor())
        .await?;
    Ok(Json(state))
}

/// `POST api/bypass`, body `{"ttl_seconds"?: 3600, "reason"?}` → `{"token", "expires_at",
/// "header"}`. Audited (the reason and expiry, never the token).
pub(super) async fn create_bypass(
    State(admin): State<AdminState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::optional(&body)?;
    let max = MAX_BYPASS_TTL.as_secs();
    let ttl = match body.count("ttl_seconds") {
        Ok(None) => 3600,
        Ok(Some(ttl)) if (1..=max).contains(&u64::from(ttl)) => u64::from(ttl),
        _ => {
            return Err(ApiError::bad_request(format!(
                "ttl_seconds must be a whole number from 1 to {max} (30 days)"
            )))
        }
    };
    let reason = body.string("reason")?.unwrap_or_default();
    let issued = admin.bypass.issue(Duration::from_secs(ttl));
    admin
        .engine
        .note_bypass_issued(reason, issued.expires_at, caller.actor())
        .await;
    Ok(Json(json!({
        "token": issued.token,
        "expires_at": issued.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "header": "X-Waygate-Bypass",
    })))
}

/// `POST api/bypass/revoke`: voids every bypass token issued so far, on every instance
/// sharing the backend → `{"ok": true, "revoked_before"}`.
pub(super) async fn revoke_bypass(
    State(admin): State<AdminState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let before = admin.engine.revoke_bypass_tokens(caller.actor()).await?;
    Ok(Json(json!({
        "ok": true,
        "revoked_before": before.to_rfc3339_opts(SecondsFormat::Micros, true),
    })))
}

/// `GET bypass/{token}` (no admin login needed: the token is the credential): sets the
/// `waygate_bypass` cookie for the token's lifetime and sends the browser to the site's root.
/// An invalid or expired token gets `404` and no cookie.
pub(super) async fn visit_bypass(
    State(admin): State<AdminState>,
    Path(token): Path<String>,
) -> Response {
    let now = admin.engine.now();
    let Some(expires_at) = admin.bypass.verify(&token) else {
        return ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let max_age = (expires_at - now).num_seconds().max(0);
    // The token is base64url and hex: nothing in it needs quoting in a cookie.
    let cookie =
        format!("{BYPASS_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}
