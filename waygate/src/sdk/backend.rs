//! The SDK's [`Backend`]: the service's picture of the server, in the service's own keys.
//!
//! Reads never touch the network (the engine reads its snapshot anyway; this is what the
//! snapshot is rebuilt from). The picture is replaced whole by every synchronisation and
//! patched by every stream event; each change bumps [`watch`](Backend::watch), and the
//! engine rebuilds its snapshot.
//!
//! Keys: the server stores the service's routes as `"{app_id}:{key}"`; here they are
//! `key` (`GET:/api/payments`) with `service = app_id`, so the engine's service maintenance
//! and service rate limit apply to them. Of waygate's own records only four are kept, under
//! their own keys: the [`Sentinel`]s of global maintenance, the global rate limit, and the
//! service's maintenance and rate limit. Per-route policies are kept by their local route key
//! (`METHOD:/path`, or `/path` for every method).

use super::client;
use super::{Credentials, SdkError};
use crate::backend::{Backend, BackendError};
use crate::model::{AuditEntry, AuditQuery, GlobalMaintenanceConfig, RouteState};
use crate::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy};
use crate::stored::{RouteKey, Sentinel};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the builder hands the backend.
#[derive(Debug)]
pub(super) struct Config {
    pub(super) base: String,
    pub(super) app_id: String,
    pub(super) credentials: Credentials,
    pub(super) backoff: (Duration, Duration),
    pub(super) startup_wait: Duration,
}

/// The backend of a service attached to a Waygate Server (see [`WaygateSdk`](super::WaygateSdk)).
#[derive(Debug)]
pub struct SdkBackend {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// What the backend and its connection task share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) config: Config,
    pub(super) http: reqwest::Client,
    /// The token in use (from the config, or from the last login).
    pub(super) token: Mutex<Option<String>>,
    pub(super) cache: Mutex<Cache>,
    changes: watch::Sender<u64>,
    /// Completed synchronisations (0 until the first).
    pub(super) syncs: watch::Sender<u64>,
    /// Whether the stream is open.
    pub(super) connected: watch::Sender<bool>,
    /// Failed connection attempts.
    pub(super) failures: watch::Sender<u64>,
    /// The routes this service registers on every (re)connect, by local key: the declared
    /// states, and routes first seen at runtime (active).
    pub(super) registrations: Mutex<BTreeMap<String, RouteState>>,
}

/// The picture of the server.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Cache {
    /// The service's routes by local key (`path` = local key, `service` = app id).
    pub(super) routes: BTreeMap<String, RouteState>,
    /// The four records kept (see the module docs).
    pub(super) records: BTreeMap<String, RouteState>,
    /// Per-route policies by local key.
    pub(super) policies: BTreeMap<String, RateLimitPolicy>,
}

impl SdkBackend {
    pub(super) fn new(config: Config) -> Result<Self, SdkError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| SdkError::Client(e.to_string()))?;
        let token = match &config.credentials {
            Credentials::Token(token) => Some(token.clone()),
            _ => None,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                http,
                token: Mutex::new(token),
                cache: Mutex::default(),
                changes: watch::channel(0).0,
                syncs: watch::channel(0).0,
                connected: watch::channel(false).0,
                failures: watch::channel(0).0,
                registrations: Mutex::default(),
            }),
            task: Mutex::new(None),
        })
    }

    /// The service's name on the server.
    pub fn app_id(&self) -> &str {
        &self.shared.config.app_id
    }

    /// Whether the stream from the server is open now.
    pub fn is_connected(&self) -> bool {
        *self.shared.connected.borrow()
    }

    /// How many connection attempts failed since the SDK started (each is followed by a
    /// backoff delay, never by an immediate retry).
    pub fn failed_attempts(&self) -> u64 {
        *self.shared.failures.borrow()
    }

    /// Counts completed synchronisations with the server (one per connect and reconnect):
    /// wait on it to know that what the server holds is enforced.
    pub fn synchronisations(&self) -> watch::Receiver<u64> {
        self.shared.syncs.subscribe()
    }

    /// Tells the backend which routes the service declares: they are registered again on
    /// every reconnect.
    pub(super) fn declare(&self, states: Vec<RouteState>) {
        let mut registrations = lock(&self.shared.registrations);
        for state in states {
            registrations.entry(state.path.clone()).or_insert(state);
        }
    }
}

