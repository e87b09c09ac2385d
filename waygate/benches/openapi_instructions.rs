//! A driver for counting the instructions of serving `/openapi.json` (the `openapi` bench's
//! document of 1,000 routes, 10% of them changed): `static` serves the same bytes from a plain
//! handler, `filtered` from `WaygateOpenApi` between changes. It serves `N` requests (default
//! 1,000); `scripts/bench-instructions` runs it under callgrind beside the layer's driver.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
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

fn main() {
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
    let docs = WaygateOpenApi::from_json(engine, document());
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

    let variant = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "filtered".to_owned());
    let n: usize = std::env::var("N").map_or(1_000, |n| n.parse().expect("N is a number"));
    let app = match variant.as_str() {
        "static" => fixed,
        "filtered" => filtered,
        other => panic!("unknown variant {other}: static or filtered"),
    };
    runtime.block_on(async {
        for _ in 0..n {
            let response = app.clone().oneshot(request()).await.unwrap();
            assert_eq!(response.status(), http::StatusCode::OK);
        }
    });
}
