#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Generated code names `::waygate::__private`; this makes that path work inside the crate
// (its own tests and doc examples).
#[allow(unused_extern_crates)]
extern crate self as waygate;

#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub mod admin;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
pub mod prelude;
#[cfg(feature = "sdk")]
#[cfg_attr(docsrs, doc(cfg(feature = "sdk")))]
#[doc(inline)]
pub use waygate_sdk as sdk;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod serve;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
#[doc(inline)]
pub use waygate_webhooks as webhooks;

mod adapter;

#[doc(hidden)]
pub mod __private;

pub use crate::adapter::{
    BlockKind, Blocked, FlagContext, Gate, IntoFactoryResponse, RateLimited, ResponseFuture,
    Responses, Routes, Waygate, WaygateLayer, WaygateRouter,
};
pub use waygate_core::{backend, flags, model, rate_limit, registry, rollout, stored, wire};
pub use waygate_core::{
    Actor, AuditEntry, AuditQuery, BackendKind, BlockCause, BypassCheck, BypassRequest, Change,
    ClientIpHeader, ConfigError, DeprecationHeaders, Engine, EngineBuilder, EngineError,
    EngineEvent, Flags, GlobalMaintenanceConfig, HitQuery, Identity, MaintenanceWindow,
    PolicyChange, RefusalKind, RequestOutcome, RouteState, RouteStatus, RouteTrafficSeries,
    Snapshot, TrafficReport, Verdict, TRAFFIC_MINUTES, UNMATCHED_ROUTE,
};

#[cfg(feature = "macros")]
pub use waygate_macros::{
    deprecated_route, disabled, env_only, feature_flag, flag, force_active, maintenance,
    rate_limit, rollout, route,
};

/// Mounts handlers declared with `#[route]`: `Router::new().merge(routes![a, b])`.
///
/// The router's state type is inferred where the routes are merged, so handlers may take
/// any `State<S>`. Listing the same method and path twice is a compile error (axum would
/// panic at startup). Each route gets a guard that refuses requests reaching it under a
/// path waygate does not know (a plain `axum::Router::nest`); nest with
/// [`WaygateRouter::nest`] instead.
#[macro_export]
macro_rules! routes {
    ($($handler:path),* $(,)?) => {{
        const _: () = $crate::__private::assert_unique_keys(&[$(<$handler>::KEY),*]);
        $crate::Routes::__new()
            $(.__route(
                <$handler>::META,
                <$handler>::METHOD_FILTER,
                $handler,
            ))*
    }};
}
