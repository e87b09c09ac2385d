//! An actix-web service that follows a Waygate Server: the `actix_basic` routes and
//! behaviour, with their state kept by the server and changed from its CLI or dashboard.
//!
//! ```text
//! cargo run -p waygate-cli -- serve --auth admin:secret          # the server, http://127.0.0.1:8001
//! cargo run -p waygate-actix --example actix_service             # this service, http://127.0.0.1:8000
//! ```
//!
//! The service finds the server at `WAYGATE_SERVER_URL` (default `http://127.0.0.1:8001`),
//! logs in as `WAYGATE_USERNAME` / `WAYGATE_PASSWORD` (default `admin` / `secret`) and
//! registers its routes as service `actix-service`. `APP_ENV` (default `dev`) is the
//! environment `#[env_only]` routes are checked against; `PORT` overrides the port (`PORT=0`
//! picks a free one).
//!
//! Expected behaviour (as `actix_basic`, until the server says otherwise):
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
//! Changed on the server, enforced here on the next request (no network call per request):
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8001
//! waygate login admin                                          # password: secret
//! waygate status --service actix-service
//! waygate disable GET:/v2/users --service actix-service        # GET /v2/users: 503
//! waygate global enable --reason "deploy"                      # everything but /health: 503
//! ```
//!
//! Stop the server and the service keeps serving what it last knew (and says so once in its
//! log); start it again and the service registers its routes again and catches up.

use actix_web::{web, App, HttpServer};
use serde_json::{json, Value};
use std::io::Write;
use tracing_subscriber::EnvFilter;
use waygate_actix::prelude::*;
use waygate_actix::sdk::WaygateSdk;

/// The service's name on the server.
const APP_ID: &str = "actix-service";

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

    let sdk = WaygateSdk::builder(
        env_or("WAYGATE_SERVER_URL", "http://127.0.0.1:8001"),
        APP_ID,
    );
    // A service token (`waygate token create --service actix-service`), bound to this
    // service; a user's password works for a first try.
    let mut sdk = match std::env::var("WAYGATE_TOKEN") {
        Ok(token) => sdk.token(token),
        Err(_) => sdk.login(
            env_or("WAYGATE_USERNAME", "admin"),
            env_or("WAYGATE_PASSWORD", "secret"),
        ),
    };
    if let Ok(env) = std::env::var("APP_ENV") {
        sdk = sdk.env(env);
    }
    let sdk = sdk.build()?;
    // Serves the declared states when the server cannot be reached, and catches up later.
    sdk.start().await?;
    let engine = sdk.engine().clone();
    tracing::info!(
        env = engine.current_env(),
        app_id = APP_ID,
        "waygate sdk started"
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
        App::new()
            .wrap(Waygate::new(app_engine.clone()))
            .app_data(web::Data::new(app_engine.clone()))
            .configure(routes.config(&app_engine))
    })
    .workers(2)
    .bind(("127.0.0.1", port()?))?;
    let addr = server.addrs()[0];
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    // actix-web stops gracefully on Ctrl-C or SIGTERM.
    server.run().await?;
    tracing::info!("shutting down");
    sdk.shutdown().await;
    Ok(())
}

/// The variable `name`, or `default`.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
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
