//! The layer allocates nothing on an allowed request to an active route: the same request
//! through axum with a do-nothing layer and through axum with `WaygateLayer` makes the same
//! number of heap allocations. (The baseline needs a layer of the same shape: `Router::layer`
//! itself boxes every route's service and future, whatever the layer does.)
//!
//! Both routers are finalized (`with_state`), as `axum::serve` does for each connection: a
//! router left unfinalized turns every handler into a service, layers applied, on every
//! request, and each of those gives its route a new slot (`RouteSlot`, one allocation, and
//! one more for the template it learns).

use axum::Router;
use http::{Method, Request};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use waygate::prelude::*;

mod common;

// Counts every allocation of the process; this file holds a single test on a
// current-thread runtime, so the counts are this request's.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A layer that does nothing but carry shared state, as every real middleware does.
#[derive(Clone, Default)]
struct PassThroughLayer(Arc<()>);

#[derive(Clone)]
struct PassThrough<S>(S, #[allow(dead_code)] Arc<()>);

impl<S> Layer<S> for PassThroughLayer {
    type Service = PassThrough<S>;

    fn layer(&self, inner: S) -> PassThrough<S> {
        PassThrough(inner, self.0.clone())
    }
}

impl<S: Service<Request<B>>, B> Service<Request<B>> for PassThrough<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> S::Future {
        self.0.call(request)
    }
}

#[route(GET, "/items/{id}")]
async fn item() -> &'static str {
    "item"
}

#[route(GET, "/health")]
async fn health() -> &'static str {
    "ok"
}

/// Allocations made while `router` is finalized as `axum::serve` does for each connection.
fn converting(router: &Router) -> u64 {
    let router = router.clone();
    let region = stats_alloc::Region::new(GLOBAL);
    let served = router.with_state::<()>(());
    let stats = region.change();
    drop(served);
    (stats.allocations + stats.reallocations) as u64
}

async fn allocations(app: &Router, method: &Method, uri: &str) -> u64 {
    common::allocations::of(GLOBAL, app, method.clone(), uri).await
}

#[tokio::test(flavor = "current_thread")]
async fn an_allowed_request_costs_no_allocation() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let unfinalized_bare: Router = Router::new()
        .merge(routes![item, health])
        .layer(PassThroughLayer::default());
    let unfinalized_layered: Router = Router::new()
        .merge(routes![item, health])
        .layer(WaygateLayer::new(engine.clone()));

    // A new connection to a router without state: `axum::serve` turns every handler into
    // its service, layers applied. The layer makes a route's slot only when a request
    // reaches the route, not for every route of every connection.
    // The first conversion makes the slots every later one shares (a clone of a route's
    // service shares its slot): count the second.
    converting(&unfinalized_bare);
    converting(&unfinalized_layered);
    let bare_connection = converting(&unfinalized_bare);
    let layered_connection = converting(&unfinalized_layered);
    assert_eq!(
        layered_connection,
        bare_connection,
        "a connection: the layer added {} allocation(s)",
        layered_connection as i64 - bare_connection as i64
    );

    let bare = unfinalized_bare.with_state(());
    let layered = unfinalized_layered.with_state(());

    assert!(engine.snapshot().knows(&http::Method::GET, "/items/{id}"));
    // GET: answered by each route's slot once a decision taught it. HEAD (served by the GET
    // handler): decided in full every time, since a slot answers only the method it learnt.
    for method in [Method::GET, Method::HEAD] {
        for uri in ["/health", "/items/42"] {
            // Warm both paths once (lazy statics, thread-locals, the slot).
            allocations(&bare, &method, uri).await;
            allocations(&layered, &method, uri).await;
            let bare_count = allocations(&bare, &method, uri).await;
            let layered_count = allocations(&layered, &method, uri).await;
            assert_eq!(
                layered_count,
                bare_count,
                "{method} {uri}: the layer added {} allocation(s)",
                layered_count as i64 - bare_count as i64
            );
        }
    }
}
