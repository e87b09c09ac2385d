//! The Redis backend's three figures, in one run:
//!
//! - `redis/propagation`: a mutation on instance A until instance B enforces it (B's
//!   snapshot has the change), over 200 changes; p50/p99 printed after the group.
//! - `redis/rate_limit_check`: one shared-counter check (one script round trip) with 50
//!   concurrent tasks on loopback; criterion's throughput is checks per second.
//! - `redis/allowed_route`: a request on a route without limits through the layer, memory
//!   backend beside Redis backend (the snapshot makes them the same).
//!
//! Needs the Redis at `WAYGATE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`):
//! `cargo bench -p waygate --features redis --bench redis`

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::{Request, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;
use waygate::backend::{Backend, MemoryBackend, RedisBackend};
use waygate::rate_limit::{Algorithm, CounterRequest};
use waygate::{Engine, RouteStatus, WaygateLayer};

/// Concurrent tasks of the rate-limit benchmark.
const TASKS: usize = 50;
/// Changes the propagation percentile is taken over.
const CHANGES: usize = 200;

fn url() -> String {
    std::env::var("WAYGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix(name: &str) -> String {
    format!("waygate-bench:{}:{name}:", std::process::id())
}

fn redis_backend(name: &str) -> RedisBackend {
    RedisBackend::new(&url())
        .unwrap()
        .with_key_prefix(&prefix(name))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One change on A, awaited until B's snapshot enforces it.
async fn propagate(a: &Engine, b: &Engine, n: usize) -> Duration {
    let key = "GET:/orders";
    let wanted = if n.is_multiple_of(2) {
        RouteStatus::Disabled
    } else {
        RouteStatus::Active
    };
    let start = Instant::now();
    match wanted {
        RouteStatus::Disabled => a.disable(key, "bench", "bench").await.map(|_| ()),
        _ => a.enable(key, "bench").await.map(|_| ()),
    }
    .unwrap();
    let deadline = start + Duration::from_secs(5);
    while b.state(key).map(|s| s.status) != Some(wanted) {
        assert!(Instant::now() < deadline, "the change never reached B");
        tokio::task::yield_now().await;
    }
    start.elapsed()
}

async fn two_instances(name: &str) -> (Engine, Engine) {
    let a = Engine::builder().backend(redis_backend(name)).build();
    let b = Engine::builder().backend(redis_backend(name)).build();
    a.start().await.unwrap();
    b.start().await.unwrap();
    let state = waygate::RouteState::active("GET:/orders");
    a.backend().set_state(&state).await.unwrap();
    // Both must know the route (from the backend's notification) before it changes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.state("GET:/orders").is_none() || b.state("GET:/orders").is_none() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (a, b)
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("redis");

    // Propagation: A's mutation until B enforces it.
    let (a, b) = rt.block_on(two_instances("propagation"));
    let mut samples = Vec::new();
    let mut n = 0;
    group.bench_function("propagation", |bench| {
        bench.to_async(&rt).iter_custom(|iters| {
            let (a, b) = (a.clone(), b.clone());
            let start = n;
            n += iters as usize;
            async move {
                let mut total = Duration::ZERO;
                for i in 0..iters as usize {
                    total += propagate(&a, &b, start + i).await;
                }
                total
            }
        });
    });
    for i in 0..CHANGES {
        samples.push(rt.block_on(propagate(&a, &b, n + i)));
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).min(samples.len()) - 1];
    eprintln!(
        "redis/propagation over {CHANGES} changes: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );
    rt.block_on(async {
        a.shutdown().await;
        b.shutdown().await;
    });

    // Shared-counter checks from 50 concurrent tasks.
    let backend = redis_backend("checks");
    let counters = backend.rate_limit_counters().unwrap();
    group.throughput(Throughput::Elements(1));
    group.bench_function("rate_limit_check_50_tasks", |bench| {
        bench.to_async(&rt).iter_custom(|iters| {
            let counters = Arc::clone(&counters);
            async move {
                let per_task = (iters as usize).div_ceil(TASKS);
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let counters = Arc::clone(&counters);
                        tokio::spawn(async move {
                            let key = format!("client-{t}");
                            for _ in 0..per_task {
                                let request = CounterRequest::new(
                                    "GET:/bench",
                                    &key,
                                    Algorithm::SlidingWindow,
                                    1_000_000_000,
                                    Duration::from_secs(60),
                                );
                                let decision = counters.hit(&request).await.unwrap();
                                assert!(decision.allowed);
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                // Normalised to the iterations criterion asked for.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * TASKS) as f64)
            }
        });
    });

    // An allowed route without limits: memory backend beside Redis backend.
    let memory = Engine::builder().backend(MemoryBackend::new()).build();
    let redis = Engine::builder().backend(redis_backend("requests")).build();
    let app = |engine: &Engine| {
        Router::new()
            .route("/orders", get(|| async { "ok" }))
            .layer(WaygateLayer::new(engine.clone()))
    };
    let (memory_app, redis_app) = rt.block_on(async {
        memory.start().await.unwrap();
        redis.start().await.unwrap();
        let apps = (app(&memory), app(&redis));
        for app in [&apps.0, &apps.1] {
            let response = app.clone().oneshot(request()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        apps
    });
    group.throughput(Throughput::Elements(1));
    for (name, app) in [
        ("allowed_route/memory", &memory_app),
        ("allowed_route/redis", &redis_app),
    ] {
        group.bench_function(name, |bench| {
            bench.to_async(&rt).iter(|| {
                let app = app.clone();
                async move {
                    let response = app.oneshot(request()).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            });
        });
    }
    group.finish();
    // The same two, interleaved in rounds so that a machine's changing load hits both alike:
    // the ratio of their medians.
    let (memory_ns, redis_ns) = rt.block_on(async {
        let mut rounds = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            rounds.0.push(per_request(&memory_app).await);
            rounds.1.push(per_request(&redis_app).await);
        }
        (median(rounds.0), median(rounds.1))
    });
    eprintln!(
        "redis/allowed_route interleaved over {ROUNDS} rounds of {ROUND} requests: memory {memory_ns:.0} ns, redis {redis_ns:.0} ns, redis/memory {:.3}",
        redis_ns / memory_ns
    );
    rt.block_on(async {
        memory.shutdown().await;
        redis.shutdown().await;
        delete_bench_keys().await;
    });
}

/// Removes what the run stored in the shared Redis (counters expire on their own anyway).
async fn delete_bench_keys() {
    let client = redis::Client::open(url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("waygate-bench:{}:*", std::process::id()))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
}

/// Rounds of the interleaved comparison, and requests per round.
const ROUNDS: usize = 30;
const ROUND: usize = 5_000;

/// Nanoseconds per request over one round.
async fn per_request(app: &Router) -> f64 {
    let start = Instant::now();
    for _ in 0..ROUND {
        let response = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    start.elapsed().as_nanos() as f64 / ROUND as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn request() -> Request<Body> {
    Request::get("/orders").body(Body::empty()).unwrap()
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group! {
        name = redis;
        config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
        targets = benches
    }
}
criterion_main!(harness::redis);
