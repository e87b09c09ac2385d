//! The `openapi` benches' fixture: an engine with 1,000 routes (a tenth disabled, a tenth in
//! maintenance, a tenth deprecated), their document, the router serving it filtered, and a
//! router serving the same bytes statically.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::Request;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::runtime::Runtime;
use waygate::backend::{Backend, MemoryBackend};
use waygate::openapi::WaygateOpenApi;
use waygate::{Engine, RouteState, RouteStatus};

const ROUTES: usize = 1_000;

pub(crate) fn path(i: usize) -> String {
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

pub(crate) fn request() -> Request<Body> {
    Request::get("/openapi.json").body(Body::empty()).unwrap()
}

/// What a bench needs.
pub(crate) struct Fixture {
    pub(crate) engine: Engine,
    pub(crate) docs: WaygateOpenApi,
    /// `/openapi.json` from `WaygateOpenApi`.
    pub(crate) filtered: Router,
    /// The same bytes, the same headers, from a plain handler.
    pub(crate) fixed: Router,
}

/// Starts the engine on `runtime` and builds both routers.
pub(crate) fn fixture(runtime: &Runtime) -> Fixture {
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

    let body = docs.json();
    let fixed: Router = Router::new()
        .route(
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
        )
        // As `axum::serve` runs it (`into_make_service` calls `with_state(())`): the handler is
        // turned into its service once, not on every request.
        .with_state(());

    Fixture {
        engine,
        docs,
        filtered,
        fixed,
    }
}
