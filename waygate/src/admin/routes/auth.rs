//! `api/auth/*`: login, logout, who am I.

use super::super::body::JsonObject;
use super::super::error::ApiError;
use super::super::extract::{Caller, ClientIp};
use super::super::AdminState;
use super::ok;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// `POST api/auth/login`: `{"username", "password", "platform"?}` → a token. Throttled:
/// after too many failures for the username or from the client, `429` with `Retry-After`.
pub(super) async fn login(
    State(admin): State<AdminState>,
    headers: HeaderMap,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Some(auth) = &admin.auth else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "Auth not configured on this server",
        ));
    };
    let body = JsonObject::required(&body)?;
    let username = body.string("username")?.unwrap_or_default();
    let password = body.long_string("password")?.unwrap_or_default();
    // `sdk` tokens live longer; anything unknown is `cli`, as in the Python original.
    let platform = body
        .string("platform")?
        .filter(|p| matches!(*p, "cli" | "sdk" | "dashboard"))
        .unwrap_or("cli");
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::bad_request("username and password are required"));
    }
    match admin
        .attempt_login(auth, username, password, client, platform)
        .await
    {
        Ok(()) => {}
        Err(refused) => match refused.retry_after() {
            None => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Invalid credentials",
                ))
            }
            Some(seconds) => return Err(ApiError::too_many_logins(seconds)),
        },
    }
    // A service's token is bound to the service it logs in for (`app_id` in the body, or
    // the `X-Waygate-App-Id` header every SDK sends): it may change that service's routes
    // only.
    let app = match platform {
        "sdk" => body
            .string("app_id")?
            .or_else(|| super::super::extract::header(&headers, "x-waygate-app-id"))
            .filter(|app| !app.is_empty()),
        _ => None,
    };
    let (token, claims) = admin
        .tokens
        .issue_for(username, platform, app, admin.engine.now());
    Ok(Json(json!({
        "token": token,
        "username": username,
        "expires_at": python_isoformat(claims.expires_at()),
    })))
}

/// `POST api/auth/logout`: revokes the presented token, for every instance sharing the
/// backend. Public: answers `{"ok": true}` with or without a (valid) token.
pub(super) async fn logout(
    State(admin): State<AdminState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    if let Some(claims) = admin.verified(&headers) {
        admin
            .engine
            .revoke_token(&claims.jti, claims.expires_at())
            .await?;
    }
    Ok(ok())
}

/// `GET api/auth/me`.
pub(super) async fn me(caller: Caller) -> Json<Value> {
    Json(json!({"username": caller.name, "platform": caller.platform}))
}

/// Python's `datetime.isoformat()` of a UTC time: `+00:00`, microseconds only when not zero
/// (the CLI reads it back with `datetime.fromisoformat`).
fn python_isoformat(at: DateTime<Utc>) -> String {
    let format = if at.timestamp_subsec_micros() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    at.to_rfc3339_opts(format, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isoformat_like_python() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(
            python_isoformat(at("2026-11-26T18:44:52.112632Z")),
            "2026-11-26T18:44:52.112632+00:00"
        );
        assert_eq!(
            python_isoformat(at("2100-01-01T00:00:00Z")),
            "2100-01-01T00:00:00+00:00"
        );
        assert_eq!(
            python_isoformat(at("2100-01-01T00:00:00.5Z")),
            "2100-01-01T00:00:00.500000+00:00"
        );
    }
}
