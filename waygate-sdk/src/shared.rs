//! What the backend and the connection task share: the configuration, the token, the
//! service's picture of the server, and the signals the engine and tests wait on. Fields are
//! private; each change goes through a method that says what it means.

use crate::Credentials;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use waygate_core::rate_limit::RateLimitPolicy;
use waygate_core::stored::{RouteKey, Sentinel};
use waygate_core::RouteState;

/// What the builder hands the backend.
#[derive(Debug)]
pub(crate) struct Config {
    /// The server's admin root, without a trailing `/`.
    pub(crate) base: String,
    pub(crate) app_id: String,
    pub(crate) credentials: Credentials,
    /// The first and the longest delay between reconnection attempts.
    pub(crate) backoff: (Duration, Duration),
    pub(crate) startup_wait: Duration,
}

/// The picture of the server.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Cache {
    /// The service's routes by local key (`path` = local key, `service` = app id).
    pub(crate) routes: BTreeMap<String, RouteState>,
    /// The records kept (see [`Shared::kept_record`]), by sentinel key.
    pub(crate) records: BTreeMap<String, RouteState>,
    /// Per-route policies by local route key.
    pub(crate) policies: BTreeMap<String, RateLimitPolicy>,
}

/// What the backend and its connection task share.
#[derive(Debug)]
pub(crate) struct Shared {
    config: Config,
    http: reqwest::Client,
    /// The token in use (from the config, or from the last login).
    token: Mutex<Option<String>>,
    cache: Mutex<Cache>,
    /// The picture has been read from the server (set before the engine is told).
    complete: AtomicBool,
    /// Moves on every change of the picture: the engine rebuilds its snapshot.
    changes: watch::Sender<u64>,
    /// Completed synchronisations (0 until the first).
    syncs: watch::Sender<u64>,
    /// Whether the stream is open.
    connected: watch::Sender<bool>,
    /// Failed connection attempts.
    failures: watch::Sender<u64>,
    /// The routes this service registers on every (re)connect, by local key: the declared
    /// states, and routes first seen at runtime.
    registrations: Mutex<BTreeMap<String, RouteState>>,
}

impl Shared {
    pub(crate) fn new(config: Config, http: reqwest::Client) -> Self {
        let token = match &config.credentials {
            Credentials::Token(token) => Some(token.clone()),
            _ => None,
        };
        Self {
            config,
            http,
            token: Mutex::new(token),
            cache: Mutex::default(),
            complete: AtomicBool::new(false),
            changes: watch::channel(0).0,
            syncs: watch::channel(0).0,
            connected: watch::channel(false).0,
            failures: watch::channel(0).0,
            registrations: Mutex::default(),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The service's name on the server.
    pub(crate) fn app(&self) -> &str {
        &self.config.app_id
    }

    pub(crate) fn token(&self) -> Option<String> {
        lock(&self.token).clone()
    }

    pub(crate) fn set_token(&self, token: Option<String>) {
        *lock(&self.token) = token;
    }

    /// Reads the picture.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&Cache) -> R) -> R {
        read(&lock(&self.cache))
    }

    /// Replaces the picture (a synchronisation) and tells the engine when it changed.
    pub(crate) fn replace(&self, cache: Cache) {
        let resync = *self.syncs.borrow() > 0;
        let changed = {
            let mut current = lock(&self.cache);
            if resync {
                report_differences(self.app(), &current.routes, &cache.routes);
            }
            // The first synchronisation always tells the engine: its flags are loaded now,
            // even when the server has none.
            let changed = *current != cache || !resync;
            *current = cache;
            self.complete.store(true, Ordering::Release);
            changed
        };
        if changed {
            self.changes.send_modify(|n| *n += 1);
        }
    }

    /// Changes the picture in place and tells the engine.
    pub(crate) fn update(&self, change: impl FnOnce(&mut Cache)) {
        change(&mut lock(&self.cache));
        self.changes.send_modify(|n| *n += 1);
    }

    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub(crate) fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.send_replace(connected);
    }

    /// A synchronisation completed.
    pub(crate) fn synchronised(&self) {
        self.syncs.send_modify(|n| *n += 1);
    }

