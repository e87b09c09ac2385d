//! Dependency injection: enforcement per handler with the [`Gate`] extractor, and no
//! [`WaygateLayer`](waygate::WaygateLayer) at all.
//!
//! The axum port of the Python original's FastAPI "Dependency injection" example, where each
//! route takes a waygate decorator as a `Depends()`. Here every handler that should be
//! enforced takes a `Gate` argument: it reads the engine from the router state
//! (`Engine: FromRef<S>`) and refuses the request, with the same responses the layer sends,
//! when the route is blocked. Without the layer, a handler that takes no `Gate` is never
//! blocked — fine for `#[force_active]` routes, which are never blocked anyway. This suits
//! serverless or edge deployments, or apps that want enforcement on a few routes only.
//!
//! ```text
//! cargo run --example dependency_injection                      # http://127.0.0.1:8000, env "dev"
//! APP_ENV=production cargo run --example dependency_injection   # /debug answers 404
//! PORT=3000 cargo run --example dependency_injection            # another port; PORT=0 picks a free one
//! ```
//!
//! `APP_ENV` is the environment `#[env_only]` routes are checked against; when it is unset,
//! `WAYGATE_ENV` or a `.waygate` file decide, else `dev`. Logs go to stderr (`RUST_LOG`,
//! default `info`).
//!
//! Expected behaviour:
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /payments` | `503` `{"error": {"code": "MAINTENANCE_MODE", ..}}` | `#[maintenance]`, enforced by `Gate` |
//! | `GET /old-endpoint` | `503` `{"error": {"code": "ROUTE_DISABLED", ..}}` | `#[disabled]`, enforced by `Gate` |
//! | `GET /debug` | `200` in `dev` and `staging`; `404`, empty body, in `production` | `#[env_only("dev", "staging")]`, enforced by `Gate` |
//! | `GET /v1/users` | `200` + `Deprecation: true`, `Sunset: Fri, 01 Jan 2027 00:00:00 GMT`, `Link: </v2/users>; rel="successor-version"` | `#[deprecated_route]`; the handler returns its `Gate` to add the headers |
//! | `GET /v2/users` | `200` | active |
//! | `GET /users` | `200` | active |
//! | `GET /health` | `200` `{"status": "ok", "env": "dev"}`, always | `#[force_active]` |
//!
//! ```text
//! curl -i http://127.0.0.1:8000/payments
//! curl -i http://127.0.0.1:8000/old-endpoint
//! curl -i http://127.0.0.1:8000/debug
//! curl -i http://127.0.0.1:8000/v1/users
//! curl -i http://127.0.0.1:8000/v2/users
//! curl -i http://127.0.0.1:8000/users
//! curl -i http://127.0.0.1:8000/health
//! ```
//!
//! Not yet ported: the original's admin dashboard and REST API under `/waygate` (admin / secret).

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::extract::State;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use waygate::prelude::*;

/// Always 200: a force-active route is never blocked, so it needs no `Gate`.
#[route(GET, "/health")]
#[force_active]
async fn health(State(engine): State<Engine>) -> Json<Value> {
    Json(json!({"status": "ok", "env": engine.current_env()}))
}

/// Active; takes a `Gate` so that a runtime change of its state is enforced too.
#[route(GET, "/users")]
async fn list_users(_gate: Gate) -> Json<Value> {
    Json(json!({"users": [{"id": 1, "name": "Alice"}]}))
}

/// 503 on startup: the `Gate` refuses the request before the body runs.
#[route(GET, "/payments")]
#[maintenance(reason = "Scheduled DB migration")]
async fn get_payments(_gate: Gate) -> Json<Value> {
    Json(json!({"payments": []}))
}

/// 503 on startup.
#[route(GET, "/old-endpoint")]
#[disabled(reason = "Use /v2/endpoint instead")]
async fn old_endpoint(_gate: Gate) -> Json<Value> {
    Json(json!({}))
}

/// 404 in production; 200 in dev and staging.
#[route(GET, "/debug")]
#[env_only("dev", "staging")]
async fn debug(_gate: Gate, State(engine): State<Engine>) -> Json<Value> {
    Json(json!({"env": engine.current_env()}))
}

/// 200, with `Deprecation`, `Sunset` and `Link` headers: returning the `Gate` adds them.
#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users(gate: Gate) -> (Gate, Json<Value>) {
    (gate, Json(json!({"users": [{"id": 1, "name": "Alice"}]})))
}

/// The successor of `/v1/users`.
#[route(GET, "/v2/users")]
async fn v2_users(_gate: Gate) -> Json<Value> {
    Json(json!({"users": [{"id": 1, "name": "Alice"}]}))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let engine = engine_builder();
    let engine = engine.build_from_env()?;
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    // No `WaygateLayer`: the engine reaches each `Gate` through the router state.
    let app = Router::new()
        .merge(routes![
            health,
            list_users,
            get_payments,
            old_endpoint,
            debug,
            v1_users,
            v2_users
        ])
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