impl Drop for SdkBackend {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

impl Shared {
    pub(super) fn app(&self) -> &str {
        &self.config.app_id
    }

    /// Replaces the picture (a synchronisation) and tells the engine.
    pub(super) fn replace(&self, cache: Cache) {
        let changed = {
            let mut current = lock(&self.cache);
            let changed = *current != cache;
            *current = cache;
            changed
        };
        if changed {
            self.changed();
        }
    }

    /// Changes the picture in place and tells the engine.
    pub(super) fn update(&self, change: impl FnOnce(&mut Cache)) {
        change(&mut lock(&self.cache));
        self.changed();
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// `"{app_id}:{key}"`.
    pub(super) fn server_key(&self, local: &str) -> String {
        format!("{}:{local}", self.app())
    }

    /// A server state of this service in local form, or `None` when it is not one.
    pub(super) fn local_state(&self, mut state: RouteState) -> Option<RouteState> {
        if state.service.as_deref() != Some(self.app()) {
            return None;
        }
        let local = RouteKey::parse_in_service(&state.path, self.app())?
            .local()
            .to_string();
        state.path = local;
        Some(state)
    }

    /// The record `key` names, when it is one of the four kept.
    pub(super) fn kept_record<'k>(&self, key: &'k str) -> Option<Sentinel<'k>> {
        Sentinel::parse(key).filter(|sentinel| match sentinel {
            Sentinel::GlobalMaintenance | Sentinel::GlobalRateLimit => true,
            Sentinel::ServiceMaintenance(app) | Sentinel::ServiceRateLimit(app) => {
                *app == self.app()
            }
            _ => false,
        })
    }

    /// A policy of this service in local form (`/path`), from the server's form: its path is
    /// `{app_id}:/path` (waygate for Rust) or `{app_id}:METHOD:/path` (what the Python
    /// server keeps). `None` for another service's or the server's own.
    pub(super) fn local_policy(&self, mut policy: RateLimitPolicy) -> Option<RateLimitPolicy> {
        let key = RouteKey::from_policy(&policy.method, &policy.path)?;
        if key.service() != Some(self.app()) {
            return None;
        }
        let (method, path) = key.local().policy_parts();
        policy.method = method.to_owned();
        policy.path = path;
        Some(policy)
    }
}

