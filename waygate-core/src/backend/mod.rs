//! Where route state lives: the [`Backend`] trait and its implementations.
//!
//! The engine is the only reader and writer of a backend; requests never touch it (they read
//! the engine's in-process snapshot). A backend that other writers share (another process on
//! the same file, another instance on the same Redis) reports their changes through
//! [`Backend::watch`], and every engine subscribed to it reloads.
//!
//! Implement [`Backend`] to keep state anywhere else; the provided methods store global
//! maintenance as a sentinel route state, as the Python original does, so a custom backend
//! only needs the six required methods.

#[cfg(feature = "file")]
mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "file")]
pub use file::FileBackend;
pub use memory::MemoryBackend;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisBackend, DEFAULT_KEY_PREFIX, HIT_LOG_CAPACITY};

use crate::model::{AuditEntry, AuditQuery, GlobalMaintenanceConfig, HitQuery, RouteState};
use crate::rate_limit::{GlobalRateLimitPolicy, RateLimitHit, RateLimitPolicy, SharedCounters};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub use crate::stored::AUDIT_CAPACITY;
use crate::stored::{Sentinel, SENTINEL_PREFIX};

/// Storage for route states, global maintenance and the audit log.
///
/// All methods are async and may fail with a [`BackendError`]; the engine fails open on
/// read errors (requests keep being served from the last snapshot) and reports write errors
/// to the caller of the mutation.
#[async_trait]
pub trait Backend: Send + Sync + fmt::Debug + 'static {
    /// The state stored under `key`, if any.
    async fn get_state(&self, key: &str) -> Result<Option<RouteState>, BackendError>;

    /// Stores `state` under `state.path`, replacing what was there.
    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError>;

    /// Removes the state under `key`; removing a missing key is not an error.
    async fn delete_state(&self, key: &str) -> Result<(), BackendError>;

    /// Every stored state, sentinels included.
    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError>;

    /// Appends an entry to the audit log.
    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError>;

    /// Audit entries, newest first, filtered by exact route key, at most `query.limit`.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError>;

    /// The global maintenance configuration (stored as the
    /// [`GlobalMaintenance`](Sentinel::GlobalMaintenance) sentinel).
    async fn global_config(&self) -> Result<GlobalMaintenanceConfig, BackendError> {
        let key = Sentinel::GlobalMaintenance.to_string();
        match self.get_state(&key).await? {
            Some(state) => Ok(decode_sentinel(&state)?.unwrap_or_default()),
            None => Ok(GlobalMaintenanceConfig::default()),
        }
    }

    /// Stores the global maintenance configuration.
    async fn set_global_config(
        &self,
        config: &GlobalMaintenanceConfig,
    ) -> Result<(), BackendError> {
        self.set_state(&encode_sentinel(Sentinel::GlobalMaintenance, config)?)
            .await
    }

    /// The stored states whose key starts with `prefix` (waygate's own records). The default
    /// filters [`list_states`](Self::list_states); override it when the store can look a
    /// prefix up directly.
    async fn list_states_with_prefix(&self, prefix: &str) -> Result<Vec<RouteState>, BackendError> {
        let mut states = self.list_states().await?;
        states.retain(|s| s.path.starts_with(prefix));
        Ok(states)
    }

    /// Per-route rate-limit policies (stored as
    /// [`RouteRateLimit`](Sentinel::RouteRateLimit) sentinels by default).
    async fn rate_limit_policies(&self) -> Result<Vec<RateLimitPolicy>, BackendError> {
        let mut policies = Vec::new();
        for state in self.list_states_with_prefix(SENTINEL_PREFIX).await? {
            if let Some(Sentinel::RouteRateLimit { .. }) = Sentinel::parse(&state.path) {
                policies.extend(decode_sentinel(&state)?);
            }
        }
        Ok(policies)
    }

    /// Stores a per-route rate-limit policy, replacing the route's previous one.
    async fn set_rate_limit_policy(&self, policy: &RateLimitPolicy) -> Result<(), BackendError> {
        let sentinel = Sentinel::RouteRateLimit {
            method: &policy.method,
            path: &policy.path,
        };
        self.set_state(&encode_sentinel(sentinel, policy)?).await
    }

    /// Removes the rate-limit policy of `METHOD:path`; removing a missing one is not an error.
    async fn delete_rate_limit_policy(&self, method: &str, path: &str) -> Result<(), BackendError> {
        self.delete_state(&Sentinel::RouteRateLimit { method, path }.to_string())
            .await
    }

    /// The global rate-limit policy (the [`GlobalRateLimit`](Sentinel::GlobalRateLimit)
    /// sentinel).
    async fn global_rate_limit_policy(
        &self,
    ) -> Result<Option<GlobalRateLimitPolicy>, BackendError> {
        match self
            .get_state(&Sentinel::GlobalRateLimit.to_string())
            .await?
        {
            Some(state) => decode_sentinel(&state),
            None => Ok(None),
        }
    }

    /// Stores (`Some`) or removes (`None`) the global rate-limit policy.
    async fn set_global_rate_limit_policy(
        &self,
        policy: Option<&GlobalRateLimitPolicy>,
    ) -> Result<(), BackendError> {
        let sentinel = Sentinel::GlobalRateLimit;
        match policy {
            Some(policy) => self.set_state(&encode_sentinel(sentinel, policy)?).await,
            None => self.delete_state(&sentinel.to_string()).await,
        }
    }

    /// Every service's rate-limit policy ([`ServiceRateLimit`](Sentinel::ServiceRateLimit)
    /// sentinels).
    async fn service_rate_limit_policies(
        &self,
    ) -> Result<Vec<(String, GlobalRateLimitPolicy)>, BackendError> {
        let mut policies = Vec::new();
        for state in self.list_states_with_prefix(SENTINEL_PREFIX).await? {
            if let Some(Sentinel::ServiceRateLimit(service)) = Sentinel::parse(&state.path) {
                if let Some(policy) = decode_sentinel(&state)? {
                    policies.push((service.to_owned(), policy));
                }
            }
        }
        Ok(policies)
    }

    /// Stores (`Some`) or removes (`None`) one service's rate-limit policy.
    async fn set_service_rate_limit_policy(
        &self,
        service: &str,
        policy: Option<&GlobalRateLimitPolicy>,
    ) -> Result<(), BackendError> {
        let sentinel = Sentinel::ServiceRateLimit(service);
        match policy {
            Some(policy) => self.set_state(&encode_sentinel(sentinel, policy)?).await,
            None => self.delete_state(&sentinel.to_string()).await,
        }
    }

    /// Records a blocked request in a log shared with other engines. The default keeps
    /// nothing: each engine then keeps its own bounded log in memory.
    async fn write_rate_limit_hit(&self, hit: &RateLimitHit) -> Result<(), BackendError> {
        let _ = hit;
        Ok(())
    }

    /// The shared log of blocked requests, newest first, or `None` when this backend keeps
    /// none (the default).
    async fn rate_limit_hits(
        &self,
        query: &HitQuery,
    ) -> Result<Option<Vec<RateLimitHit>>, BackendError> {
        let _ = query;
        Ok(None)
    }

    /// Claims the one-off job `id` (a webhook delivery, say) for the caller: `true` for
    /// exactly one caller per `id` among every engine sharing this backend, for `ttl` after
    /// the first claim; `false` for everyone else. The default says `true` to every caller,
    /// which is right for a backend no other engine shares; shared backends override it.
    async fn claim_once(&self, id: &str, ttl: Duration) -> Result<bool, BackendError> {
        let _ = (id, ttl);
        Ok(true)
    }

    /// Rate-limit counters shared by every engine on this backend, or `None` (the default)
    /// to count in each engine's memory. With shared counters a `10/minute` limit is ten a
    /// minute across every instance; each limited request then awaits one call.
    fn rate_limit_counters(&self) -> Option<Arc<dyn SharedCounters>> {
        None
    }

    /// A counter that changes when stored data may have been changed by another writer (it
    /// may also change on this engine's own writes); the engine reloads everything when it
    /// moves. `None` when the backend has no other writers to report.
    fn watch(&self) -> Option<watch::Receiver<u64>> {
        None
    }

    /// Whether [`list_states`](Self::list_states) answers with everything stored. A backend
    /// that mirrors another process (the SDK, before its first synchronisation with its
    /// server) says `false` until it has read it: flags missing meanwhile evaluate to
    /// `PROVIDER_NOT_READY` rather than `FLAG_NOT_FOUND`. The default: `true`.
    fn is_complete(&self) -> bool {
        true
    }

    /// Called once by [`Engine::start`](crate::Engine::start) before anything is read.
    async fn startup(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Called once by [`Engine::shutdown`](crate::Engine::shutdown); flush what is pending.
    async fn shutdown(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// A backend operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// Reading or writing a file failed.
    #[error("cannot {action} state file {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Stored data could not be decoded; nothing was overwritten.
    #[error("{location} holds invalid data: {message}")]
    Corrupt {
        /// The file or key that holds the data.
        location: String,
        /// What is wrong with it.
        message: String,
    },
    /// The storage service cannot be reached.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// Any other failure.
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// Stored data at `location` could not be decoded.
    pub fn corrupt(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Corrupt {
            location: location.into(),
            message: message.into(),
        }
    }

    /// Any other failure, with a message.
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }
}

