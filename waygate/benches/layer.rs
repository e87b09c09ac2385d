//! The cost of the layer per request, measured side by side with bare axum on the same
//! router of 1,000 routes (half of them parameterised), and the cost of loading and
//! rebuilding state for 10,000 routes.
//!
//! Two threads requesting the same route at once show that counting outcomes (each route's
//! counters are one cache line per thread) adds no contention. With the `admin` feature the
//! engine has the admin's bypass check installed, which only refused requests ask.
//!
//! `cargo bench -p waygate --bench layer --features dashboard,metrics`

use axum::body::Body;
use axum::Router;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{Request, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use waygate::backend::{Backend, MemoryBackend};
use waygate::{Engine, RouteState, WaygateLayer};

#[path = "support/layer_fixture.rs"]
mod layer_fixture;
use layer_fixture::{as_served, path, router, ROUTES};

fn concrete(i: usize) -> String {
    path(i).replace("{id}", "42")
}

const ALLOWED: usize = 501;
const BLOCKED: usize = 503;

/// Starts the engine and lets the layer register every route (each is seen once), then
/// disables the route the blocked benchmark requests.
async fn register_all(engine: &Engine, layered: &Router) {
    engine.start().await.unwrap();
    // The registrar takes a bounded queue of newly seen routes: request the ones it has not
    // registered yet until it has them all.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let missing: Vec<usize> = (0..ROUTES)
            .filter(|i| !engine.snapshot().knows(&http::Method::GET, &path(*i)))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "routes not registered"
        );
        for i in missing {
            let response = layered.clone().oneshot(request(i)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine
        .disable(&format!("GET:{}", path(BLOCKED)), "bench", "bench")
        .await
        .unwrap();
}

fn request(i: usize) -> Request<Body> {
    Request::get(concrete(i)).body(Body::empty()).unwrap()
}

fn per_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bare = as_served(router());
    let noop = as_served(router().layer(tower::util::MapRequestLayer::new(
        |request: Request<Body>| request,
    )));
    let engine = Engine::new();
    let layered = as_served(router().layer(WaygateLayer::new(engine.clone())));
    runtime.block_on(register_all(&engine, &layered));
    // Installs the bypass check (only refused requests ask it).
    #[cfg(feature = "admin")]
    let _admin: Router = waygate::admin::WaygateAdmin::new(engine).into_router();

    let mut group = c.benchmark_group("request (1,000 routes)");
    for (name, app, route) in [
        ("bare axum, allowed", &bare, ALLOWED),
        ("axum + do-nothing layer, allowed", &noop, ALLOWED),
        ("layered, allowed", &layered, ALLOWED),
        ("bare axum, same route", &bare, BLOCKED),
        ("layered, blocked", &layered, BLOCKED),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_batched(
                || (app.clone(), request(route)),
                |(app, request)| async move { app.oneshot(request).await.unwrap() },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    // Two threads, each on a runtime of its own, request the same route at once; the time
    // is per request on one thread.
    let mut group = c.benchmark_group("request, two threads on one route");
    for (name, app, route) in [
        ("bare axum, allowed", &bare, ALLOWED),
        ("layered, allowed", &layered, ALLOWED),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = std::sync::Barrier::new(2);
                let elapsed: Vec<Duration> = std::thread::scope(|scope| {
                    let threads: Vec<_> = (0..2)
                        .map(|_| {
                            let (app, start) = (app.clone(), &start);
                            scope.spawn(move || {
                                let runtime = tokio::runtime::Builder::new_current_thread()
                                    .enable_all()
                                    .build()
                                    .unwrap();
                                runtime.block_on(async move {
                                    start.wait();
                                    let began = std::time::Instant::now();
                                    for _ in 0..iters {
                                        let response =
                                            app.clone().oneshot(request(route)).await.unwrap();
                                        std::hint::black_box(response);
                                    }
                                    began.elapsed()
                                })
                            })
                        })
                        .collect();
                    threads.into_iter().map(|t| t.join().unwrap()).collect()
                });
                elapsed.into_iter().max().unwrap_or_default()
            });
        });
    }
    group.finish();
}

fn state_load(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    runtime.block_on(async {
        for i in 0..10_000 {
            let key = format!("GET:/r{i}/{{id}}");
            backend.set_state(&RouteState::active(key)).await.unwrap();
        }
    });
    let mut group = c.benchmark_group("state (10,000 routes)");
    group.sample_size(20);
    group.bench_function("load and seed at start", |b| {
        b.to_async(&runtime).iter_batched(
            || Engine::builder().shared_backend(backend.clone()).build(),
            |engine| async move { engine.start().await.unwrap() },
            BatchSize::PerIteration,
        );
    });
    let engine = Engine::builder().shared_backend(backend.clone()).build();
    runtime.block_on(engine.start()).unwrap();
    let mut flip = false;
    group.bench_function("one change, snapshot rebuilt", |b| {
        b.to_async(&runtime).iter(|| {
            flip = !flip;
            let engine = engine.clone();
            let disable = flip;
            async move {
                match disable {
                    true => engine.disable("GET:/r7/{id}", "bench", "bench").await,
                    false => engine.enable("GET:/r7/{id}", "bench").await,
                }
                .unwrap()
            }
        });
    });
    group.finish();
}

// The macros generate undocumented public items.
#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, per_request, state_load);
}
criterion_main!(harness::benches);
