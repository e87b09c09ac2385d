//! The engine: owner of every route's state.
//!
//! Data flows one way: backend → engine view → immutable [`Snapshot`] → middleware. Mutations
//! are serialised by one write lock, written to the backend, audited, and then published as a
//! new snapshot; requests only ever load the snapshot.

mod builder;
mod change;
mod current;
mod flag_context;
mod flag_schedule;
mod flags;
mod hits;
mod lifecycle;
mod limits;
mod mutate;
mod operator;
mod resolve;
mod route_limits;
mod scheduler;
mod services;
mod shared_limits;
mod traffic;
mod view;

pub use builder::EngineBuilder;
use builder::RequestSettings;
pub use change::Change;
pub use current::ThreadSnapshot;
pub use flags::Flags;

pub use route_limits::PolicyChange;
pub use traffic::{
    RefusalKind, RouteTrafficSeries, TrafficReport, TRAFFIC_MINUTES, UNMATCHED_ROUTE,
};

use crate::backend::Backend;
use crate::clock::Clock;
use crate::decide::ClientIpHeader;
use crate::extensions::Extensions;
use crate::limiter::CounterHealth;
use crate::model::{AuditEntry, AuditQuery, GlobalMaintenanceConfig, RouteState};
use crate::rate_limit::{IpNetList, RateLimitHit};
use crate::registry::RouteMeta;
use crate::snapshot::Snapshot;
use crate::EngineError;
use arc_swap::{ArcSwap, Guard};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{broadcast, mpsc};
use view::View;

/// The route-state engine. Cheap to clone: clones share one engine.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), waygate_core::EngineError> {
/// use waygate_core::backend::{Backend, MemoryBackend};
/// use waygate_core::{Actor, Engine, RouteState, RouteStatus};
///
/// // Routes come from an adapter's attributes (`#[route(GET, "/payments")]`) or, as here,
/// // from the backend.
/// let backend = MemoryBackend::new();
/// backend.set_state(&RouteState::active("GET:/payments")).await?;
/// let engine = Engine::builder().backend(backend).env("production").build();
/// engine.start().await?;
/// engine.disable("GET:/payments", "hotfix", Actor::new("alice")).await?;
/// assert_eq!(engine.state("GET:/payments").unwrap().status, RouteStatus::Disabled);
/// engine.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    /// Unique in the process: what tells engines apart in a thread's copy of the snapshot.
    id: u64,
    backend: Arc<dyn Backend>,
    env: String,
    clock: Clock,
    snapshot: ArcSwap<Snapshot>,
    /// The flags and segments in force, compiled (replaced whole on a change).
    flags: ArcSwap<crate::flags::FlagSet>,
    /// How many times `flags` was replaced, moved just after each: what a thread's copy of
    /// the flags is checked against.
    flags_generation: AtomicU64,
    /// What flag evaluations did (outlasts each flag set).
    flag_telemetry: crate::flags::FlagTelemetry,
    /// Which services declare and read which flags (a server's fleet).
    flag_usage: crate::flags::FlagUsage,
    /// The current snapshot's generation, readable without loading the snapshot.
    generation: AtomicU64,
    view: Mutex<View>,
    write: tokio::sync::Mutex<()>,
    events: broadcast::Sender<EngineEvent>,
    unknown: mpsc::Sender<(http::Method, String)>,
    tasks: Mutex<lifecycle::Tasks>,
    scheduler: scheduler::Scheduler,
    /// The timer of scheduled flag changes.
    flag_timer: flag_schedule::FlagTimer,
    hits: hits::HitLog,
    hit_tx: mpsc::Sender<RateLimitHit>,
    trusted_proxies: IpNetList,
    client_ip_header: ClientIpHeader,
    /// `EngineBuilder::flag_context`, when set.
    flag_context: Option<builder::FlagContextFn>,
    /// Set once a per-IP limit met a request without a peer address (warned once).
    warned_no_peer: AtomicBool,
    counter_health: CounterHealth,
    /// Backend operations that failed outside a caller's mutation (loads, reloads, audit
    /// writes, route registration).
    backend_errors: AtomicU64,
    /// Whether the last load or reload of the backend's state succeeded.
    backend_loaded: AtomicBool,
    /// Refused requests per minute, for the dashboard's charts.
    traffic: traffic::Traffic,
    /// What the decision did with each route's requests.
    counters: crate::counters::RequestCounters,
    /// What tells a valid maintenance bypass token (installed by the admin).
    bypass: arc_swap::ArcSwapOption<crate::decide::BypassHook>,
    /// Whether a bypass check was ever installed: a refused request on an engine without
    /// one does not load it.
    bypass_installed: AtomicBool,
    extensions: Extensions,
}

/// A change the engine applied, from a local mutation or from another writer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// A route's state changed (or a maintenance window began).
    RouteChanged {
        /// The route key.
        key: String,
    },
    /// Global maintenance changed.
    GlobalChanged,
    /// Everything was reloaded from the backend.
    Reloaded,
    /// A flag or segment changed (here or, after a reload, on another instance).
    FlagsChanged,
    /// The details of a change this engine applied: every audited mutation (sent once it is
    /// stored, before [`RouteChanged`](Self::RouteChanged) or
    /// [`GlobalChanged`](Self::GlobalChanged)) and the opening and closing of maintenance
    /// windows. Changes made by other instances arrive as [`Reloaded`](Self::Reloaded) only.
    Applied(Arc<Change>),
}

