//! What the macros' generated code names. Not public API: no semver guarantees.

pub use crate::adapter::{
    call_factory, BoxResponseFuture, RateLimitResponse, ResponseFn, RouteResponse,
};
pub use ::axum;
pub use ::axum::routing::MethodFilter;
pub use waygate_core::__private::*;
pub use waygate_core::__waygate_submit_flag as submit_flag;
pub use waygate_core::__waygate_submit_route as submit_route;
