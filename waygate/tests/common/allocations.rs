//! The heap allocations of one request, for the test binaries that install a counting global
//! allocator (each holds a single test on a current-thread runtime, so the counts are that
//! request's).

use axum::body::Body;
use axum::Router;
use http::{Method, Request, StatusCode};
use stats_alloc::{Region, StatsAlloc};
use std::alloc::System;
use tower::ServiceExt;

/// Allocations (and reallocations) made while `app` serves one `GET uri` with `200`, counted
/// by `counter`, the binary's global allocator; the request is built beforehand.
pub async fn of_get(counter: &'static StatsAlloc<System>, app: &Router, uri: &str) -> u64 {
    of(counter, app, Method::GET, uri).await
}

/// [`of_get`] for a `method` request.
pub async fn of(
    counter: &'static StatsAlloc<System>,
    app: &Router,
    method: Method,
    uri: &str,
) -> u64 {
    let app = app.clone();
    let request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let region = Region::new(counter);
    let response = app.oneshot(request).await.unwrap();
    let stats = region.change();
    assert_eq!(response.status(), StatusCode::OK, "{method} {uri}");
    drop(response);
    (stats.allocations + stats.reallocations) as u64
}
