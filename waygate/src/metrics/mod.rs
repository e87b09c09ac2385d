//! Prometheus metrics: what waygate decided for each request, the state of every route,
//! and the health of what it stores in.
//!
//! ```no_run
//! use axum::Router;
//! use waygate::metrics::WaygateMetrics;
//! use waygate::prelude::*;
//!
//! let engine = Engine::new();
//! let metrics = WaygateMetrics::new(engine.clone());
//! let app: Router = Router::new()
//!     // .merge(routes![..])
//!     .layer(WaygateLayer::new(engine))
//!     // Below the layer, so that global maintenance does not stop the scrapes.
//!     .route("/metrics", metrics.endpoint());
//! # let _ = app;
//! ```
//!
//! `GET /metrics` answers in the Prometheus text format (0.0.4):
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `waygate_requests_total` | counter | `route`, `outcome` | requests per route key and what waygate did: `allowed`, `maintenance`, `disabled`, `env_gated`, `rate_limited`, `global_maintenance`, `bypassed`, `rollout_excluded` |
//! | `waygate_route_status` | gauge | `route`, `status` | `1` for the route's current status (`active`, `maintenance`, `disabled`, `env_gated`, `deprecated`), `0` for the others |
//! | `waygate_route_rollout_percentage` | gauge | `route` | the share of clients a route is served to |
//! | `waygate_global_maintenance` | gauge | | `1` while global maintenance is on |
//! | `waygate_rate_limit_storage_errors_total` | counter | | checks the shared rate-limit counters (Redis) failed ([`Engine::rate_limit_storage_errors`]) |
//! | `waygate_backend_errors_total` | counter | | backend operations that failed ([`Engine::backend_errors`]) |
//! | `waygate_backend_up` | gauge | | `1` while the engine's picture of the backend is current ([`Engine::backend_loaded`]): a Redis backend's connection state |
//!
//! Counting costs the request path one relaxed atomic add on a cache line of the counting
//! thread's own (no lock, no allocation), so cores serving the same route do not contend.
//! The `route` label is a route key (`GET:/items/{id}`), never a raw path, so the number of
//! series is bounded by the routes you declare.

mod counters;

use crate::{Engine, RouteStatus};
use arc_swap::ArcSwap;
use counters::RouteCounters;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::Arc;

/// The route label of requests that matched no route (global maintenance of an unknown
/// path, for instance).
pub const UNMATCHED: &str = "__unmatched__";

/// What waygate did with a request, as counted in `waygate_requests_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Served (active, deprecated, force-active, or within its limits).
    Allowed = 0,
    /// Refused: the route is in maintenance.
    Maintenance = 1,
    /// Refused: the route is disabled.
    Disabled = 2,
    /// Refused: the route is not served in this environment.
    EnvGated = 3,
    /// Refused: over a rate limit.
    RateLimited = 4,
    /// Refused: global (or service) maintenance.
    GlobalMaintenance = 5,
    /// Served despite maintenance or a disabled route, for a valid bypass token.
    Bypassed = 6,
    /// Refused: the client is outside the route's rollout percentage.
    RolloutExcluded = 7,
}

impl Outcome {
    const COUNT: usize = 8;

    /// Every outcome, in label order.
    pub const ALL: [Self; Self::COUNT] = [
        Self::Allowed,
        Self::Maintenance,
        Self::Disabled,
        Self::EnvGated,
        Self::RateLimited,
        Self::GlobalMaintenance,
        Self::Bypassed,
        Self::RolloutExcluded,
    ];

    /// The `outcome` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Maintenance => "maintenance",
            Self::Disabled => "disabled",
            Self::EnvGated => "env_gated",
            Self::RateLimited => "rate_limited",
            Self::GlobalMaintenance => "global_maintenance",
            Self::Bypassed => "bypassed",
            Self::RolloutExcluded => "rollout_excluded",
        }
    }
}

/// waygate's Prometheus metrics over one engine. Cheap to clone: clones share the counters.
#[derive(Clone)]
pub struct WaygateMetrics {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    /// Counters by route key. Replaced whole (rarely: a route counted for the first time),
    /// read without a lock on every request.
    routes: ArcSwap<FxHashMap<Box<str>, Arc<RouteCounters>>>,
}

impl fmt::Debug for WaygateMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaygateMetrics")
            .field("engine", &self.inner.engine)
            .field("routes", &self.inner.routes.load().len())
            .finish()
    }
}

