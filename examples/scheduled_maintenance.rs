//! Scheduled maintenance: a window that starts and ends by itself.
//!
//! The axum port of the Python original's FastAPI "Scheduled maintenance" example.
//! `GET /admin/schedule` puts `GET /orders` in maintenance from 5 to 15 seconds from now with
//! [`Engine::schedule_maintenance`]; the route is served until the window starts, answers
//! `503` during it and is served again when it ends, with no further call. (The Python
//! original blocks the route as soon as the window is scheduled; waygate for Rust serves it
//! until `start`.)
//!
//! ```text
//! cargo run --example scheduled_maintenance                 # http://127.0.0.1:8000
//! SCHEDULE_DELAY_SECS=1 SCHEDULE_DURATION_SECS=3 \
//!     cargo run --example scheduled_maintenance             # a window from 1 s to 4 s from now
//! PORT=3000 cargo run --example scheduled_maintenance       # another port; PORT=0 picks a free one
//! ```
//!
//! `SCHEDULE_DELAY_SECS` (default 5) is how long after the request the window starts,
//! `SCHEDULE_DURATION_SECS` (default 10) how long it lasts. `APP_ENV`, `WAYGATE_ENV` and
//! `WAYGATE_BACKEND` configure the engine as in the other examples; logs go to stderr
//! (`RUST_LOG`, default `info`).
//!
//! Expected behaviour:
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /orders` | `200` `{"orders": [..]}` before and after the window | no attribute: active |
//! | `GET /orders` during the window | `503` `{"error": {"code": "MAINTENANCE_MODE", "reason": "Automated order system upgrade", "retry_after": "<end, RFC 3339>", ..}}`, `Retry-After: <seconds until the end>` | the scheduled window |
//! | `GET /admin/schedule` | `200` `{"scheduled": true, "start": .., "end": .., "message": ..}` | `#[force_active]`; schedules the window |
//! | `GET /admin/status` | `200` `{"routes": [{"path": "GET:/orders", "status": "maintenance", "reason": .., "window": {"start": .., "end": .., "reason": ..}}, ..]}` | `#[force_active]`; every route's stored state |
//! | `GET /health` | `200` `{"status": "ok"}`, always | `#[force_active]` |
//!
//! `/admin/status` shows the stored state: `GET:/orders` reads `maintenance`, with its window,
//! from the moment the window is scheduled (the route is still served until `start`), and
//! `active` again once the window has ended.
//!
//! ```text
//! curl -i http://127.0.0.1:8000/orders          # 200
//! curl -i http://127.0.0.1:8000/admin/schedule  # window from 5 s to 15 s from now
//! sleep 5
//! curl -i http://127.0.0.1:8000/orders          # 503 MAINTENANCE_MODE, Retry-After: 9 (seconds left)
//! curl -i http://127.0.0.1:8000/admin/status
//! sleep 10
//! curl -i http://127.0.0.1:8000/orders          # 200 again
//! ```
//!
//! Not yet ported: the original's admin dashboard and REST API under `/waygate` (admin / secret).

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::TimeDelta;
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use waygate::prelude::*;
use waygate::{EngineError, MaintenanceWindow};

/// The router state: the engine, and when the demo window opens and how long it lasts.
#[derive(Clone)]
struct AppState {
    engine: Engine,
    delay: TimeDelta,
    duration: TimeDelta,
}

/// 200 normally; 503 during the scheduled maintenance window.
#[route(GET, "/orders")]
async fn get_orders() -> Json<Value> {
    Json(json!({"orders": [{"id": 1, "total": 49.99}, {"id": 2, "total": 129.00}]}))
}

/// Schedules a maintenance window on `GET /orders`: by default 10 seconds long, starting
/// 5 seconds from now.
#[route(GET, "/admin/schedule")]
#[force_active]
async fn schedule_maintenance(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let now = state.engine.now();
    let window = MaintenanceWindow::new(
        now + state.delay,
        now + state.delay + state.duration,
        "Automated order system upgrade",
    );
    state
        .engine
        .schedule_maintenance("GET:/orders", window.clone(), "demo")
        .await?;
    tracing::info!(start = %window.start, end = %window.end, "maintenance of GET /orders scheduled");
    Ok(Json(json!({
        "scheduled": true,
        "start": window.start,
        "end": window.end,
        "message": format!(
            "GET /orders will enter maintenance in {} seconds for {} seconds",
            state.delay.num_seconds(),
            state.duration.num_seconds(),
        ),
    })))
}

/// Every route's stored state, with its maintenance window if it has one.
#[route(GET, "/admin/status")]
#[force_active]
async fn admin_status(State(state): State<AppState>) -> Json<Value> {
    let routes: Vec<Value> = state
        .engine
        .list_states()
        .into_iter()
        .map(|s| {
            json!({
                "path": s.path,
                "status": s.status,
                "reason": s.reason,
                "window": s.window,
            })
        })
        .collect();
    Json(json!({"routes": routes}))
}

/// Always 200.
#[route(GET, "/health")]
#[force_active]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// An engine error, answered as `500 {"error": "<message>"}`.
struct AppError(EngineError);

impl From<EngineError> for AppError {
    fn from(error: EngineError) -> Self {
        Self(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self.0, "request failed");
        let body = Json(json!({"error": self.0.to_string()}));
        (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let engine = engine_builder();
    let engine = engine.build_from_env()?;
    // Besides loading state, `start` arms the timers of maintenance windows.
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    let state = AppState {
        engine: engine.clone(),
        delay: seconds_from_env("SCHEDULE_DELAY_SECS", 5)?,
        duration: seconds_from_env("SCHEDULE_DURATION_SECS", 10)?,
    };
    let app = Router::new()
        .merge(routes![
            get_orders,
            schedule_maintenance,
            admin_status,
            health
        ])
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(state);

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}

/// A whole number of seconds from the environment variable `name`, or `default`.
fn seconds_from_env(name: &str, default: u32) -> Result<TimeDelta, String> {
    let seconds = match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|error| format!("{name}={value:?} is not a number of seconds: {error}"))?,
        Err(_) => default,
    };
    Ok(TimeDelta::seconds(seconds.into()))
}
