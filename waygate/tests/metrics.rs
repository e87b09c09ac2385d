//! `WaygateMetrics` scraped over HTTP like Prometheus does, after real requests through the
//! layer: the text format, the request counters per route and outcome, the route status
//! gauges, and the health counters.

mod common;

use axum::Router;
use common::get;
use http::StatusCode;
use waygate::metrics::{Outcome, WaygateMetrics, UNMATCHED};
use waygate::prelude::*;
use waygate::Actor;

#[route(GET, "/items/{id}")]
async fn item() -> &'static str {
    "item"
}

#[route(GET, "/limited")]
#[rate_limit("2/minute", key = global)]
async fn limited() -> &'static str {
    "limited"
}

#[route(GET, "/beta")]
#[rollout(percent = 25)]
async fn beta() -> &'static str {
    "beta"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

async fn app() -> (Router, Engine, WaygateMetrics) {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let metrics = WaygateMetrics::new(engine.clone());
    let app = Router::new()
        .merge(routes![item, limited, beta, health])
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

fn requests(text: &str, route: &str, outcome: &str) -> Option<f64> {
    value(
        text,
        &format!("waygate_requests_total{{route=\"{route}\",outcome=\"{outcome}\"}}"),
    )
}

#[tokio::test]
async fn requests_are_counted_per_route_and_outcome() {
    let (app, engine, metrics) = app().await;
    for id in 0..3 {
        assert_eq!(
            get(&app, &format!("/items/{id}")).await.status,
            StatusCode::OK
        );
    }
    engine
        .set_maintenance("GET:/items/{id}", "migration", None, Actor::new("ops"))
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/items/9").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    engine
        .disable("GET:/items/{id}", "off", Actor::new("ops"))
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/items/9").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    for _ in 0..3 {
        get(&app, "/limited").await;
    }
    // No client key (no user, no peer address): outside the rollout, answered 404.
    assert_eq!(get(&app, "/beta").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/health").await.status, StatusCode::OK);
    engine
        .enable_global_maintenance("deploy", vec![], false, Actor::new("ops"))
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/limited").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&app, "/nowhere").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

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
    assert_eq!(
        requests(text, "GET:/items/{id}", "allowed"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(requests(text, "GET:/items/{id}", "maintenance"), Some(1.0));
    assert_eq!(requests(text, "GET:/items/{id}", "disabled"), Some(1.0));
    assert_eq!(requests(text, "GET:/items/{id}", "bypassed"), Some(0.0));
    assert_eq!(requests(text, "GET:/limited", "allowed"), Some(2.0));
    assert_eq!(requests(text, "GET:/limited", "rate_limited"), Some(1.0));
    assert_eq!(
        requests(text, "GET:/limited", "global_maintenance"),
        Some(1.0)
    );
    assert_eq!(requests(text, "GET:/beta", "rollout_excluded"), Some(1.0));
    assert_eq!(
        requests(text, "GET:/health", "allowed"),
        Some(1.0),
        "force-active"
    );
    assert_eq!(requests(text, UNMATCHED, "global_maintenance"), Some(1.0));
    for outcome in Outcome::ALL {
        assert!(
            requests(text, "GET:/beta", outcome.label()).is_some(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_from_many_threads_are_counted_exactly() {
    let (app, _engine, metrics) = app().await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                for _ in 0..250 {
                    assert_eq!(get(&app, "/items/1").await.status, StatusCode::OK);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(metrics.count("GET:/items/{id}", Outcome::Allowed), 1_000);
}
