//! The guard `routes!` puts on a declared route wraps its handler rather than layering the
//! route: a declared route's request makes at most one heap allocation more than the same
//! handler mounted as a plain axum route (the guard's copy of itself, which axum boxes for
//! each request), where the `route_layer` it was made four (it boxed the route's service and
//! its future again).

use axum::routing::get;
use axum::Router;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use waygate::prelude::*;

mod common;

// Counts every allocation of the process; this file holds a single test on a
// current-thread runtime, so the counts are this request's.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[route(GET, "/items/{id}")]
async fn item() -> &'static str {
    "item"
}

async fn allocations(app: &Router) -> u64 {
    common::allocations::of_get(GLOBAL, app, "/items/42").await
}

#[tokio::test(flavor = "current_thread")]
async fn a_declared_route_costs_at_most_one_allocation_more_than_a_plain_one() {
    let plain: Router = Router::new().route("/items/{id}", get(item));
    let declared: Router = Router::new().merge(routes![item]);
    // Warm both once (lazy statics, thread-locals).
    allocations(&plain).await;
    allocations(&declared).await;
    let plain_count = allocations(&plain).await;
    let declared_count = allocations(&declared).await;
    assert!(
        declared_count <= plain_count + 1,
        "the guard added {} allocation(s) ({declared_count} beside {plain_count})",
        declared_count as i64 - plain_count as i64
    );
}
