//! The guard `routes!` puts on a declared route wraps its handler rather than layering the
//! route: a declared route's request makes at most one heap allocation more than the same
//! handler mounted as a plain axum route (the guard's copy of itself, which axum boxes for
//! each request), where the `route_layer` it was made four (it boxed the route's service and
//! its future again). With app state that is not zero-sized (most apps'), axum boxes the
//! handler's copy with the state anyway, and the guard adds none.

use axum::routing::get;
use axum::Router;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::Arc;
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

/// How many more allocations `declared` makes than `plain` for `GET /items/42`.
async fn added(plain: &Router, declared: &Router) -> i64 {
    // Warm both once (lazy statics, thread-locals).
    allocations(plain).await;
    allocations(declared).await;
    allocations(declared).await as i64 - allocations(plain).await as i64
}

#[tokio::test(flavor = "current_thread")]
async fn the_mount_guard_adds_one_allocation_at_most_and_none_with_app_state() {
    let plain: Router = Router::new().route("/items/{id}", get(item));
    let declared: Router = Router::new().merge(routes![item]);
    let stateless = added(&plain, &declared).await;
    assert!(stateless <= 1, "without state, the guard added {stateless}");

    let state = Arc::new(7_u8);
    let plain: Router = Router::new()
        .route("/items/{id}", get(item))
        .with_state(Arc::clone(&state));
    let declared: Router = Router::<Arc<u8>>::new()
        .merge(routes![item])
        .with_state(state);
    let with_state = added(&plain, &declared).await;
    assert!(with_state <= 0, "with state, the guard added {with_state}");
}
