//! One login attempt, for the API's `api/auth/login` and the dashboard's `login` alike:
//! throttled per (username, client IP) and per client IP, each failure logged, each lockout audited.

use super::auth::Auth;
use super::throttle::{retry_after_secs, Locked};
use super::AdminState;
use crate::model::{Actor, AuditEntry};
use crate::stored::AUTH_AUDIT_PATH;
use std::net::IpAddr;
use std::time::Duration;

/// How much of a (client-chosen) username goes into logs and the audit log.
const LOGGED_USERNAME: usize = 64;

/// Why a login was refused.
#[derive(Debug)]
pub(crate) enum LoginRefusal {
    /// Wrong username or password.
    Invalid,
    /// Too many failures: try again after this long.
    Locked(Duration),
}

impl LoginRefusal {
    /// `Retry-After` in whole seconds, for a lockout.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Invalid => None,
            Self::Locked(wait) => Some(retry_after_secs(*wait)),
        }
    }
}

impl AdminState {
    /// Checks `username` and `password` for a login from `client` on `platform`, unless
    /// the username or the client is locked by earlier failures.
    pub(crate) async fn attempt_login(
        &self,
        auth: &Auth,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
        platform: &str,
    ) -> Result<(), LoginRefusal> {
        let shown = shown(username);
        let client_text = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let attempt = match self.throttle.begin(username, client) {
            Ok(attempt) => attempt,
            Err(wait) => {
                tracing::warn!(
                    username = ?shown,
                    client = %client_text,
                    retry_after = retry_after_secs(wait),
                    "waygate admin: login refused, too many failed attempts"
                );
                return Err(LoginRefusal::Locked(wait));
            }
        };
        if auth.authenticate(username, password).await {
            self.throttle.succeed(attempt);
            return Ok(());
        }
        // Never the password.
        tracing::warn!(username = ?shown, client = %client_text, %platform, "waygate admin: failed login");
        for locked in self.throttle.fail(attempt) {
            self.audit_lockout(&locked, &shown, &client_text, platform)
                .await;
        }
        Err(LoginRefusal::Invalid)
    }

    /// Writes the audit entry of a lockout (`login_locked` on `__auth__`).
    async fn audit_lockout(&self, locked: &Locked, username: &str, client: &str, platform: &str) {
        let config = self.throttle.config();
        let (failures, what) = match locked {
            Locked::Username => (
                config.failures_per_username(),
                format!("username {username:?} from {client}"),
            ),
            Locked::Ip(ip) => (config.failures_per_ip(), format!("client {ip}")),
        };
        let window = config.window_length().as_secs();
        let reason = format!(
            "{failures} failed logins within {window}s: {what} locked for up to {window}s \
             (last attempt: username {username:?} from {client})"
        );
        tracing::warn!(%reason, "waygate admin: login locked");
        let actor = Actor::new(username).platform(platform);
        let mut entry = AuditEntry::new(AUTH_AUDIT_PATH, "login_locked", &actor);
        entry.timestamp = self.engine.now();
        entry.reason = reason;
        if let Err(error) = self.engine.backend().write_audit(&entry).await {
            tracing::error!(%error, "waygate admin: the lockout's audit entry was not written");
        }
    }
}

/// The first [`LOGGED_USERNAME`] characters of a username.
fn shown(username: &str) -> String {
    match username.char_indices().nth(LOGGED_USERNAME) {
        Some((at, _)) => format!("{}…", &username[..at]),
        None => username.to_owned(),
    }
}
