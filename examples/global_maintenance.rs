//! Global maintenance: one switch that blocks every route at once.
//!
//! The axum port of the Python original's FastAPI "Global maintenance" example.
//! [`Engine::enable_global_maintenance`] makes every route answer `503` without touching
//! their own states, except the exempt paths and (unless asked otherwise) the
//! `#[force_active]` routes; [`Engine::disable_global_maintenance`] lifts it and each route
//! resumes its own state.
//!
//! ```text
//! cargo run --example global_maintenance             # http://127.0.0.1:8000
//! PORT=3000 cargo run --example global_maintenance   # another port; PORT=0 picks a free one
//! ```
//!
//! `APP_ENV`, `WAYGATE_ENV` and `WAYGATE_BACKEND` configure the engine as in the other
//! examples; logs go to stderr (`RUST_LOG`, default `info`).
//!
//! Expected behaviour:
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /payments` | `200`; `503` `{"error": {"code": "MAINTENANCE_MODE", "reason": "Emergency infrastructure patch", ..}}` while global maintenance is on | business route |
//! | `GET /orders` | `200`; `503` `MAINTENANCE_MODE` while global maintenance is on | business route |
//! | `GET /health` | `200` `{"status": "ok"}`, always | `#[force_active]`, and exempt |
//! | `GET /admin/on` | `200` `{"global_maintenance": "enabled"}`: turns global maintenance on, `/health` exempt | `#[force_active]` |
//! | `GET /admin/off` | `200` `{"global_maintenance": "disabled"}`: turns it off | `#[force_active]` |
//! | `GET /admin/status` | `200` `{"enabled": .., "reason": .., "exempt_paths": [..], "include_force_active": false}` | `#[force_active]` |
//!
//! ```text
//! curl -i http://127.0.0.1:8000/payments       # 200
//! curl -i http://127.0.0.1:8000/admin/on       # global maintenance on
//! curl -i http://127.0.0.1:8000/payments       # 503 MAINTENANCE_MODE
//! curl -i http://127.0.0.1:8000/health         # 200: force-active and exempt
//! curl -i http://127.0.0.1:8000/admin/status
//! curl -i http://127.0.0.1:8000/admin/off      # global maintenance off
//! curl -i http://127.0.0.1:8000/payments       # 200 again
//! ```
//!
//! Not yet ported: the original's admin dashboard and REST API under `/waygate` (admin / secret).

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use waygate::prelude::*;
use waygate::{EngineError, GlobalMaintenanceConfig};

/// Blocked while global maintenance is on.
#[route(GET, "/payments")]
async fn get_payments() -> Json<Value> {
    Json(json!({"payments": [{"id": 1, "amount": 99.99}]}))
}

/// Blocked while global maintenance is on.
#[route(GET, "/orders")]
async fn get_orders() -> Json<Value> {
    Json(json!({"orders": [{"id": 1, "total": 49.99}]}))
}

/// Always 200: force-active routes are exempt from global maintenance by default.
#[route(GET, "/health")]
#[force_active]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

// Admin routes are force-active, so that they stay reachable during maintenance.

/// Turns global maintenance on for every route except `/health` and the force-active ones.
#[route(GET, "/admin/on")]
#[force_active]
async fn enable_global_maintenance(State(engine): State<Engine>) -> Result<Json<Value>, AppError> {
    let exempt_paths = vec!["/health".to_owned()];
    let include_force_active = false;
    engine
        .enable_global_maintenance(
            "Emergency infrastructure patch",
            exempt_paths,
            include_force_active,
            "demo",
        )
        .await?;
    tracing::info!("global maintenance enabled");
    Ok(Json(json!({"global_maintenance": "enabled"})))
}

/// Turns global maintenance off: every route resumes its own state.
#[route(GET, "/admin/off")]
#[force_active]
async fn disable_global_maintenance(State(engine): State<Engine>) -> Result<Json<Value>, AppError> {
    engine.disable_global_maintenance("demo").await?;
    tracing::info!("global maintenance disabled");
    Ok(Json(json!({"global_maintenance": "disabled"})))
}

/// The global maintenance configuration: `enabled`, `reason`, `exempt_paths` and
/// `include_force_active`.
#[route(GET, "/admin/status")]
#[force_active]
async fn admin_status(State(engine): State<Engine>) -> Json<GlobalMaintenanceConfig> {
    Json(engine.global_maintenance())
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
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    let app = Router::new()
        .merge(routes![
            get_payments,
            get_orders,
            health,
            enable_global_maintenance,
            disable_global_maintenance,
            admin_status
        ])
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(engine.clone());

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}
