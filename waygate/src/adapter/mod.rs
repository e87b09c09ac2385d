//! The axum adapter: the [`WaygateLayer`] middleware, the [`Gate`] extractor, `routes![..]`
//! support and the nest-aware [`WaygateRouter`].

mod extractor;
mod flag_context;
mod future;
mod head;
mod layer;
mod mount;
mod refuse;
mod response;
mod router;
mod service;

pub use extractor::Gate;
pub use flag_context::FlagContext;
pub use future::ResponseFuture;
/// The client IP as the rate limiter finds it; the admin's login throttle keys by it too.
#[cfg(feature = "admin")]
pub(crate) use head::AxumHead;
pub use layer::{Responses, WaygateLayer};
pub use response::{
    call_factory, BlockKind, Blocked, BoxResponseFuture, IntoFactoryResponse, RateLimitResponse,
    RateLimited, ResponseFn, RouteResponse,
};
pub use router::{Routes, WaygateRouter};
pub use service::Waygate;
