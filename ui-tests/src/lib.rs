//! Compile-fail and compile-pass tests of the waygate attributes (see `tests/ui`).
//!
//! The library itself declares public handlers with every attribute, so that the workspace's
//! lints (`missing_docs`, `unreachable_pub`, `missing_debug_implementations`, ..) and clippy,
//! pedantic lints included, check the code the macros generate in a library.
#![deny(warnings, clippy::pedantic)]

use axum::http::request::Parts;
use waygate::prelude::*;
use waygate::{Blocked, RateLimited};

/// A handler with a window, a factory and a rate limit.
#[route(GET, "/items/{id}")]
#[maintenance(
    reason = "DB migration",
    start = "2026-12-01T02:00:00Z",
    end = "2026-12-01T04:00:00Z",
    response = down
)]
#[rate_limit(
    { free = "10/minute", pro = "100/minute", enterprise = "unlimited" },
    key = custom(tenant),
    exempt_ips = ["127.0.0.1"],
    exempt_roles = ["admin"],
    response = slow_down
)]
pub async fn get_item() -> &'static str {
    "item"
}

/// A disabled handler.
#[disabled(reason = "use /v2")]
#[route(POST, "/v1/items")]
pub async fn create_item_v1() {}

/// An env-gated handler.
#[route(GET, "/debug")]
#[env_only("dev", "staging")]
pub async fn debug() {}

/// A deprecated handler.
#[route(GET, "/v1/users")]
#[deprecated_route(
    sunset = "Fri, 01 Jan 2027 00:00:00 GMT",
    use_instead = "/v2/users",
    since = "2026-06-01T00:00:00Z"
)]
pub async fn v1_users() {}

/// A force-active handler.
#[route(GET, "/health")]
#[force_active]
pub async fn health() {}

/// Every route above, mounted.
pub fn app() -> axum::Router {
    axum::Router::new().merge(routes![get_item, create_item_v1, debug, v1_users, health])
}

fn down(blocked: Blocked) -> String {
    blocked.reason
}

async fn slow_down(limited: RateLimited) -> String {
    limited.limit
}

fn tenant(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-tenant")?
        .to_str()
        .ok()
        .map(str::to_owned)
}
