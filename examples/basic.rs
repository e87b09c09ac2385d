//! Basic usage: every lifecycle attribute on one app, enforced by [`WaygateLayer`].
//!
//! The axum port of the Python original's FastAPI "Basic usage" example.
//!
//! ```text
//! cargo run --example basic                      # http://127.0.0.1:8000, environment "dev"
//! APP_ENV=production cargo run --example basic   # /debug answers 404
//! PORT=3000 cargo run --example basic            # another port; PORT=0 picks a free one
//! RUST_LOG=debug cargo run --example basic       # more logs (on stderr)
//! ```
//!
//! `APP_ENV` is the environment `#[env_only]` routes are checked against; when it is unset,
//! `WAYGATE_ENV` or a `.waygate` file decide, else `dev`. `WAYGATE_BACKEND=file` (with
//! `WAYGATE_FILE_PATH`) keeps route state in a JSON file across restarts.
//!
//! Expected behaviour:
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /health` | `200` `{"status": "ok", "env": "dev"}`, always | `#[force_active]` |
//! | `GET /payments` | `503` `{"error": {"code": "MAINTENANCE_MODE", ..}}` | `#[maintenance]` |
//! | `GET /debug` | `200` in `dev`; `404`, empty body, with `APP_ENV=production` | `#[env_only("dev")]` |
//! | `GET /old-endpoint` | `503` `{"error": {"code": "ROUTE_DISABLED", ..}}` | `#[disabled]` |
//! | `GET /v1/users` | `200` + `Deprecation: true`, `Sunset: Fri, 01 Jan 2027 00:00:00 GMT`, `Link: </v2/users>; rel="successor-version"` | `#[deprecated_route]` |
//! | `GET /v2/users` | `200` | no attribute: active |
//! | `GET /openapi.json` | the OpenAPI document as the routes stand: no `/old-endpoint` (disabled), no `/debug` outside `dev`, `/payments` marked `x-waygate-status: maintenance`, `/v1/users` `deprecated: true`; it changes as soon as a route does | `WaygateOpenApi` |
//! | `GET /docs` | Swagger UI (served from the binary) with a maintenance banner while global maintenance is on, else an "All systems operational" chip | `WaygateOpenApi` |
//! | `GET /payments` with `X-Waygate-Bypass: <token>` | `200`: a bypass token from `waygate bypass create` passes maintenance and disabled routes (never env gates or rate limits) | `POST api/bypass` |
//! | `GET /metrics` | Prometheus text: `waygate_requests_total{route,outcome}`, `waygate_route_status{route,status}`, backend and rate-limit storage errors | `WaygateMetrics` |
//!
//! ```text
//! curl -i http://127.0.0.1:8000/health
//! curl -i http://127.0.0.1:8000/payments
//! curl -i http://127.0.0.1:8000/debug
//! curl -i http://127.0.0.1:8000/old-endpoint
//! curl -i http://127.0.0.1:8000/v1/users
//! curl -i http://127.0.0.1:8000/v2/users
//! curl -s http://127.0.0.1:8000/openapi.json
//! curl -s http://127.0.0.1:8000/metrics
//! ```
//!
//! The admin REST API is nested at `/waygate` (user `admin`, password `secret`), as in the
//! original; our `waygate` CLI (`cargo install --path waygate-cli`) and the Python one
//! (`pip install "waygate[cli,admin,flags]"`: its 0.2 release imports all three on start)
//! drive it alike:
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8000/waygate
//! waygate login admin                              # password: secret
//! waygate status
//! waygate enable GET:/payments                    # GET /payments: 200
//! waygate disable GET:/payments --reason "hotfix"  # 503 ROUTE_DISABLED
//! waygate rollout GET:/v2/users 25                 # serve /v2/users to a quarter of the clients
//!                     # (by peer address here: one machine always gets the same answer, 200 or
//!                     # 404; try `curl --interface 127.0.1.N` for other clients)
//! waygate bypass create --ttl 1h --reason "QA"     # prints a token and the header to send
//! waygate bypass revoke                            # ends every bypass token
//! waygate log
//! ```
//!
//! The web dashboard is at <http://127.0.0.1:8000/waygate> (same user): routes with their
//! status and actions, global maintenance, audit log, rate limits, blocked requests, updated
//! live, and a Traffic page charting blocked requests and 429s per minute over the last hour.
//! The API docs are at <http://127.0.0.1:8000/docs>: disable a route from the
//! dashboard or the CLI and it leaves the docs within seconds, without a restart.

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::extract::State;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::metrics::WaygateMetrics;
use waygate::openapi::WaygateOpenApi;
use waygate::prelude::*;

