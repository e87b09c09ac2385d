#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Generated code names `::waygate_actix::__private`; this makes that path work inside the
// crate (its own unit tests and doc examples).
#[allow(unused_extern_crates)]
extern crate self as waygate_actix;

#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub mod admin;
pub mod prelude;
#[cfg(feature = "sdk")]
#[cfg_attr(docsrs, doc(cfg(feature = "sdk")))]
#[doc(inline)]
pub use waygate_sdk as sdk;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
#[doc(inline)]
pub use waygate_webhooks as webhooks;

mod convert;
mod extractor;
mod flag_context;
mod future;
mod head;
mod middleware;
mod pattern;
mod refuse;
mod response;
mod routes;
mod service;
mod template;

#[doc(hidden)]
pub mod __private;

pub use crate::extractor::{Gate, GateFuture, Gated};
pub use crate::flag_context::FlagContext;
pub use crate::future::ResponseFuture;
pub use crate::middleware::{Responses, Waygate};
pub use crate::response::{
    BlockKind, Blocked, BoxResponseFuture, IntoFactoryResponse, RateLimited, ResponseFn,
};
pub use crate::routes::Routes;
pub use crate::service::WaygateService;
pub use waygate_core::{backend, flags, model, rate_limit, registry, stored, wire};
pub use waygate_core::{
    Actor, AuditEntry, AuditQuery, BackendKind, Change, ClientIpHeader, ConfigError,
    DeprecationHeaders, Engine, EngineBuilder, EngineError, EngineEvent, Flags,
    GlobalMaintenanceConfig, HitQuery, Identity, MaintenanceWindow, PolicyChange, RequestOutcome,
    RouteState, RouteStatus, RouteTrafficSeries, Snapshot, TrafficReport, Verdict, TRAFFIC_MINUTES,
    UNMATCHED_ROUTE,
};

#[cfg(feature = "macros")]
pub use waygate_macros::{
    deprecated_route, disabled, env_only, feature_flag, flag, force_active, maintenance,
    rate_limit, rollout, route,
};

/// Mounts handlers declared with `#[route]`:
/// `App::new().configure(routes![a, b].config(&engine))`.
///
/// Listing the same method and path twice is a compile error. Each route's resource gets a
/// guard that refuses requests reaching it under a path waygate does not know (inside a
/// `web::scope`); nest with [`Routes::nest`] instead.
#[macro_export]
macro_rules! routes {
    ($($handler:path),* $(,)?) => {{
        const _: () = $crate::__private::assert_unique_keys(&[$(<$handler>::KEY),*]);
        $crate::Routes::__new()
            $(.__route(
                <$handler>::META,
                $crate::__private::route(<$handler>::METHOD_FILTER, $handler),
            ))*
    }};
}
