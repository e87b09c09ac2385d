//! `WaygateMetrics` scraped over HTTP like Prometheus does: the text format, the request
//! counters per route and outcome, the route status gauges, and the health counters.

mod common;

use axum::Router;
use common::get;
use waygate::metrics::{Outcome, WaygateMetrics, UNMATCHED};
use waygate::prelude::*;
use waygate::Actor;

#[route(GET, "/items/{id}")]
async fn item() -> &'static str {
    "item"
}

#[route(GET, "/beta")]
#[rollout(percent = 25)]
async fn beta() -> &'static str {
    "beta"
}

async fn app() -> (Router, Engine, WaygateMetrics) {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let metrics = WaygateMetrics::new(engine.clone());
    let app = Router::new()
        .merge(routes![item, beta])
        .layer(WaygateLayer::new(engine.clone()))
        // After the layer: scrapes go on during global maintenance.
        .route("/metrics", metrics.endpoint());
    (app, engine, metrics)
}

/// The value of the series `name{labels}` in a scrape.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn requests_are_counted_per_route_and_outcome() {
    let (app, _engine, metrics) = app().await;
    for _ in 0..3 {
        metrics.record("GET:/items/{id}", Outcome::Allowed);
    }
    metrics.record("GET:/items/{id}", Outcome::Maintenance);
    metrics.record("GET:/beta", Outcome::RolloutExcluded);
    metrics.record("GET:/later", Outcome::RateLimited);
    metrics.record(UNMATCHED, Outcome::GlobalMaintenance);

    let scrape = get(&app, "/metrics").await;
    assert_eq!(scrape.status, 200);
    assert_eq!(
        scrape.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = &scrape.body;
    assert!(
        text.contains("# TYPE waygate_requests_total counter"),
        "{text}"
    );
    let requests = |route: &str, outcome: &str| {
        value(
            text,
            &format!("waygate_requests_total{{route=\"{route}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(requests("GET:/items/{id}", "allowed"), Some(3.0), "{text}");
    assert_eq!(requests("GET:/items/{id}", "maintenance"), Some(1.0));
    assert_eq!(requests("GET:/items/{id}", "bypassed"), Some(0.0));
    assert_eq!(requests("GET:/beta", "rollout_excluded"), Some(1.0));
    assert_eq!(
        requests("GET:/later", "rate_limited"),
        Some(1.0),
        "a route counted late"
    );
    assert_eq!(requests(UNMATCHED, "global_maintenance"), Some(1.0));
    for outcome in Outcome::ALL {
        assert!(
            requests("GET:/beta", outcome.label()).is_some(),
            "{outcome:?}"
        );
    }
    assert_eq!(metrics.count("GET:/items/{id}", Outcome::Allowed), 3);
}

#[tokio::test]
async fn route_status_follows_the_engine() {
    let (app, engine, _metrics) = app().await;
    engine
        .set_maintenance("GET:/items/{id}", "migration", None, Actor::new("ops"))
        .await
        .unwrap();
    let text = get(&app, "/metrics").await.body;
    assert!(text.contains("# TYPE waygate_route_status gauge"), "{text}");
    let status = |route: &str, status: &str| {
        value(
            &text,
            &format!("waygate_route_status{{route=\"{route}\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(
        status("GET:/items/{id}", "maintenance"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(status("GET:/items/{id}", "active"), Some(0.0));
    assert_eq!(status("GET:/beta", "active"), Some(1.0));
    assert_eq!(
        value(
            &text,
            "waygate_route_rollout_percentage{route=\"GET:/beta\"}"
        ),
        Some(25.0)
    );
    assert_eq!(value(&text, "waygate_global_maintenance"), Some(0.0));
    assert_eq!(
        value(&text, "waygate_rate_limit_storage_errors_total"),
        Some(0.0)
    );
    assert_eq!(value(&text, "waygate_backend_errors_total"), Some(0.0));
    assert_eq!(value(&text, "waygate_backend_up"), Some(1.0));

    engine
        .enable_global_maintenance("deploy", vec![], false, Actor::new("ops"))
        .await
        .unwrap();
    let text = get(&app, "/metrics").await.body;
    assert_eq!(value(&text, "waygate_global_maintenance"), Some(1.0));
}

#[test]
fn counting_from_many_threads_is_exact() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let metrics = runtime.block_on(async { WaygateMetrics::new(Engine::new()) });
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..25_000 {
                    metrics.record("GET:/items/{id}", Outcome::Allowed);
                }
            });
        }
    });
    assert_eq!(metrics.count("GET:/items/{id}", Outcome::Allowed), 100_000);
}