/// Always 200: a force-active route skips every check.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The service is up")))]
#[route(GET, "/health")]
#[force_active]
async fn health(State(engine): State<Engine>) -> Json<Value> {
    Json(json!({"status": "ok", "env": engine.current_env()}))
}

/// 503 `MAINTENANCE_MODE` until the route is enabled at runtime.
#[utoipa::path(get, path = "/payments", responses((status = 200, description = "Every payment")))]
#[route(GET, "/payments")]
#[maintenance(reason = "Scheduled database migration — back at 04:00 UTC")]
async fn get_payments() -> Json<Value> {
    Json(json!({"payments": []}))
}

/// 200 in dev; a silent 404 in any other environment.
#[utoipa::path(get, path = "/debug", responses((status = 200, description = "Debug information")))]
#[route(GET, "/debug")]
#[env_only("dev")]
async fn debug(State(engine): State<Engine>) -> Json<Value> {
    Json(json!({"debug": true, "env": engine.current_env()}))
}

/// 503 `ROUTE_DISABLED`.
#[utoipa::path(get, path = "/old-endpoint", responses((status = 200, description = "Nothing")))]
#[route(GET, "/old-endpoint")]
#[disabled(reason = "Use /v2/endpoint instead")]
async fn old_endpoint() -> Json<Value> {
    Json(json!({}))
}

/// 200, with `Deprecation`, `Sunset` and `Link` headers added by the layer.
#[utoipa::path(get, path = "/v1/users", responses((status = 200, description = "Every user")))]
#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users() -> Json<Value> {
    Json(json!({"users": [{"id": 1, "name": "Alice"}]}))
}

/// The successor of `/v1/users`.
#[utoipa::path(get, path = "/v2/users", responses((status = 200, description = "Every user")))]
#[route(GET, "/v2/users")]
async fn v2_users() -> Json<Value> {
    Json(json!({"users": [{"id": 1, "name": "Alice"}]}))
}

/// The OpenAPI document, as utoipa builds it; `WaygateOpenApi` serves it filtered by state.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "waygate — Basic Example",
        description = "Every lifecycle attribute on one app."
    ),
    paths(health, get_payments, debug, old_endpoint, v1_users, v2_users)
)]
struct ApiDoc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let engine = engine_builder();
    let engine = engine.build_from_env()?;
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    // The admin REST API (and the CLI's server URL): http://127.0.0.1:8000/waygate. Set a
    // stable `.secret_key(..)` in production, so that tokens survive a restart and work on
    // every instance; without one, a random key is drawn at startup.
    let admin = WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret"));
    // `/openapi.json` filtered by live route state, and Swagger UI at `/docs`.
    let docs = WaygateOpenApi::new(engine.clone(), ApiDoc::openapi());
    // Prometheus metrics at `/metrics`.
    let metrics = WaygateMetrics::new(engine.clone());

    // The layer goes on after the routes, so that it sees which route each request matched;
    // it lets requests under `/waygate` through untouched.
    let app = admin.nest_in(
        Router::new().merge(routes![
            health,
            get_payments,
            debug,
            old_endpoint,
            v1_users,
            v2_users
        ]),
        "/waygate",
    );
    // `WAYGATE_BARE=1`: the same app without the layer, what `scripts/throughput` measures
    // the layer against; `WAYGATE_BARE=noop`: with a layer that does nothing instead (what
    // any `Router::layer` costs).
    let app = match std::env::var("WAYGATE_BARE").as_deref() {
        Ok("1") => app,
        Ok("noop") => app.layer(tower::layer::util::Identity::new()),
        _ => app.layer(WaygateLayer::new(engine.clone())),
    };
    let app = app
        // Merged after the layer: the docs are served whatever the routes' state (global
        // maintenance included).
        .merge(docs.router())
        .route("/metrics", metrics.endpoint())
        .with_state(engine.clone());

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // With the peer address (`ConnectInfo`), so that per-IP rate limits set at runtime
    // (`waygate rl set`) count each client on its own.
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}
