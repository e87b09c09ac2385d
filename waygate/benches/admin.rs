//! The admin API's cost: `GET api/routes` with 10,000 routes, in process.
//!
//! `cargo bench -p waygate --features admin --bench admin`

use axum::body::Body;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;
use waygate::admin::WaygateAdmin;
use waygate::backend::{Backend, MemoryBackend};
use waygate::{Engine, RouteState};

const ROUTES: usize = 10_000;

fn list_routes(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engine = runtime.block_on(async {
        for i in 0..ROUTES {
            let key = format!("GET:/r{i}/{{id}}");
            backend.set_state(&RouteState::active(key)).await.unwrap();
        }
        let engine = Engine::builder().shared_backend(backend).build();
        engine.start().await.unwrap();
        engine
    });
    // Open mode: no token to check, so the figure is the listing itself.
    let admin: Router = WaygateAdmin::new(engine).into_router();
    let body = runtime.block_on(async {
        let response = admin.clone().oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap().to_bytes()
    });
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(listed.len(), ROUTES);

    let mut group = c.benchmark_group("admin API");
    group.sample_size(30);
    group.bench_function("GET api/routes, 10,000 routes", |b| {
        b.to_async(&runtime).iter(|| {
            let admin = admin.clone();
            async move {
                let response = admin.oneshot(request()).await.unwrap();
                response
                    .into_body()
                    .collect()
                    .await
                    .unwrap()
                    .to_bytes()
                    .len()
            }
        });
    });
    group.finish();
}

fn request() -> Request<Body> {
    Request::get("/api/routes").body(Body::empty()).unwrap()
}

// The macros generate undocumented public items.
#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, list_routes);
}
criterion_main!(harness::benches);
