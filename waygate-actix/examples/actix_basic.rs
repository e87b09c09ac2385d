//! Basic usage on actix-web: every lifecycle attribute on one app, enforced by the
//! [`Waygate`] middleware.
//!
//! The actix-web port of the axum `basic` example (itself the port of the Python original's
//! FastAPI "Basic usage" example): the same routes, ports and behaviour.
//!
//! ```text
//! cargo run -p waygate-actix --example actix_basic                      # http://127.0.0.1:8000, environment "dev"
//! APP_ENV=production cargo run -p waygate-actix --example actix_basic   # /debug answers 404
//! PORT=3000 cargo run -p waygate-actix --example actix_basic            # another port; PORT=0 picks a free one
//! RUST_LOG=debug cargo run -p waygate-actix --example actix_basic       # more logs (on stderr)
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
//!
//! (The axum example's `/openapi.json` and `/docs` rows are not ported: the OpenAPI
//! integration is axum's, through utoipa's axum support.)
//!
//! ```text
//! curl -i http://127.0.0.1:8000/health
//! curl -i http://127.0.0.1:8000/payments
//! curl -i http://127.0.0.1:8000/debug
//! curl -i http://127.0.0.1:8000/old-endpoint
//! curl -i http://127.0.0.1:8000/v1/users
//! curl -i http://127.0.0.1:8000/v2/users
//! ```
//!
//! The admin REST API is served by the app at `/waygate` (user `admin`, password `secret`),
//! as in the original; our `waygate` CLI (`cargo install --path waygate-cli`) and the Python
//! one (`pip install "waygate[cli,admin,flags]"`) drive it alike:
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8000/waygate
//! waygate login admin                              # password: secret
//! waygate status
//! waygate enable GET:/payments                    # GET /payments: 200
//! waygate disable GET:/payments --reason "hotfix"  # 503 ROUTE_DISABLED
//! waygate log
//! ```
//!
//! The web dashboard is at <http://127.0.0.1:8000/waygate> (same user).

use actix_web::{web, App, HttpServer};
use serde_json::{json, Value};
use std::io::Write;
use tracing_subscriber::EnvFilter;
use waygate_actix::admin::{AdminService, Auth, WaygateAdmin};
use waygate_actix::prelude::*;

/// Always 200: a force-active route skips every check.
#[route(GET, "/health")]
#[force_active]
async fn health(engine: web::Data<Engine>) -> web::Json<Value> {
    web::Json(json!({"status": "ok", "env": engine.current_env()}))
}

/// 503 `MAINTENANCE_MODE` until the route is enabled at runtime.
#[route(GET, "/payments")]
#[maintenance(reason = "Scheduled database migration — back at 04:00 UTC")]
async fn get_payments() -> web::Json<Value> {
    web::Json(json!({"payments": []}))
}

/// 200 in dev; a silent 404 in any other environment.
#[route(GET, "/debug")]
#[env_only("dev")]
async fn debug(engine: web::Data<Engine>) -> web::Json<Value> {
    web::Json(json!({"debug": true, "env": engine.current_env()}))
}

/// 503 `ROUTE_DISABLED`.
#[route(GET, "/old-endpoint")]
#[disabled(reason = "Use /v2/endpoint instead")]
async fn old_endpoint() -> web::Json<Value> {
    web::Json(json!({}))
}

/// 200, with `Deprecation`, `Sunset` and `Link` headers added by the middleware.
#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users() -> web::Json<Value> {
    web::Json(json!({"users": [{"id": 1, "name": "Alice"}]}))
}

/// The successor of `/v1/users`.
#[route(GET, "/v2/users")]
async fn v2_users() -> web::Json<Value> {
    web::Json(json!({"users": [{"id": 1, "name": "Alice"}]}))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();

    // The environment is `APP_ENV` when set (as the reference examples read it); otherwise
    // `build_from_env` takes `WAYGATE_ENV`, the `.waygate` file, or `dev`.
    let mut builder = Engine::builder();
    if let Ok(env) = std::env::var("APP_ENV") {
        builder = builder.env(env);
    }
    let engine = builder.build_from_env()?;
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    // The admin REST API (and the CLI's server URL): http://127.0.0.1:8000/waygate, served
    // by the app. Built once, so that every worker shares one token key: set a stable
    // `.secret_key(..)` in production, so that tokens survive a restart.
    let admin = AdminService::new(
        WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret")),
        "/waygate",
    );
    let routes = routes![
        health,
        get_payments,
        debug,
        old_endpoint,
        v1_users,
        v2_users
    ];

    let app_engine = engine.clone();
    let server = HttpServer::new(move || {
        // The middleware lets requests under `/waygate` through untouched.
        App::new()
            .wrap(Waygate::new(app_engine.clone()))
            .app_data(web::Data::new(app_engine.clone()))
            .configure(routes.config(&app_engine))
            .configure(admin.config())
    })
    .workers(2)
    .bind(("127.0.0.1", port()?))?;
    let addr = server.addrs()[0];
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    // actix-web stops gracefully on Ctrl-C or SIGTERM.
    server.run().await?;
    tracing::info!("shutting down");
    engine.shutdown().await;
    Ok(())
}

/// `PORT`, or 8000.
fn port() -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|error| format!("PORT={port:?} is not a port number: {error}")),
        Err(_) => Ok(8000),
    }
}
