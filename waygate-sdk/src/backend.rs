//! The SDK's [`Backend`]: the service's picture of the server, in the service's own keys.
//!
//! Reads never touch the network (the engine reads its snapshot anyway; this is what the
//! snapshot is rebuilt from). The picture is replaced whole by every synchronisation and
//! patched by every stream frame; each change moves [`watch`](Backend::watch), and the
//! engine rebuilds its snapshot.
//!
//! Keys: the server stores the service's routes as `"{app_id}:{key}"`
//! ([`RouteKey`](waygate_core::stored::RouteKey) with a service); here they are `key`
//! (`GET:/api/payments`) with `service = app_id`, so the engine's service maintenance and
//! service rate limit apply to them. Of waygate's own records only four are kept, under
//! their own keys: the [`Sentinel`]s of global maintenance, the global rate limit, and the
//! service's maintenance and rate limit. Per-route policies are kept by their local route
//! key (`METHOD:/path`, or `/path` for every method).

use crate::shared::{Config, Shared};
use crate::{connection, forward, SdkError};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use waygate_core::backend::{Backend, BackendError};
use waygate_core::rate_limit::{GlobalRateLimitPolicy, RateLimitPolicy};
use waygate_core::stored::Sentinel;
use waygate_core::{AuditEntry, AuditQuery, GlobalMaintenanceConfig, RouteState};

/// The backend of a service attached to a Waygate Server (see [`WaygateSdk`](crate::WaygateSdk)).
#[derive(Debug)]
pub struct SdkBackend {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl SdkBackend {
    /// The connection's shared half.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn new(config: Config) -> Result<Self, SdkError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| SdkError::Client(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared::new(config, http)),
            task: Mutex::new(None),
        })
    }

    /// The service's name on the server.
    pub fn app_id(&self) -> &str {
        self.shared.app()
    }

    /// Whether the stream from the server is open now.
    pub fn is_connected(&self) -> bool {
        self.shared.is_connected()
    }

    /// How many connection attempts failed since the SDK started (each is followed by a
    /// backoff delay, never by an immediate retry).
    pub fn failed_attempts(&self) -> u64 {
        *self.shared.failed_attempts().borrow()
    }

    /// Counts failed connection attempts (it moves on every one): wait on it to see the SDK
    /// retry, or to alert on a server that stays away.
    pub fn connection_failures(&self) -> watch::Receiver<u64> {
        self.shared.failed_attempts()
    }

    /// Counts completed synchronisations with the server (one per connect and reconnect):
    /// wait on it to know that what the server holds is enforced.
    pub fn synchronisations(&self) -> watch::Receiver<u64> {
        self.shared.synchronisations()
    }

    /// Tells the backend which routes the service declares: they are registered again on
    /// every reconnect.
    pub(crate) fn declare(&self, states: Vec<RouteState>) {
        self.shared.declare(states);
    }
}

impl Drop for SdkBackend {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The task handle is only ever taken or put: a poisoned lock still guards it.
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
        Ok(self.shared.read(|cache| {
            cache
                .routes
                .get(key)
                .or_else(|| cache.records.get(key))
                .cloned()
        }))
    }

    async fn set_state(&self, state: &RouteState) -> Result<(), BackendError> {
        let shared = &self.shared;
        let key = state.path.as_str();
        if let Some(Sentinel::ServiceMaintenance(app)) = Sentinel::parse(key) {
            if app == shared.app() {
                let config: GlobalMaintenanceConfig = Sentinel::decode(state)
                    .map_err(|e| BackendError::other(e.to_string()))?
                    .unwrap_or_default();
                return forward::set_service_maintenance(shared, &config).await;
            }
        }
        if Sentinel::is_sentinel(key) {
            return Err(not_here("this setting"));
        }
        match shared.read(|cache| cache.routes.get(key).cloned()) {
            Some(current) => forward::change_route(shared, &current, state).await,
            None => {
                let mut state = state.clone();
                state.service = Some(shared.app().to_owned());
                shared.declare([state.clone()]);
                forward::register_one(shared, state).await;
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
        self.shared.forget(key);
        Ok(())
    }

    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        Ok(self.shared.read(|cache| {
            cache
                .routes
                .values()
                .chain(cache.records.values())
                .cloned()
                .collect()
        }))
    }

    /// Entries are written by the server for the changes it is sent; the engine's local
    /// copies are not sent again.
    async fn write_audit(&self, entry: &AuditEntry) -> Result<(), BackendError> {
        let _ = entry;
        Ok(())
    }

    /// The service's entries, from the server.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        forward::audit_log(&self.shared, query).await
    }

    async fn set_global_config(
        &self,
        config: &GlobalMaintenanceConfig,
    ) -> Result<(), BackendError> {
        forward::set_global_maintenance(&self.shared, config).await
    }

    async fn rate_limit_policies(&self) -> Result<Vec<RateLimitPolicy>, BackendError> {
        Ok(self
            .shared
            .read(|cache| cache.policies.values().cloned().collect()))
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
        Some(self.shared.changes())
    }

    /// Complete once the first synchronisation with the server has read its flags: until
    /// then a flag evaluates to the caller's default with `PROVIDER_NOT_READY`.
    fn is_complete(&self) -> bool {
        self.shared.is_complete()
    }

    /// Starts the connection and waits (at most the startup wait) for the first
    /// synchronisation, so the engine starts from the server's state.
    async fn startup(&self) -> Result<(), BackendError> {
        let mut syncs = self.shared.synchronisations();
        let mut failures = self.shared.failed_attempts();
        {
            let mut task = lock(&self.task);
            if task.is_some() {
                return Ok(());
            }
            *task = Some(tokio::spawn(connection::run(self.shared.clone())));
        }
        let wait = self.shared.config().startup_wait;
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
        self.shared.set_connected(false);
        Ok(())
    }
}
