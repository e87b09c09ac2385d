//! What the macros' generated code names. Not public API: no semver guarantees.

pub use crate::response::{
    call_factory, BoxResponseFuture, RateLimitResponse, ResponseFn, RouteResponse,
};
pub use crate::routes::{route, MethodFilter};
pub use waygate_core::__private::*;
pub use waygate_core::__waygate_submit_route as submit_route;

/// Fails compilation when two routes in one `routes![..]` share a method and path.
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
