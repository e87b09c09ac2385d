//! Maintenance windows on tokio's paused clock: active until `start`, maintenance in
//! `[start, end)`, enabled by the scheduler at `end`; cancellation sticks; windows survive a
//! restart.

mod common;

use axum::Router;
use chrono::Duration as ChronoDuration;
use common::get;
use http::StatusCode;
use std::sync::Arc;
use std::time::Duration;
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::{AuditQuery, MaintenanceWindow, RouteStatus};

#[route(GET, "/orders")]
async fn orders() -> &'static str {
    "orders"
}

fn app(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![orders])
        .layer(WaygateLayer::new(engine.clone()))
}

fn window(engine: &Engine, start: i64, end: i64) -> MaintenanceWindow {
    let now = engine.now();
    MaintenanceWindow::new(
        now + ChronoDuration::seconds(start),
        now + ChronoDuration::seconds(end),
        "Order system upgrade",
    )
}

async fn started(backend: Arc<dyn Backend>) -> Engine {
    let engine = Engine::builder().shared_backend(backend).build();
    engine.start().await.unwrap();
    engine
}

#[tokio::test(start_paused = true)]
async fn window_activates_at_start_and_ends_by_itself() {
    let engine = started(Arc::new(MemoryBackend::new())).await;
    let app = app(&engine);
    let window = window(&engine, 5, 15);
    let state = engine
        .schedule_maintenance("GET:/orders", window.clone(), "demo")
        .await
        .unwrap();
    assert_eq!(state.window, Some(window));
    assert_eq!(
        get(&app, "/orders").await.status,
        StatusCode::OK,
        "active until start"
    );

    tokio::time::sleep(Duration::from_secs(6)).await;
    let reply = get(&app, "/orders").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["error"]["reason"], "Order system upgrade");
    assert_eq!(reply.header("retry-after"), Some("9"));

    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(get(&app, "/orders").await.status, StatusCode::OK);
    let state = engine.state("GET:/orders").unwrap();
    assert_eq!((state.status, state.window), (RouteStatus::Active, None));
    let log = engine.audit_log(&AuditQuery::latest(1)).await.unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].actor.as_str()),
        ("enable", "scheduler")
    );
    assert_eq!(log[0].reason, "maintenance window ended");
}

#[tokio::test(start_paused = true)]
async fn start_publishes_a_new_snapshot_generation() {
    let engine = started(Arc::new(MemoryBackend::new())).await;
    engine
        .schedule_maintenance("GET:/orders", window(&engine, 5, 15), "demo")
        .await
        .unwrap();
    let before = engine.snapshot().generation();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(engine.snapshot().generation() > before);
}

#[tokio::test(start_paused = true)]
async fn cancel_sticks_and_survives_a_restart() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engine = started(backend.clone()).await;
    engine
        .schedule_maintenance("GET:/orders", window(&engine, 5, 15), "demo")
        .await
        .unwrap();
    let state = engine.cancel_schedule("/orders", "demo").await.unwrap();
    assert_eq!((state.status, state.window), (RouteStatus::Active, None));
    engine.shutdown().await;

    let restarted = started(backend).await;
    let app = app(&restarted);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(get(&app, "/orders").await.status, StatusCode::OK);
    assert_eq!(
        restarted.state("GET:/orders").unwrap().status,
        RouteStatus::Active
    );
}

#[tokio::test(start_paused = true)]
async fn a_restarted_engine_rearms_the_window() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engine = started(backend.clone()).await;
    engine
        .schedule_maintenance("GET:/orders", window(&engine, 5, 15), "demo")
        .await
        .unwrap();
    engine.shutdown().await;
    drop(engine);

    let restarted = started(backend).await;
    let app = app(&restarted);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        get(&app, "/orders").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        restarted.state("GET:/orders").unwrap().status,
        RouteStatus::Active
    );
}

#[tokio::test(start_paused = true)]
async fn a_window_that_ended_while_down_is_closed_at_start() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let engine = Engine::builder().shared_backend(backend.clone()).build();
    let mut state = waygate::RouteState::active("GET:/orders");
    state.status = RouteStatus::Maintenance;
    state.window = Some(window(&engine, -20, -10));
    backend.set_state(&state).await.unwrap();

    engine.start().await.unwrap();
    assert_eq!(get(&app(&engine), "/orders").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        engine.state("GET:/orders").unwrap().status,
        RouteStatus::Active
    );
}

#[tokio::test(start_paused = true)]
async fn a_window_that_already_ended_cannot_be_scheduled() {
    let engine = started(Arc::new(MemoryBackend::new())).await;
    let error = engine
        .schedule_maintenance("GET:/orders", window(&engine, -20, -10), "demo")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid window: the window has already ended"
    );
}
