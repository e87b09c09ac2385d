//! Serving the filtered `/openapi.json` of 1,000 routes between changes, side by side with
//! serving the same bytes as a static document, and rebuilding it after a change.
//!
//! `cargo bench -p waygate --features openapi --bench openapi`

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::Request;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tower::ServiceExt;
use waygate::backend::{Backend, MemoryBackend};
use waygate::openapi::WaygateOpenApi;
use waygate::{Engine, RouteState, RouteStatus};

const ROUTES: usize = 1_000;

fn path(i: usize) -> String {
    format!("/items{i}/{{id}}")
}

/// A document of 1,000 paths, each with a described GET operation.
fn document() -> Value {
    let mut paths = Map::new();
    for i in 0..ROUTES {
        paths.insert(
            path(i),
            json!({"get": {
                "summary": format!("Item {i}"),
                "description": "Returns one item of the collection.",
                "operationId": format!("item_{i}"),
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "The item"}, "404": {"description": "No such item"}},
            }}),
        );
    }
    json!({"openapi": "3.1.0", "info": {"title": "Bench", "version": "1"}, "paths": paths})
}

fn request() -> Request<Body> {
    Request::get("/openapi.json").body(Body::empty()).unwrap()
}

fn serve(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    runtime.block_on(async {
        for i in 0..ROUTES {
            let mut state = RouteState::active(format!("GET:{}", path(i)));
            state.status = match i % 10 {
                0 => RouteStatus::Disabled,
                1 => RouteStatus::Maintenance,
                2 => RouteStatus::Deprecated,
                _ => RouteStatus::Active,
            };
            backend.set_state(&state).await.unwrap();
        }
    });
    let engine = Engine::builder().shared_backend(backend).build();
    runtime.block_on(engine.start()).unwrap();
    let docs = WaygateOpenApi::from_json(engine.clone(), document());
    let filtered: Router = docs.router();

    // The static baseline: the same bytes, the same headers, from a plain handler.
    let body = docs.json();
    let fixed: Router = Router::new().route(
        "/openapi.json",
        get(move || {
            let body: Bytes = body.clone();
            async move {
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                        (
                            header::ETAG,
                            HeaderValue::from_static("\"0123456789abcdef\""),
                        ),
                    ],
                    body,
                )
            }
        }),
    );

    let mut group = c.benchmark_group("openapi.json (1,000 routes)");
    for (name, app) in [
        ("static document", &fixed),
        ("filtered, between changes", &filtered),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_batched(
                || (app.clone(), request()),
                |(app, request)| async move { app.oneshot(request).await.unwrap() },
                BatchSize::SmallInput,
            );
        });
    }

    let mut flip = false;
    group.bench_function("rebuild after a change", |b| {
        b.iter_batched(
            || {
                flip = !flip;
                let key = format!("GET:{}", path(7));
                runtime
                    .block_on(async {
                        match flip {
                            true => engine.disable(&key, "bench", "bench").await,
                            false => engine.enable(&key, "bench").await,
                        }
                    })
                    .unwrap();
            },
            |()| docs.json(),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

// The macros generate undocumented public items.
#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, serve);
}
criterion_main!(harness::benches);
