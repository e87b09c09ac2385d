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

async fn allocations(app: &Router, method: &Method, uri: &str) -> u64 {
    common::allocations::of(GLOBAL, app, method.clone(), uri).await
}

#[tokio::test(flavor = "current_thread")]
async fn an_allowed_request_costs_no_allocation() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let bare: Router = Router::new()
        .merge(routes![item, health])
        .layer(PassThroughLayer::default())
        .with_state(());
    let layered: Router = Router::new()
        .merge(routes![item, health])
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(());

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
