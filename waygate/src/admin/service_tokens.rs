//! Tokens for services — what an operator hands a service instead of a password — and
//! evaluation-only keys for OFREP clients, from the API (`POST api/tokens`, `waygate token
//! create`) or the dashboard's service panel.

use super::error::ApiError;
use super::AdminState;
use crate::model::{Actor, AuditEntry};
use crate::stored::{RouteKey, AUTH_AUDIT_PATH};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The longest a service token may be valid: ten years.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Whom a token is issued to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Holder<'a> {
    /// A service: an `sdk` token bound to it.
    Service(&'a str),
    /// An OFREP client (a web or mobile app, another language's service), named for the
    /// audit log: a key that can only evaluate flags.
    Evaluator(&'a str),
}

/// A token just issued to a service: shown once, never stored or logged.
#[derive(Debug)]
pub(crate) struct ServiceToken {
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl AdminState {
    /// A token for `holder`: bound to a service (an `sdk` token whose subject is the
    /// service) or an evaluation-only key, valid for `lifetime` (default: the sdk token
    /// lifetime, at most ten years). Audited as `token_created` on `__auth__` by `actor`,
    /// without the token. `400` for a name that is not a service's or a lifetime out of
    /// range, `501` without auth.
    pub(crate) async fn create_token(
        &self,
        holder: Holder<'_>,
        lifetime: Option<Duration>,
        actor: &Actor,
    ) -> Result<ServiceToken, ApiError> {
        if self.auth.is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "Auth not configured on this server: services and OFREP clients need no token",
            ));
        }
        let name = match holder {
            Holder::Service(name) | Holder::Evaluator(name) => name,
        };
        if !RouteKey::is_service_name(name) {
            let field = match holder {
                Holder::Service(_) => "service",
                Holder::Evaluator(_) => "name",
            };
            return Err(ApiError::bad_request(format!(
                "{field} must be a name: no `:`, `/`, spaces or control characters, \
                 not all capitals"
            )));
        }
        let lifetime = match lifetime {
            None => self.tokens.sdk_expiry(),
            Some(Duration::ZERO) => {
                return Err(ApiError::bad_request("ttl_seconds must be positive"))
            }
            Some(lifetime) if lifetime > MAX_LIFETIME => {
                return Err(ApiError::bad_request(format!(
                    "ttl_seconds is too long: at most {} (ten years)",
                    MAX_LIFETIME.as_secs()
                )))
            }
            Some(lifetime) => lifetime,
        };
        let now = self.engine.now();
        let (token, claims, what) = match holder {
            Holder::Service(service) => {
                let (token, claims) = self.tokens.issue_service(service, lifetime, now);
                (token, claims, format!("service token for `{service}`"))
            }
            Holder::Evaluator(name) => {
                let (token, claims) = self.tokens.issue_evaluator(name, lifetime, now);
                (token, claims, format!("evaluation-only key `{name}`"))
            }
        };
        let expires_at = claims.expires_at();
        let mut entry = AuditEntry::new(AUTH_AUDIT_PATH, "token_created", actor);
        entry.timestamp = now;
        if let Holder::Service(service) = holder {
            entry.service = Some(service.to_owned());
        }
        entry.reason = format!("{what}, expires {}", expires_at.to_rfc3339());
        self.engine
            .backend()
            .write_audit(&entry)
            .await
            .map_err(crate::EngineError::from)?;
        tracing::info!(holder = %name, actor = %actor.name, %expires_at, "waygate admin: {what} created");
        Ok(ServiceToken { token, expires_at })
    }
}