impl WaygateMetrics {
    /// Metrics of `engine`'s routes. Every route the engine knows now gets its counters
    /// up front; routes seen later get theirs on their first request.
    pub fn new(engine: Engine) -> Self {
        let mut routes = FxHashMap::default();
        let known = engine
            .list_states()
            .into_iter()
            .map(|state| state.path)
            .chain(engine.declared_routes().into_iter().map(|(key, _)| key));
        for key in known.chain(std::iter::once(UNMATCHED.to_owned())) {
            routes
                .entry(key.into_boxed_str())
                .or_insert_with(Default::default);
        }
        Self {
            inner: Arc::new(Inner {
                engine,
                routes: ArcSwap::from_pointee(routes),
            }),
        }
    }

    /// The engine whose routes these are.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Counts one request to `route` (a route key such as `GET:/items/{id}`, or
    /// [`UNMATCHED`]) with `outcome`. Allocation-free and lock-free for a route counted
    /// before; the first request of a route new to the metrics adds its counters.
    #[inline]
    pub fn record(&self, route: &str, outcome: Outcome) {
        if let Some(counters) = self.inner.routes.load().get(route) {
            counters.add(outcome);
            return;
        }
        self.add_route(route).add(outcome);
    }

    #[cold]
    fn add_route(&self, route: &str) -> Arc<RouteCounters> {
        let mut added = None;
        self.inner.routes.rcu(|routes| {
            let mut routes = FxHashMap::clone(routes);
            let counters = routes.entry(route.into()).or_default();
            added = Some(Arc::clone(counters));
            routes
        });
        added.expect("rcu runs its closure at least once")
    }

    /// How many requests to `route` had `outcome` so far.
    pub fn count(&self, route: &str, outcome: Outcome) -> u64 {
        self.inner
            .routes
            .load()
            .get(route)
            .map_or(0, |counters| counters.get(outcome))
    }

    /// Every metric, in the Prometheus text format (0.0.4).
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Collect(self.clone())));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// The handler to mount where Prometheus scrapes:
    /// `app.route("/metrics", metrics.endpoint())`.
    pub fn endpoint<S>(&self) -> axum::routing::MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let metrics = self.clone();
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        })
    }
}

/// The collector a scrape encodes.
struct Collect(WaygateMetrics);

impl fmt::Debug for Collect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Collect")
    }
}

const STATUSES: [(RouteStatus, &str); 5] = [
    (RouteStatus::Active, "active"),
    (RouteStatus::Maintenance, "maintenance"),
    (RouteStatus::Disabled, "disabled"),
    (RouteStatus::EnvGated, "env_gated"),
    (RouteStatus::Deprecated, "deprecated"),
];

impl Collector for Collect {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let engine = &self.0.inner.engine;
        let routes = self.0.inner.routes.load();
        let mut keys: Vec<&str> = routes.keys().map(|k| &**k).collect();
        keys.sort_unstable();

        let requests = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "waygate_requests",
            "Requests by route key and what waygate did with them",
            None,
            requests.metric_type(),
        )?;
        for key in &keys {
            let counters = &routes[*key];
            for outcome in Outcome::ALL {
                let labels = [("route", *key), ("outcome", outcome.label())];
                ConstCounter::new(counters.get(outcome)).encode(family.encode_family(&labels)?)?;
            }
        }

        let now = engine.now();
        let states = engine.list_states();
        let mut family = encoder.encode_descriptor(
            "waygate_route_status",
            "1 for the route's current status, 0 for the others",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for state in &states {
            let current = state.effective_status(now);
            for (status, label) in STATUSES {
                let labels = [("route", state.path.as_str()), ("status", label)];
                ConstGauge::new(i64::from(current == status))
                    .encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "waygate_route_rollout_percentage",
            "The share of clients the route is served to",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for state in &states {
            let labels = [("route", state.path.as_str())];
            ConstGauge::new(i64::from(state.rollout_percentage.min(100)))
                .encode(family.encode_family(&labels)?)?;
        }

        let global = ConstGauge::new(i64::from(engine.global_maintenance().enabled));
        global.encode(encoder.encode_descriptor(
            "waygate_global_maintenance",
            "1 while global maintenance is on",
            None,
            global.metric_type(),
        )?)?;
        let storage = ConstCounter::new(engine.rate_limit_storage_errors());
        storage.encode(encoder.encode_descriptor(
            "waygate_rate_limit_storage_errors",
            "Checks of the shared rate-limit counters that failed",
            None,
            storage.metric_type(),
        )?)?;
        let backend = ConstCounter::new(engine.backend_errors());
        backend.encode(encoder.encode_descriptor(
            "waygate_backend_errors",
            "Backend operations that failed",
            None,
            backend.metric_type(),
        )?)?;
        let up = ConstGauge::new(i64::from(engine.backend_loaded()));
        up.encode(encoder.encode_descriptor(
            "waygate_backend_up",
            "1 while the engine's picture of the backend is current",
            None,
            up.metric_type(),
        )?)?;
        Ok(())
    }
}
