//! `api/auth/*`: login, logout, who am I.

use super::super::body::{capped, JsonObject};
use super::super::error::ApiError;
use super::super::extract::{Caller, ClientIp};
use super::super::service_tokens::Holder;
use super::super::AdminState;
use super::ok;
use crate::stored::RouteKey;
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
    // `sdk` tokens live longer; anything else is `cli`, as the spec says (§5.2): the
    // dashboard's sessions come from its own login page only.
    let platform = match body.string("platform")? {
        Some("sdk") => "sdk",
        _ => "cli",
    };
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::bad_request("username and password are required"));
    }
    // A service's token is bound to the service it logs in for (`app_id` in the body, or
    // the `X-Waygate-App-Id` header every SDK sends): it acts for that service only. One
    // that names none is refused before the password is checked.
    let app = match platform {
        "sdk" => Some(service_of_login(&body, &headers)?),
        _ => None,
    };
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
    let (token, claims) = admin
        .tokens
        .issue_for(username, platform, app, admin.engine.now());
    Ok(Json(json!({
        "token": token,
        "username": username,
        "expires_at": python_isoformat(claims.expires_at()),
    })))
}

/// The service an `sdk` login is for: the body's `app_id`, else the `X-Waygate-App-Id`
/// header; a `400` when neither names a valid service.
fn service_of_login<'a>(body: &'a JsonObject, headers: &'a HeaderMap) -> Result<&'a str, ApiError> {
    let named = match body.string("app_id")?.filter(|app| !app.is_empty()) {
        Some(app) => Some(app),
        None => super::super::extract::header(headers, "x-waygate-app-id")
            .map(|app| capped("X-Waygate-App-Id", app))
            .transpose()?,
    };
    let Some(app) = named else {
        return Err(ApiError::bad_request(
            "an sdk login must name its service: send app_id in the body or the \
             X-Waygate-App-Id header (a service token acts for one service only)",
        ));
    };
    if !RouteKey::is_service_name(app) {
        return Err(ApiError::bad_request(
            "app_id must be a service name: no `:`, `/`, spaces or control characters, not all capitals",
        ));
    }
    Ok(app)
}

/// `POST api/tokens`, body `{"service", "ttl_seconds"?}` → `201 {"token", "service",
/// "expires_at"}`: a token for a service; or `{"evaluate": true, "name"?, "ttl_seconds"?}`
/// → `201 {"token", "name", "scope": "evaluate", "expires_at"}`: an evaluation-only key for
/// OFREP clients (`name`, default `ofrep-client`, says whom it was for in the audit log).
/// See [`AdminState::create_token`]. Users only (a service token cannot make tokens).
pub(super) async fn create_service_token(
    State(admin): State<AdminState>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = JsonObject::required(&body)?;
    let lifetime = body
        .count("ttl_seconds")?
        .map(|secs| std::time::Duration::from_secs(secs.into()));
    if body.bool("evaluate")?.unwrap_or(false) {
        let name = body.string("name")?.unwrap_or("ofrep-client");
        let issued = admin
            .create_token(Holder::Evaluator(name), lifetime, &caller.actor())
            .await?;
        return Ok((
            StatusCode::CREATED,
            Json(json!({
                "token": issued.token,
                "name": name,
                "scope": "evaluate",
                "expires_at": python_isoformat(issued.expires_at),
            })),
        ));
    }
    let service = body.string("service")?.unwrap_or_default();
    let issued = admin
        .create_token(Holder::Service(service), lifetime, &caller.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": issued.token,
            "service": service,
            "expires_at": python_isoformat(issued.expires_at),
        })),
    ))
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
pub(crate) fn python_isoformat(at: DateTime<Utc>) -> String {
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