/// The key a local policy is kept under: `METHOD:/path`, or `/path` for `ALL`.
pub(super) fn policy_key(policy: &RateLimitPolicy) -> Option<String> {
    RouteKey::from_policy(&policy.method, &policy.path).map(|key| key.to_string())
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is a plain assignment: a poisoned lock still guards consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_here(what: &str) -> BackendError {
    BackendError::other(format!(
        "{what} is changed on the Waygate Server (its CLI, dashboard or API), not in a service"
    ))
}

#[async_trait]
impl Backend for SdkBackend {
    async fn get_state(&self, key: &str) -> Result<Option<RouteState>, BackendError> {
        let cache = lock(&self.shared.cache);
        Ok(cache
            .routes
            .get(key)
            .or_else(|| cache.records.get(key))
            .cloned())
    }

    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError> {
        let shared = &self.shared;
        let key = state.path.as_str();
        if let Some(Sentinel::ServiceMaintenance(app)) = Sentinel::parse(key) {
            if app == shared.app() {
                let config: GlobalMaintenanceConfig = Sentinel::decode(state)
                    .map_err(|e| BackendError::other(e.to_string()))?
                    .unwrap_or_default();
                return client::set_service_maintenance(shared, &config).await;
            }
        }
        if Sentinel::is_sentinel(key) {
            return Err(not_here("this setting"));
        }
        let current = lock(&shared.cache).routes.get(key).cloned();
        match current {
            Some(current) => client::change_route(shared, &current, state).await,
            None => {
                let mut state = state.clone();
                state.service = Some(shared.app().to_owned());
                lock(&shared.registrations)
                    .entry(key.to_owned())
                    .or_insert_with(|| state.clone());
                client::register_one(shared, state).await;
                Ok(())
            }
        }
    }

    async fn delete_state(&self, key: &str) -> Result<(), BackendError> {
        if Sentinel::is_sentinel(key) {
            return Err(not_here("this setting"));
        }
        // A route the service no longer serves under this key (it was mounted elsewhere):
        // forgotten here; the server keeps its record.
        lock(&self.shared.registrations).remove(key);
        self.shared.update(|cache| {
            cache.routes.remove(key);
        });
        Ok(())
    }

    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        let cache = lock(&self.shared.cache);
        Ok(cache
            .routes
            .values()
            .chain(cache.records.values())
            .cloned()
            .collect())
    }

    /// Entries are written by the server for the changes it is sent; the engine's local
    /// copies are not sent again.
    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError> {
        let _ = entry;
        Ok(())
    }

    /// The service's entries, from the server.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        client::audit_log(&self.shared, query).await
    }

    async fn set_global_config(
        &self,
        config: &GlobalMaintenanceConfig,
    ) -> Result<(), BackendError> {
        client::set_global_maintenance(&self.shared, config).await
    }

    async fn rate_limit_policies(&self) -> Result<Vec<RateLimitPolicy>, BackendError> {
        Ok(lock(&self.shared.cache)
            .policies
            .values()
            .cloned()
            .collect())
    }

    async fn set_rate_limit_policy(&self, policy: &RateLimitPolicy) -> Result<(), BackendError> {
        let _ = policy;
        Err(not_here("a rate limit"))
    }

    async fn delete_rate_limit_policy(&self, method: &str, path: &str) -> Result<(), BackendError> {
        let _ = (method, path);
        Err(not_here("a rate limit"))
    }

    async fn set_global_rate_limit_policy(
        &self,
        policy: Option<&GlobalRateLimitPolicy>,
    ) -> Result<(), BackendError> {
        let _ = policy;
        Err(not_here("the global rate limit"))
    }

    async fn set_service_rate_limit_policy(
        &self,
        service: &str,
        policy: Option<&GlobalRateLimitPolicy>,
    ) -> Result<(), BackendError> {
        let _ = (service, policy);
        Err(not_here("a service's rate limit"))
    }

    /// One-off jobs (ending a maintenance window, delivering a webhook) are the server's:
    /// a service instance claims none, so twenty instances do not end one window twenty
    /// times. The snapshot still enforces the window by the clock.
    async fn claim_once(&self, id: &str, ttl: Duration) -> Result<bool, BackendError> {
        let _ = (id, ttl);
        Ok(false)
    }

    fn watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.shared.changes.subscribe())
    }

    /// Starts the connection and waits (at most the startup wait) for the first
    /// synchronisation, so the engine starts from the server's state.
    async fn startup(&self) -> Result<(), BackendError> {
        let mut syncs = self.shared.syncs.subscribe();
        let mut failures = self.shared.failures.subscribe();
        {
            let mut task = lock(&self.task);
            if task.is_some() {
                return Ok(());
            }
            *task = Some(tokio::spawn(client::run(self.shared.clone())));
        }
        let wait = self.shared.config.startup_wait;
        let _ = tokio::time::timeout(wait, async {
            tokio::select! {
                _ = syncs.wait_for(|n| *n > 0) => {}
                // The first attempt failed: serve the declared states now.
                _ = failures.wait_for(|n| *n > 0) => {}
            }
        })
        .await;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), BackendError> {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
        self.shared.connected.send_replace(false);
        Ok(())
    }
}
