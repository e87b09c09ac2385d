//! The framework-free core of [waygate](https://docs.rs/waygate): every route's state, the
//! engine that owns it, the backends that store it, rate limiting, and the one decision each
//! framework adapter calls per request.
//!
//! Most users depend on an adapter instead — `waygate` for axum, `waygate-actix` for
//! actix-web — which re-export this crate. Depend on it directly to write an adapter of your
//! own: a request's whole fate is [`Engine::decide`], and an adapter is a short match over
//! its [`Decision`].
//!
//! ```
//! use http::Request;
//! use waygate_core::{Decision, Engine};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), waygate_core::EngineError> {
//! let engine = Engine::new();
//! engine.start().await?;
//! let (parts, ()) = Request::get("/health").body(()).unwrap().into_parts();
//! let snapshot = engine.snapshot();
//! match engine.decide(&snapshot, &parts, Some("/health")) {
//!     Decision::Serve(serve) => assert!(serve.deprecation.is_none()),
//!     Decision::Refuse(refusal) => panic!("refused: {:?}", refusal.status()),
//!     Decision::CountShared => unreachable!("no shared counters on the memory backend"),
//! }
//! # engine.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | `file` | `backend::FileBackend`: a JSON state file shared between processes |
//! | `redis` | `backend::RedisBackend`: state, audit, policies and counters shared on one Redis |
//! | `linkme` | the route registry in a `linkme` distributed slice (no code before `main`) |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
pub mod flags;
pub mod model;
pub mod rate_limit;
pub mod registry;
pub mod rollout;
pub mod stored;
pub mod wire;

mod clock;
mod config;
mod counters;
mod decide;
mod engine;
mod error;
mod extensions;
mod limiter;
mod limits;
mod mount;
mod path_match;
mod route_slot;
mod snapshot;

pub use config::{BackendKind, ConfigError};
pub use counters::RequestOutcome;
pub use decide::{
    builtin_blocked_response, BypassCheck, BypassRequest, ClientIpHeader, Decision,
    DefaultResponses, LimitExceeded, LimitHeaders, LimitsCounted, Refusal, RequestHead,
    ResponseChoice, ResponseDefaults, Serve, ServedHeaders, SkipPaths, DEFAULT_ADMIN_PATH,
};
pub use engine::{
    Change, Engine, EngineBuilder, EngineEvent, Flags, PolicyChange, RefusalKind,
    RouteTrafficSeries, ThreadSnapshot, TrafficReport, TRAFFIC_MINUTES, UNMATCHED_ROUTE,
};
pub use error::EngineError;
pub use limiter::Identity;
pub use model::{
    Actor, AuditEntry, AuditQuery, GlobalMaintenanceConfig, HitQuery, MaintenanceWindow,
    RouteState, RouteStatus,
};
pub use mount::{join_path, MountCheck};
pub use route_slot::{RouteSlot, SlotAnswer, SlotGate};
pub use snapshot::{
    Block, BlockCause, BlockKind, DeprecationHeaders, Pass, Rule, Snapshot, Verdict,
};

/// What an adapter's `__private` module re-exports for the attribute macros' generated code.
/// Not public API: no semver guarantees.
#[doc(hidden)]
pub mod __private {
    #[cfg(not(feature = "linkme"))]
    pub use crate::flags::declared::FlagRegistration;
    #[cfg(feature = "linkme")]
    pub use crate::flags::declared::WAYGATE_FLAGS;
    pub use crate::flags::{BoolFlag, DeclaredDefault, FlagDeclaration};
    pub use crate::rate_limit::{Algorithm, OnMissingKey};
    #[cfg(not(feature = "linkme"))]
    pub use crate::registry::Registration;
    #[cfg(feature = "linkme")]
    pub use crate::registry::WAYGATE_ROUTES;
    pub use crate::registry::{
        assert_unique_keys, FeatureFlagMeta, InitialStatus, KeyMeta, LimitMeta, RateLimitMeta,
        RolloutKeyMeta, RolloutMeta, RouteMeta,
    };
    #[cfg(not(feature = "linkme"))]
    pub use ::inventory;
    #[cfg(feature = "linkme")]
    pub use ::linkme;
    pub use ::serde_json;
}
