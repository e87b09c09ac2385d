//! Serving the filtered `/openapi.json` of 1,000 routes between changes, side by side with
//! serving the same bytes as a static document, and rebuilding it after a change.
//!
//! `cargo bench -p waygate --features openapi --bench openapi`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tower::ServiceExt;

// Each bench uses part of the fixture.
#[allow(dead_code)]
#[path = "support/openapi_fixture.rs"]
mod openapi_fixture;
use openapi_fixture::{fixture, path, request, Fixture};

fn serve(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Fixture {
        engine,
        docs,
        filtered,
        fixed,
    } = fixture(&runtime);

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
