//! The cost of one flag evaluation: a boolean flag with two targets, two rules and a 20 %
//! rollout, for a context that matches a target, one that matches the first rule and one
//! that falls through both rules to the rollout (a SHA-1 of its key) — through the
//! [`FlagSet`] and through `engine.flags()` (one atomic load of the set first).
//!
//! `cargo bench -p waygate --bench flags`

use criterion::Criterion;
use serde_json::json;
use std::hint::black_box;
use waygate::flags::{EvaluationContext, FeatureFlag, FlagSet};
use waygate::Engine;

fn flag() -> FeatureFlag {
    serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "targets": {"on": ["ada", "grace"]},
        "rules": [
            {"clauses": [{"attribute": "plan", "operator": "is", "values": ["enterprise"]}], "variation": "on"},
            {"clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@example.com"]}], "variation": "off"}
        ],
        "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}]
    }))
    .expect("a valid flag")
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let flags = FlagSet::new([flag()], []);
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
            .save_flag(flag(), "bench")
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
    group.finish();
    criterion.final_summary();
}
