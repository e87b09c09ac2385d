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
//! | `waygate_requests_total` | counter | `route`, `outcome` | requests per route key and what waygate did: `allowed`, `maintenance`, `disabled`, `env_gated`, `rate_limited`, `global_maintenance`, `bypassed`, `rollout_excluded`, `flag_off` (a `#[feature_flag]` route whose flag is off for the request) |
//! | `waygate_flag_evaluations_total` | counter | `flag`, `variation`, `reason` | flag evaluations in this process by what they served and why (`OFF`, `FALLTHROUGH`, `TARGET_MATCH`, `RULE_MATCH`, `PREREQUISITE_FAIL`, `ERROR`); pairs never served are left out |
//! | `waygate_route_status` | gauge | `route`, `status` | `1` for the route's current status (`active`, `maintenance`, `disabled`, `env_gated`, `deprecated`), `0` for the others |
//! | `waygate_route_rollout_percentage` | gauge | `route` | the share of clients a route is served to |
//! | `waygate_global_maintenance` | gauge | | `1` while global maintenance is on |
//! | `waygate_rate_limit_storage_errors_total` | counter | | checks the shared rate-limit counters (Redis) failed ([`Engine::rate_limit_storage_errors`]) |
//! | `waygate_backend_errors_total` | counter | | backend operations that failed ([`Engine::backend_errors`]) |
//! | `waygate_backend_up` | gauge | | `1` while the engine's picture of the backend is current ([`Engine::backend_loaded`]): a Redis backend's connection state |
//! | `waygate_sdk_connected` | gauge | `app_id` | `1` while the stream from the Waygate Server is open (feature `sdk`, after [`WaygateMetrics::sdk`]) |
//! | `waygate_sdk_failed_connections_total` | counter | `app_id` | connection attempts to the Waygate Server that failed |
//!
//! The engine counts every decision on the route's counters, which sit beside its rule in
//! the snapshot: one relaxed atomic add on a cache line of the counting thread's own (no
//! lookup, no lock, no allocation), so cores serving the same route do not contend. The
//! `route` label is a route key (`GET:/items/{id}`), never a raw path, so the number of
//! series is bounded by the routes you declare; requests that matched none are counted under
//! `__unmatched__`.
//!
//! Each decision counts once: a handler that takes a [`Gate`](crate::Gate) *and* sits behind
//! a [`WaygateLayer`](crate::WaygateLayer) is decided twice, so its allowed requests count
//! twice (the rate limits still count them once). Use one of the two per route — the layer
//! for an app, the gate for a handler served without it.

use crate::{Engine, RouteStatus};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::fmt;

pub use crate::RequestOutcome as Outcome;
/// The route label of requests that matched no route (global maintenance of an unknown
/// path, for instance).
pub use crate::UNMATCHED_ROUTE as UNMATCHED;

/// waygate's Prometheus metrics over one engine. Cheap to clone.
///
/// The counting itself is the engine's: every [`Engine::decide`] counts its outcome on the
/// route's counters; this renders them with the rest.
#[derive(Clone, Debug)]
pub struct WaygateMetrics {
    engine: Engine,
    #[cfg(feature = "sdk")]
    sdk: Option<std::sync::Arc<crate::sdk::SdkBackend>>,
}

impl WaygateMetrics {
    /// Metrics of `engine`'s routes.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            #[cfg(feature = "sdk")]
            sdk: None,
        }
    }

    /// Metrics of a service attached to a Waygate Server: its engine's, and the state of
    /// its connection to the server.
    #[cfg(feature = "sdk")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sdk")))]
    pub fn sdk(sdk: &crate::sdk::WaygateSdk) -> Self {
        Self {
            engine: sdk.engine().clone(),
            sdk: Some(sdk.backend().clone()),
        }
    }

    /// The engine whose routes these are.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// How many requests to `route` had `outcome` so far.
    pub fn count(&self, route: &str, outcome: Outcome) -> u64 {
        let index = Outcome::ALL.iter().position(|o| *o == outcome);
        self.engine
            .request_counts()
            .into_iter()
            .find(|(key, _)| key == route)
            .zip(index)
            .map_or(0, |((_, counts), index)| counts[index])
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
        let engine = &self.0.engine;
        #[cfg(feature = "sdk")]
        if let Some(sdk) = &self.0.sdk {
            encode_sdk(sdk, &mut encoder)?;
        }

        let requests = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "waygate_requests",
            "Requests by route key and what waygate did with them",
            None,
            requests.metric_type(),
        )?;
        for (key, counts) in engine.request_counts() {
            for (outcome, count) in Outcome::ALL.into_iter().zip(counts) {
                let labels = [("route", key.as_str()), ("outcome", outcome.label())];
                ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
            }
        }

        let mut family = encoder.encode_descriptor(
            "waygate_flag_evaluations",
            "Flag evaluations by flag, variation served and reason",
            None,
            requests.metric_type(),
        )?;
        for counted in engine.flag_telemetry().evaluations() {
            let labels = [
                ("flag", counted.flag.as_str()),
                ("variation", counted.variation.as_str()),
                ("reason", counted.reason),
            ];
            ConstCounter::new(counted.count).encode(family.encode_family(&labels)?)?;
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

/// The connection of a service to its Waygate Server.
#[cfg(feature = "sdk")]
fn encode_sdk(
    sdk: &crate::sdk::SdkBackend,
    encoder: &mut DescriptorEncoder<'_>,
) -> Result<(), fmt::Error> {
    let labels = [("app_id", sdk.app_id().to_owned())];
    let connected = ConstGauge::new(i64::from(sdk.is_connected()));
    let mut family = encoder.encode_descriptor(
        "waygate_sdk_connected",
        "1 while the stream from the Waygate Server is open",
        None,
        connected.metric_type(),
    )?;
    connected.encode(family.encode_family(&labels)?)?;
    let failed = ConstCounter::new(sdk.failed_attempts());
    let mut family = encoder.encode_descriptor(
        "waygate_sdk_failed_connections",
        "Connection attempts to the Waygate Server that failed",
        None,
        failed.metric_type(),
    )?;
    failed.encode(family.encode_family(&labels)?)?;
    Ok(())
}