impl Engine {
    /// An engine on a fresh [`MemoryBackend`](crate::backend::MemoryBackend), in env `dev`.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    fn from_parts(
        backend: Arc<dyn Backend>,
        env: String,
        requests: RequestSettings,
        skip_declared: bool,
    ) -> Self {
        let (unknown, unknown_rx) = mpsc::channel(256);
        let (hit_tx, hit_rx) = mpsc::channel(1024);
        let view = match skip_declared {
            false => View::from_registry(backend.rate_limit_counters()),
            true => View::empty(backend.rate_limit_counters()),
        };
        // A backend still reading its data says so to evaluations until it has.
        let flags = match backend.is_complete() {
            true => crate::flags::FlagSet::default(),
            false => crate::flags::FlagSet::pending(),
        };
        let inner = Arc::new(Inner {
            id: current::next_engine_id(),
            backend,
            env,
            clock: Clock::new(),
            snapshot: ArcSwap::default(),
            flags: ArcSwap::from_pointee(flags),
            flags_generation: AtomicU64::new(0),
            flag_telemetry: crate::flags::FlagTelemetry::default(),
            flag_usage: crate::flags::FlagUsage::default(),
            generation: AtomicU64::new(0),
            view: Mutex::new(view),
            write: tokio::sync::Mutex::new(()),
            events: broadcast::channel(256).0,
            unknown,
            tasks: Mutex::new(lifecycle::Tasks::new(unknown_rx, hit_rx)),
            scheduler: scheduler::Scheduler::default(),
            flag_timer: flag_schedule::FlagTimer::default(),
            hits: hits::HitLog::default(),
            hit_tx,
            trusted_proxies: requests.trusted_proxies,
            client_ip_header: requests.client_ip_header,
            flag_context: requests.flag_context,
            warned_no_peer: AtomicBool::new(false),
            counter_health: CounterHealth::new(requests.fail_closed),
            backend_errors: AtomicU64::new(0),
            backend_loaded: AtomicBool::new(false),
            traffic: traffic::Traffic::default(),
            counters: crate::counters::RequestCounters::default(),
            bypass: arc_swap::ArcSwapOption::empty(),
            bypass_installed: AtomicBool::new(false),
            extensions: Extensions::default(),
        });
        let engine = Self { inner };
        engine.publish(&mut engine.view());
        engine
    }

    /// This engine's identity within the process (the address of its shared state).
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The environment this engine enforces `env_only` routes for.
    pub fn current_env(&self) -> &str {
        &self.inner.env
    }

    /// The engine's clock: UTC time that follows tokio's clock (paused in tests).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    /// The proxies whose client-IP header is trusted to name the client.
    pub fn trusted_proxies(&self) -> &IpNetList {
        &self.inner.trusted_proxies
    }

    /// The header trusted proxies name the client in
    /// ([`EngineBuilder::client_ip_header`]).
    pub fn client_ip_header(&self) -> ClientIpHeader {
        self.inner.client_ip_header
    }

    /// Logs, once per engine, that a per-IP rate limit met a request without a peer address:
    /// every such request shares one counter.
    pub(crate) fn warn_no_peer_address(&self) {
        if !self.inner.warned_no_peer.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "waygate: a per-IP rate limit met a request without a peer address; every such \
                 request shares one counter. Serve with the peer address (axum: \
                 `into_make_service_with_connect_info::<SocketAddr>()`)"
            );
        }
    }

    /// The backend the engine stores state in.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.inner.backend
    }

    /// How many times the shared rate-limit counters (a Redis backend's) failed a check
    /// since the engine was built. Each failure let the request through uncounted, or
    /// refused it when the engine fails closed
    /// ([`EngineBuilder::rate_limit_fail_closed`]).
    pub fn rate_limit_storage_errors(&self) -> u64 {
        self.inner.counter_health.errors.load(Ordering::Relaxed)
    }

    /// How many backend operations failed since the engine was built, outside the
    /// mutations that report their own errors: loads and reloads of the state (each retry
    /// counts), audit writes, storing routes seen or mounted.
    pub fn backend_errors(&self) -> u64 {
        self.inner.backend_errors.load(Ordering::Relaxed)
    }

    /// Whether the engine's picture of the backend is current: the last load or reload
    /// succeeded (`false` before [`start`](Self::start), and while a Redis backend is
    /// unreachable).
    pub fn backend_loaded(&self) -> bool {
        self.inner.backend_loaded.load(Ordering::Relaxed)
    }

    /// What the decision did with each route's requests so far: `(route key, counts)`,
    /// the counts indexed like [`RequestOutcome::ALL`](crate::RequestOutcome::ALL), sorted
    /// by key; requests that matched no route under
    /// [`UNMATCHED_ROUTE`](crate::UNMATCHED_ROUTE). A request decided twice (by a layer and a
    /// `Gate` behind it) counts twice.
    pub fn request_counts(&self) -> Vec<(String, [u64; crate::RequestOutcome::COUNT])> {
        self.inner.counters.totals(UNMATCHED_ROUTE)
    }

    pub(crate) fn unmatched_counters(&self) -> &crate::counters::RouteCounters {
        &self.inner.counters.unmatched
    }

    /// Lets requests that carry a valid maintenance bypass token (as `check` tells) through
    /// maintenance, disabled routes and global and service maintenance — never env gates,
    /// rollouts or rate limits. The admin installs its own when it builds its router; one
    /// check per engine, the last installed wins.
    pub fn set_bypass_check(&self, check: impl crate::BypassCheck) {
        self.inner
            .bypass
            .store(Some(Arc::new(crate::decide::BypassHook(Box::new(check)))));
        self.inner.bypass_installed.store(true, Ordering::Release);
    }

    /// The bypass check, if one was installed (`None` without loading it, if none ever was).
    pub(crate) fn bypass_hook(
        &self,
    ) -> Option<arc_swap::Guard<Option<Arc<crate::decide::BypassHook>>>> {
        self.inner
            .bypass_installed
            .load(Ordering::Acquire)
            .then(|| self.inner.bypass.load())
    }

    pub(crate) fn note_backend_error(&self) {
        self.inner.backend_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// What a limited request does when the shared counters fail, and their record.
    pub(crate) fn counter_health(&self) -> &CounterHealth {
        &self.inner.counter_health
    }

    /// The current snapshot. Cheap: no allocation, no lock. Middleware calls this per request.
    pub fn snapshot(&self) -> Guard<Arc<Snapshot>> {
        self.inner.snapshot.load()
    }

    /// The current snapshot's [generation](Snapshot::generation), without loading the
    /// snapshot (one atomic read): what a cache of something derived from the state compares.
    /// It moves just after the snapshot is replaced.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// The state of one route, by exact key (`"GET:/payments"`).
    pub fn state(&self, key: &str) -> Option<RouteState> {
        self.view().state(key)
    }

    /// Every route's state, sorted by key (waygate's own sentinel records are hidden).
    pub fn list_states(&self) -> Vec<RouteState> {
        self.view().states()
    }

    /// The global maintenance configuration.
    pub fn global_maintenance(&self) -> GlobalMaintenanceConfig {
        self.view().global.clone()
    }

    /// The routes declared with `#[route]` (and mounted through an adapter's router), by key.
    pub fn declared_routes(&self) -> Vec<(String, &'static RouteMeta)> {
        let view = self.view();
        let mut routes: Vec<_> = view.metas.iter().map(|(k, m)| (k.clone(), *m)).collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        routes
    }

    /// The state each declared route's attributes give it (by full key, nest prefixes
    /// included), sorted by key: what the route starts with when nothing is stored.
    pub fn declared_states(&self) -> Vec<RouteState> {
        let view = self.view();
        let mut states: Vec<RouteState> = view
            .metas
            .iter()
            .map(|(key, meta)| view::attribute_state(key, meta))
            .collect();
        states.sort_by(|a, b| a.path.cmp(&b.path));
        states
    }

    /// Audit entries, newest first.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, EngineError> {
        Ok(self.inner.backend.audit_log(query).await?)
    }

    /// Changes as the engine applies them. Lagging receivers skip ahead (see
    /// [`broadcast`](tokio::sync::broadcast)).
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Asks the engine to register a route it has no state for (a plain axum route seen for
    /// the first time), off the request path.
    pub fn note_unknown_route(&self, method: &http::Method, template: &str) {
        // Full or closed channel: the route is registered on a later request.
        let _ = self
            .inner
            .unknown
            .try_send((method.clone(), template.to_owned()));
    }

    /// The engine's extension of type `T`, created with `T::default()` on first use: where
    /// a crate built on the engine keeps its own per-engine state (an adapter's webhook
    /// registry, say), dropped with the engine. Not for the request path: it takes a lock.
    pub fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.inner.extensions.get_or_default()
    }

    fn view(&self) -> MutexGuard<'_, View> {
        // Every update of the view is a plain assignment that cannot panic half-way, so a
        // poisoned lock still guards consistent data.
        self.inner.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rebuilds and publishes the snapshot from `view`.
    fn publish(&self, view: &mut View) {
        if std::mem::take(&mut view.records.flags_changed) {
            self.publish_flags(&view.records);
        }
        view.generation += 1;
        let snapshot = view.snapshot(&self.inner.env, &self.inner.counters);
        self.inner.snapshot.store(Arc::new(snapshot));
        self.inner
            .generation
            .store(view.generation, Ordering::Release);
    }

    fn emit(&self, event: EngineEvent) {
        // No receivers is fine.
        let _ = self.inner.events.send(event);
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("env", &self.inner.env)
            .field("backend", &self.inner.backend)
            .field("generation", &self.snapshot().generation())
            .finish_non_exhaustive()
    }
}
