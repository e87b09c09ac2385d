//! The cost of the middleware per request, measured side by side with bare actix-web on the
//! same app of 1,000 routes (half of them parameterised) and of 10 routes, the way
//! `waygate/benches/layer.rs` measures the axum layer: the app called in process
//! (`actix_web::test::init_service`), no network.
//!
//! `cargo bench -p waygate-actix --bench middleware`
//!
//! actix-web routes by walking its resources in order, and the middleware, which runs before
//! routing, learns the matched pattern by walking them once more
//! (`HttpRequest::match_pattern`) the first time a worker sees a path, then by path from its
//! cache: the "new id each request" rows measure the first case, the others the second.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::init_service;
use actix_web::App;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use waygate_actix::{Engine, Waygate};

#[path = "support/fixture.rs"]
mod fixture;
use fixture::{fresh_request, register_all, request, routes};

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
            let every: Vec<usize> = (0..count).collect();
            register_all(&engine, &waygate, &every, blocked).await;
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
        // A path the worker has not seen: its template is looked up in actix-web's resources.
        bench_fresh(
            &mut group,
            &runtime,
            "bare actix-web, allowed, new id each request",
            &bare,
            allowed,
        );
        bench_fresh(
            &mut group,
            &runtime,
            "waygate, allowed, new id each request",
            &waygate,
            allowed,
        );
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

fn bench_fresh<S, B>(
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
            || fresh_request(route),
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
