//! Tokens for services: what an operator hands a service instead of a password, from the
//! API (`POST api/tokens`, `waygate token create`) or the dashboard's service panel.

use super::error::ApiError;
use super::AdminState;
use crate::model::{Actor, AuditEntry};
use crate::stored::{RouteKey, AUTH_AUDIT_PATH};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The longest a service token may be valid: ten years.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A token just issued to a service: shown once, never stored or logged.
#[derive(Debug)]
pub(crate) struct ServiceToken {
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl AdminState {
    /// A token bound to `service` (an `sdk` token whose subject is the service), valid for
    /// `lifetime` (default: the sdk token lifetime, at most ten years). Audited as
    /// `token_created` on `__auth__` by `actor`, without the token. `400` for a name that is
    /// not a service's or a lifetime out of range, `501` without auth.
    pub(crate) async fn create_service_token(
        &self,
        service: &str,
        lifetime: Option<Duration>,
        actor: &Actor,
    ) -> Result<ServiceToken, ApiError> {
        if self.auth.is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "Auth not configured on this server: services need no token",
            ));
        }
        if !RouteKey::is_service_name(service) {
            return Err(ApiError::bad_request(
                "service must be a service name: no `:`, `/`, spaces or control characters, \
                 not all capitals",
            ));
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
        let (token, claims) = self.tokens.issue_service(service, lifetime, now);
        let expires_at = claims.expires_at();
        let mut entry = AuditEntry::new(AUTH_AUDIT_PATH, "token_created", actor);
        entry.timestamp = now;
        entry.service = Some(service.to_owned());
        entry.reason = format!(
            "service token for `{service}`, expires {}",
            expires_at.to_rfc3339()
        );
        self.engine
            .backend()
            .write_audit(&entry)
            .await
            .map_err(crate::EngineError::from)?;
        tracing::info!(%service, actor = %actor.name, %expires_at, "waygate admin: service token created");
        Ok(ServiceToken { token, expires_at })
    }
}
