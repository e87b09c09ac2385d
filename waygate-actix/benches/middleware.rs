//! The cost of the middleware per request, measured side by side with bare actix-web on the
//! same app of 1,000 routes (half of them parameterised) and of 10 routes, the way
//! `waygate/benches/layer.rs` measures the axum layer: the app called in process
//! (`actix_web::test::init_service`), no network.
//!
//! `cargo bench -p waygate-actix --bench middleware`
//!
//! actix-web routes by walking its resources in order, and the middleware, which runs before
//! routing, asks for the matched pattern (`HttpRequest::match_pattern`), which walks them
//! once more: on a large app that walk is most of the middleware's cost.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{init_service, TestRequest};
use actix_web::{web, App};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::time::Duration;
use waygate_actix::{Engine, Waygate};

/// Route `i`'s template: `/static/r{i}` for even `i`, `/items{i}/{id}` for odd.
fn path(i: usize) -> String {
    match i % 2 {
        0 => format!("/static/r{i}"),
        _ => format!("/items{i}/{{id}}"),
    }
}

fn concrete(i: usize) -> String {
    path(i).replace("{id}", "42")
}

/// Every route, each answering `ok`.
fn routes(count: usize) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        for i in 0..count {
            config.route(&path(i), web::get().to(|| async { "ok" }));
        }
    }
}

fn request(i: usize) -> actix_http::Request {
    TestRequest::get().uri(&concrete(i)).to_request()
}

/// Lets the middleware register every route (each is seen once), then disables `blocked`.
async fn register_all<S, B>(engine: &Engine, app: &S, count: usize, blocked: usize)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let missing: Vec<usize> = (0..count)
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
            let response = app.call(request(i)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine
        .disable(&format!("GET:{}", path(blocked)), "bench", "bench")
        .await
        .unwrap();
}

fn per_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The allowed and blocked routes sit in the middle of the app, as in the axum bench.
    for (count, allowed, blocked) in [(1_000, 501, 503), (10, 5, 7)] {
        let engine = Engine::new();
        let (bare, noop, waygate) = runtime.block_on(async {
            engine.start().await.unwrap();
            let bare = init_service(App::new().configure(routes(count))).await;
            let noop = init_service(
                App::new()
                    .wrap_fn(|request, service| service.call(request))
                    .configure(routes(count)),
            )
            .await;
            let waygate = init_service(
                App::new()
                    .wrap(Waygate::new(engine.clone()))
                    .configure(routes(count)),
            )
            .await;
            register_all(&engine, &waygate, count, blocked).await;
            (bare, noop, waygate)
        });
        let mut group = c.benchmark_group(format!("request ({count} routes)"));
        bench(
            &mut group,
            &runtime,
            "bare actix-web, allowed",
            &bare,
            allowed,
        );
        bench(
            &mut group,
            &runtime,
            "actix-web + do-nothing middleware, allowed",
            &noop,
            allowed,
        );
        bench(&mut group, &runtime, "waygate, allowed", &waygate, allowed);
        bench(
            &mut group,
            &runtime,
            "bare actix-web, same route",
            &bare,
            blocked,
        );
        bench(&mut group, &runtime, "waygate, blocked", &waygate, blocked);
        group.finish();
    }
}

fn bench<S, B>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    app: &S,
    route: usize,
) where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    group.bench_function(name, |b| {
        b.to_async(runtime).iter_batched(
            || request(route),
            |request| async move { app.call(request).await.unwrap() },
            BatchSize::SmallInput,
        );
    });
}

// The macros generate undocumented public items.
#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, per_request);
}
criterion_main!(harness::benches);