    /// Whether the picture has been read from the server once: until then it is only what
    /// the service declares.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    pub(crate) fn synchronisations(&self) -> watch::Receiver<u64> {
        self.syncs.subscribe()
    }

    /// A connection attempt failed.
    pub(crate) fn failed(&self) {
        self.failures.send_modify(|n| *n += 1);
    }

    pub(crate) fn failed_attempts(&self) -> watch::Receiver<u64> {
        self.failures.subscribe()
    }

    /// Adds routes to those registered on every reconnect (a route already there keeps its
    /// state).
    pub(crate) fn declare(&self, states: impl IntoIterator<Item = RouteState>) {
        let mut registrations = lock(&self.registrations);
        for state in states {
            registrations.entry(state.path.clone()).or_insert(state);
        }
    }

    /// Forgets a route (the service no longer serves it under this key).
    pub(crate) fn forget(&self, key: &str) {
        lock(&self.registrations).remove(key);
        self.update(|cache| {
            cache.routes.remove(key);
        });
    }

    /// The routes to register, in the server's form.
    pub(crate) fn registrations(&self) -> Vec<RouteState> {
        lock(&self.registrations)
            .values()
            .map(|state| self.server_state(state))
            .collect()
    }

    /// `"{app_id}:{key}"`: a local route key in the server's form.
    pub(crate) fn server_key(&self, local: &str) -> String {
        match RouteKey::parse(local) {
            Some(key) => key.in_service(self.app()).to_string(),
            None => format!("{}:{local}", self.app()),
        }
    }

    /// A local state in the server's form.
    pub(crate) fn server_state(&self, state: &RouteState) -> RouteState {
        let mut state = state.clone();
        state.path = self.server_key(&state.path);
        state.service = Some(self.app().to_owned());
        state
    }

    /// A server state of this service in local form, or `None` when it is not one.
    pub(crate) fn local_state(&self, mut state: RouteState) -> Option<RouteState> {
        if state.service.as_deref() != Some(self.app()) {
            return None;
        }
        state.path = RouteKey::parse_in_service(&state.path, self.app())?
            .local()
            .to_string();
        Some(state)
    }

    /// The record `key` names, when it is one of those kept: global maintenance, the
    /// global rate limit, this service's maintenance and rate limit (sent as states), and
    /// feature flags and segments (sent as their own frames).
    pub(crate) fn kept_record<'k>(&self, key: &'k str) -> Option<Sentinel<'k>> {
        Sentinel::parse(key).filter(|sentinel| match sentinel {
            Sentinel::GlobalMaintenance
            | Sentinel::GlobalRateLimit
            | Sentinel::Flag(_)
            | Sentinel::Segment(_) => true,
            Sentinel::ServiceMaintenance(app) | Sentinel::ServiceRateLimit(app) => {
                *app == self.app()
            }
            _ => false,
        })
    }

    /// A policy of this service in local form (`/path`), from the server's form: its path is
    /// `{app_id}:/path` (waygate for Rust) or `{app_id}:METHOD:/path` (what the Python
    /// server keeps). `None` for another service's or the server's own.
    pub(crate) fn local_policy(&self, mut policy: RateLimitPolicy) -> Option<RateLimitPolicy> {
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
pub(crate) fn policy_key(policy: &RateLimitPolicy) -> Option<String> {
    RouteKey::from_policy(&policy.method, &policy.path).map(|key| key.to_string())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is a plain assignment: a poisoned lock still guards consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A `Shared` of service `pay` of the server at `base`, for unit tests.
#[cfg(test)]
pub(crate) fn for_tests(base: &str) -> Shared {
    let config = Config {
        base: base.into(),
        app_id: "pay".into(),
        credentials: Credentials::None,
        backoff: (Duration::from_millis(1), Duration::from_millis(2)),
        startup_wait: Duration::ZERO,
    };
    Shared::new(config, reqwest::Client::new())
}

/// After a resync, one warning per route whose state on the server differs from what the
/// service enforced until then: a server that lost its state (restarted on memory, a
/// backend restored from a backup) has just undone an operator's change, and nobody would
/// be told otherwise.
fn report_differences(
    app: &str,
    enforced: &BTreeMap<String, RouteState>,
    server: &BTreeMap<String, RouteState>,
) {
    for (key, before) in enforced {
        let Some(now) = server.get(key) else {
            continue;
        };
        if before.status != now.status || before.reason != now.reason {
            tracing::warn!(
                app_id = %app,
                route = %key,
                was = ?before.status,
                now = ?now.status,
                reason = %now.reason,
                "waygate sdk: after reconnecting, the server's state of this route differs from \
                 what the service enforced (did the server lose its state?); enforcing the server's"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        for_tests("http://127.0.0.1:1")
    }

    #[test]
    fn keys_translate_between_the_server_and_the_service() {
        let shared = shared();
        assert_eq!(shared.server_key("GET:/x"), "pay:GET:/x");
        let mut state = RouteState::active("pay:GET:/x");
        state.service = Some("pay".into());
        assert_eq!(shared.local_state(state.clone()).unwrap().path, "GET:/x");
        state.service = Some("orders".into());
        assert_eq!(shared.local_state(state), None);
        let python = RateLimitPolicy::new("pay:GET:/x", "ALL", "1/minute");
        let local = shared.local_policy(python).unwrap();
        assert_eq!((local.method.as_str(), local.path.as_str()), ("GET", "/x"));
        assert_eq!(policy_key(&local).as_deref(), Some("GET:/x"));
        assert!(shared.kept_record("__waygate:svc_global:pay__").is_some());
        assert!(shared
            .kept_record("__waygate:svc_global:orders__")
            .is_none());
        assert!(shared.kept_record("__waygate:revoked:x__").is_none());
    }
}
