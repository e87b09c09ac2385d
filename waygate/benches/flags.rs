//! The cost of one flag evaluation: a boolean flag with two targets, two rules and a 20 %
//! rollout, for a context that matches a target, one that matches the first rule and one
//! that falls through both rules to the rollout (a SHA-1 of its key) — through the
//! [`FlagSet`] and through `engine.flags()` (one atomic load of the set first).
//!
//! Then, side by side: the same flag read through its `#[flag]` handle (`NEW_CHECKOUT.get`)
//! and through the string API; and a request to a route behind the flag
//! (`#[feature_flag(NEW_CHECKOUT)]`, the flag on for the request) beside the same request to
//! a plain route, through `WaygateLayer`, and one evaluation with the context the gate builds.
//!
//! `cargo bench -p waygate --bench flags`

use axum::body::Body;
use axum::Router;
use criterion::Criterion;
use http::Request;
use std::hint::black_box;
use tower::ServiceExt;
use waygate::flags::{EvaluationContext, FlagSet};
use waygate::prelude::*;

#[path = "support/checkout_flag.rs"]
mod checkout_flag;
use checkout_flag::{checkout, checkout_v2, flag, NEW_CHECKOUT};

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let flags = FlagSet::new([flag(&["ada", "grace"])], []);
    let contexts = [
        ("target", EvaluationContext::new("grace")),
        (
            "rule",
            EvaluationContext::new("u-1").attribute("plan", "enterprise"),
        ),
        (
            "rollout",
            EvaluationContext::new("u-3")
                .attribute("plan", "free")
                .email("u3@corp.io"),
        ),
    ];
    let mut group = criterion.benchmark_group("flag bool");
    group.bench_function("bucket (the rollout's SHA-1 alone)", |b| {
        b.iter(|| {
            waygate::flags::bucket(
                black_box("new-checkout"),
                black_box("user"),
                black_box("u-3"),
            )
        });
    });
    for (name, ctx) in &contexts {
        group.bench_function(*name, |b| {
            b.iter(|| flags.bool(black_box("new-checkout"), black_box(ctx), false));
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let engine = runtime.block_on(async {
        let engine = Engine::new();
        engine.start().await.expect("the engine starts");
        engine
            .save_flag(flag(&["ada", "grace"]), "bench")
            .await
            .expect("the flag is saved");
        engine
    });
    let (_, rollout) = &contexts[2];
    group.bench_function("rollout, engine.flags()", |b| {
        b.iter(|| {
            engine
                .flags()
                .bool(black_box("new-checkout"), black_box(rollout), false)
        });
    });
    group.bench_function("rollout, NEW_CHECKOUT.get (declared)", |b| {
        b.iter(|| NEW_CHECKOUT.get(black_box(rollout)));
    });
    group.finish();

    // A route behind the flag: the request's context is the gate's default (no user, no
    // peer address: `anonymous`), a target of the flag, so the route is served.
    runtime.block_on(async {
        let gated = flag(&["anonymous"]);
        engine.save_flag(gated, "bench").await.expect("saved");
    });
    let app: Router = Router::new()
        .merge(routes![checkout, checkout_v2])
        .layer(WaygateLayer::new(engine.clone()));
    let request = |path: &'static str| Request::get(path).body(Body::empty()).unwrap();
    runtime.block_on(async {
        for path in ["/checkout/v1", "/checkout/v2"] {
            let response = app.clone().oneshot(request(path)).await.unwrap();
            assert_eq!(response.status(), http::StatusCode::OK, "{path}");
        }
    });
    let mut group = criterion.benchmark_group("route behind a flag");
    group.bench_function("plain route", |b| {
        b.iter(|| runtime.block_on(app.clone().oneshot(request("/checkout/v1"))));
    });
    group.bench_function("route behind new-checkout (on)", |b| {
        b.iter(|| runtime.block_on(app.clone().oneshot(request("/checkout/v2"))));
    });
    let anonymous = EvaluationContext::new("anonymous");
    group.bench_function("one evaluation (target match)", |b| {
        b.iter(|| {
            engine
                .flags()
                .bool(black_box("new-checkout"), black_box(&anonymous), false)
        });
    });
    group.finish();
    criterion.final_summary();
}
