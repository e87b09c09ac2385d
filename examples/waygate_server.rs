//! A Waygate Server and one service attached to it with the SDK: one process owns the route
//! state, the service enforces it locally with no network call per request.
//!
//! The axum port of the Python original's "Centralized Waygate Server + one service via
//! WaygateSDK" example. Two processes; run each in its own terminal:
//!
//! ```text
//! cargo run --example waygate_server -- server    # the Waygate Server, http://127.0.0.1:8001
//! cargo run --example waygate_server -- service   # the service, http://127.0.0.1:8000
//! ```
//!
//! `PORT` overrides either port (`PORT=0` picks a free one). The service finds the server at
//! `WAYGATE_SERVER_URL` (default `http://127.0.0.1:8001`) and logs in as `admin` / `secret`
//! (`WAYGATE_USERNAME`, `WAYGATE_PASSWORD`), getting its own long-lived `sdk` token bound to
//! `payments-service`. The dashboard is at <http://127.0.0.1:8001/> (admin / secret). Logs go
//! to stderr (`RUST_LOG`, default `info`).
//!
//! Expected behaviour of the service (port 8000):
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /health` | `200` `{"status": "ok", "service": "payments-service"}`, always | `#[force_active]` |
//! | `GET /api/payments` | `503` `{"error": {"code": "MAINTENANCE_MODE", ..}}` | starts in maintenance |
//! | `GET /api/orders` | `200` | active on startup |
//! | `GET /api/legacy` | `503` `{"error": {"code": "ROUTE_DISABLED", ..}}` | `#[disabled]` |
//! | `GET /api/v1/products` | `200` + `Deprecation`, `Sunset`, `Link` headers | `#[deprecated_route]` |
//! | `GET /api/v2/products` | `200` | the successor |
//!
//! And of the server (port 8001): `GET /health` → `200` `{"status": "ok", ..}`; the admin API
//! under `/api/..`, the SDK endpoints under `/api/sdk/..`, the dashboard at `/`.
//!
//! The CLI always targets the server:
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8001
//! waygate login admin                                   # password: secret
//! waygate services                                      # payments-service
//! waygate status --service payments-service
//! waygate enable /api/payments --service payments-service           # 200 at once
//! waygate disable /api/orders --reason hotfix --service payments-service   # 503
//! waygate global enable --reason deploy --exempt /health           # every route but /health
//! waygate global disable
//! waygate rl set GET:/api/orders 2/minute --service payments-service  # third request: 429
//! waygate log
//! ```
//!
//! Stop the server and the service keeps serving what it last knew (and says so once in its
//! log); start it again and the service registers its routes again and catches up.

mod support;
use support::{init_tracing, port_or, shutdown_signal};

use axum::{Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use waygate::admin::Auth;
use waygate::backend::MemoryBackend;
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;

const APP_ID: &str = "payments-service";

/// Always `200`: the load balancer's probe.
#[route(GET, "/health")]
#[force_active]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok", "service": APP_ID}))
}

/// `503` on startup; `waygate enable /api/payments --service payments-service` restores it.
#[route(GET, "/api/payments")]
#[maintenance(reason = "Scheduled database migration — back at 04:00 UTC")]
async fn get_payments() -> Json<Value> {
    Json(json!({"payments": [{"id": 1, "amount": 99.99}]}))
}

/// Active on startup.
#[route(GET, "/api/orders")]
async fn get_orders() -> Json<Value> {
    Json(json!({"orders": [{"id": 42, "status": "shipped"}]}))
}

/// Retired.
#[route(GET, "/api/legacy")]
#[disabled(reason = "Use /api/v2/products instead")]
async fn legacy() -> Json<Value> {
    Json(json!({}))
}

/// Served, with deprecation headers.
#[route(GET, "/api/v1/products")]
#[deprecated_route(
    sunset = "Sat, 01 Jan 2028 00:00:00 GMT",
    use_instead = "/api/v2/products"
)]
async fn v1_products() -> Json<Value> {
    Json(json!({"products": [{"id": 1, "name": "Widget"}], "version": 1}))
}

/// The successor.
#[route(GET, "/api/v2/products")]
async fn v2_products() -> Json<Value> {
    Json(json!({"products": [{"id": 1, "name": "Widget"}], "version": 2}))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn listen(default_port: u16) -> Result<TcpListener, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(("127.0.0.1", port_or(default_port)?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    Ok(listener)
}

/// The Waygate Server: memory backend, one user.
async fn server() -> Result<(), Box<dyn std::error::Error>> {
    let server = WaygateServer::new(MemoryBackend::new()).auth(Auth::single("admin", "secret"));
    let listener = listen(8001).await?;
    server.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// The service, attached to the server.
async fn service() -> Result<(), Box<dyn std::error::Error>> {
    let server_url = env_or("WAYGATE_SERVER_URL", "http://127.0.0.1:8001");
    // A service authenticates with a service token (`waygate token create --service
    // payments-service`, bound to this service); a user's password works for a first try.
    let sdk = match std::env::var("WAYGATE_TOKEN") {
        Ok(token) => WaygateSdk::builder(server_url, APP_ID).token(token),
        Err(_) => WaygateSdk::builder(server_url, APP_ID).login(
            env_or("WAYGATE_USERNAME", "admin"),
            env_or("WAYGATE_PASSWORD", "secret"),
        ),
    }
    .build()?;
    // Serves the declared states when the server cannot be reached, and catches up later.
    sdk.start().await?;
    let app = Router::new()
        .merge(routes![
            health,
            get_payments,
            get_orders,
            legacy,
            v1_products,
            v2_products
        ])
        .layer(WaygateLayer::new(sdk.engine().clone()));
    let listener = listen(8000).await?;
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    sdk.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();
    match std::env::args().nth(1).as_deref() {
        Some("server") => server().await,
        Some("service") => service().await,
        _ => Err("usage: cargo run --example waygate_server -- server|service".into()),
    }
}