/// Newest-first entries matching `query` (by their route), from an oldest-first list: the
/// audit log and the hit log share it.
pub(crate) fn select_newest<'a, T: Clone + 'a>(
    entries: impl DoubleEndedIterator<Item = &'a T>,
    query: &AuditQuery,
    route_of: impl Fn(&T) -> &str,
) -> Vec<T> {
    entries
        .rev()
        .filter(|e| query.route.as_deref().is_none_or(|r| route_of(e) == r))
        .take(query.limit)
        .cloned()
        .collect()
}

/// Newest-first audit entries matching `query`, from an oldest-first list.
pub(crate) fn select_audit<'a>(
    entries: impl DoubleEndedIterator<Item = &'a AuditEntry>,
    query: &AuditQuery,
) -> Vec<AuditEntry> {
    select_newest(entries, query, |e| &e.path)
}

/// A sentinel state carrying `value` as JSON in its `reason`, as the Python original stores
/// its configuration records.
fn encode_sentinel<T: Serialize>(
    sentinel: Sentinel<'_>,
    value: &T,
) -> Result<RouteState, BackendError> {
    sentinel
        .encode(Some(value))
        .map_err(|e| BackendError::other(e.to_string()))
}

/// The value a sentinel state carries (`None`: the record was removed).
fn decode_sentinel<T: DeserializeOwned>(state: &RouteState) -> Result<Option<T>, BackendError> {
    Sentinel::decode(state).map_err(|e| BackendError::corrupt(&state.path, e.to_string()))
}
