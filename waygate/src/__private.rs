//! What the macros' generated code names. Not public API: no semver guarantees.

pub use crate::__waygate_submit_route as submit_route;
pub use crate::axum::{
    call_factory, BoxResponseFuture, MountGuardLayer, RateLimitResponse, ResponseFn, RouteResponse,
};
#[cfg(not(feature = "linkme"))]
pub use crate::registry::Registration;
#[cfg(feature = "linkme")]
pub use crate::registry::WAYGATE_ROUTES;
pub use crate::registry::{
    InitialStatus, KeyMeta, LimitMeta, RateLimitMeta, RolloutKeyMeta, RolloutMeta, RouteMeta,
};
pub use ::axum;
pub use ::axum::routing::MethodFilter;
#[cfg(not(feature = "linkme"))]
pub use ::inventory;
#[cfg(feature = "linkme")]
pub use ::linkme;

/// Fails compilation when two routes in one `routes![..]` share a method and path (axum would
/// panic at startup).
pub const fn assert_unique_keys(keys: &[&str]) {
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() {
            if str_eq(keys[i], keys[j]) {
                panic!(
                    "routes![..] mounts the same method and path twice; each route may appear once"
                );
            }
            j += 1;
        }
        i += 1;
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
