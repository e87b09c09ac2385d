//! Two independent services sharing one Waygate Server: each registers its routes under its
//! own `app_id`, so the dashboard's service filter and the CLI's `--service` /
//! `WAYGATE_SERVICE` manage them apart or together.
//!
//! The axum port of the Python original's "Two independent services sharing one Waygate
//! Server" example. Three processes; run each in its own terminal:
//!
//! ```text
//! cargo run --example multi_service -- server     # the Waygate Server, http://127.0.0.1:8001
//! cargo run --example multi_service -- payments   # payments-service,   http://127.0.0.1:8000
//! cargo run --example multi_service -- orders     # orders-service,     http://127.0.0.1:8002
//! ```
//!
//! `PORT` overrides each port (`PORT=0` picks a free one); the services find the server at
//! `WAYGATE_SERVER_URL` (default `http://127.0.0.1:8001`) and log in as `admin` / `secret`
//! (`WAYGATE_USERNAME`, `WAYGATE_PASSWORD`): each gets its own long-lived `sdk` token, bound
//! to its service. The server gives people 1-hour tokens and services 1-year ones. Logs go to
//! stderr (`RUST_LOG`, default `info`).
//!
//! Expected behaviour:
//!
//! | service | request | response | why |
//! |---|---|---|---|
//! | payments | `GET /health` | `200` always | `#[force_active]` |
//! | payments | `GET /api/payments` | `503` `MAINTENANCE_MODE` | starts in maintenance |
//! | payments | `GET /api/refunds` | `200` | active |
//! | payments | `GET /api/v1/invoices` | `200` + deprecation headers | `#[deprecated_route]` |
//! | payments | `GET /api/v2/invoices` | `200` | the successor |
//! | orders | `GET /health` | `200` always | `#[force_active]` |
//! | orders | `GET /api/orders` | `200` | active |
//! | orders | `GET /api/shipments` | `503` `ROUTE_DISABLED` | `#[disabled]` |
//! | orders | `GET /api/cart` | `200` | active |
//!
//! The CLI, multi-service:
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8001
//! waygate login admin                          # password: secret
//! waygate services                             # orders-service, payments-service
//! export WAYGATE_SERVICE=payments-service
//! waygate status                               # payments-service's routes only
//! waygate enable /api/payments                 # payments: 200
//! waygate disable /api/cart --reason redesign --service orders-service   # the flag wins
//! waygate sm enable orders-service --reason "DB migration" --exempt /health  # orders only
//! waygate sm disable orders-service
//! unset WAYGATE_SERVICE
//! waygate status                               # both services
//! waygate global enable --reason "emergency maintenance" --exempt /health    # every service
//! waygate global disable
//! waygate log
//! ```

mod support;
use support::{init_tracing, port_or, shutdown_signal};

use axum::{Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;
use tokio::net::TcpListener;
use waygate::admin::Auth;
use waygate::backend::MemoryBackend;
use waygate::prelude::*;
use waygate::sdk::WaygateSdk;
use waygate::server::WaygateServer;

/// payments-service's routes.
mod payments {
    use super::*;

    /// Always `200`.
    #[route(GET, "/health")]
    #[force_active]
    pub(crate) async fn health() -> Json<Value> {
        Json(json!({"status": "ok", "service": "payments-service"}))
    }

    /// `503` on startup: `waygate enable /api/payments --service payments-service`.
    #[route(GET, "/api/payments")]
    #[maintenance(reason = "Payment processor upgrade — back at 04:00 UTC")]
    pub(crate) async fn process_payment() -> Json<Value> {
        Json(json!({"payment_id": "pay_abc123", "status": "processed"}))
    }

    /// Active on startup.
    #[route(GET, "/api/refunds")]
    pub(crate) async fn list_refunds() -> Json<Value> {
        Json(json!({"refunds": [{"id": "ref_001", "amount": 49.99}]}))
    }

    /// `200` with `Deprecation`, `Sunset` and `Link` headers.
    #[route(GET, "/api/v1/invoices")]
    #[deprecated_route(
        sunset = "Thu, 01 Jun 2028 00:00:00 GMT",
        use_instead = "/api/v2/invoices"
    )]
    pub(crate) async fn v1_invoices() -> Json<Value> {
        Json(json!({"invoices": [{"id": "inv_001", "total": 199.99}], "version": 1}))
    }

    /// The successor.
    #[route(GET, "/api/v2/invoices")]
    pub(crate) async fn v2_invoices() -> Json<Value> {
        Json(json!({"invoices": [{"id": "inv_001", "total": 199.99}], "version": 2}))
    }
}

/// orders-service's routes.
mod orders {
    use super::*;

    /// Always `200`.
    #[route(GET, "/health")]
    #[force_active]
    pub(crate) async fn health() -> Json<Value> {
        Json(json!({"status": "ok", "service": "orders-service"}))
    }

    /// Active on startup.
    #[route(GET, "/api/orders")]
    pub(crate) async fn list_orders() -> Json<Value> {
        Json(json!({"orders": [{"id": 42, "status": "shipped"}]}))
    }

    /// `503 ROUTE_DISABLED`.
    #[route(GET, "/api/shipments")]
    #[disabled(reason = "Shipment provider integration deprecated — use /api/orders")]
    pub(crate) async fn list_shipments() -> Json<Value> {
        Json(json!({}))
    }

    /// Active on startup.
    #[route(GET, "/api/cart")]
    pub(crate) async fn get_cart() -> Json<Value> {
        Json(json!({"cart": {"items": [], "total": 0.0}}))
    }
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

/// The Waygate Server shared by both services.
async fn server() -> Result<(), Box<dyn std::error::Error>> {
    let server = WaygateServer::new(MemoryBackend::new())
        .auth(Auth::single("admin", "secret"))
        .token_expiry(Duration::from_secs(3600)) // dashboard and CLI
        .sdk_token_expiry(Duration::from_secs(365 * 24 * 3600)); // services
    let listener = listen(8001).await?;
    server.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// One service: its SDK registers only the routes it mounts (this binary declares both
/// services' routes).
async fn service(
    app_id: &str,
    default_port: u16,
    routes: waygate::Routes,
) -> Result<(), Box<dyn std::error::Error>> {
    let builder = WaygateSdk::builder(
        env_or("WAYGATE_SERVER_URL", "http://127.0.0.1:8001"),
        app_id,
    );
    // A service token (`waygate token create --service payments-service`), bound to this
    // service; a user's password works for a first try.
    let builder = match std::env::var("WAYGATE_TOKEN") {
        Ok(token) => builder.token(token),
        Err(_) => builder.login(
            env_or("WAYGATE_USERNAME", "admin"),
            env_or("WAYGATE_PASSWORD", "secret"),
        ),
    };
    let sdk = builder.only_mounted_routes().build()?;
    let app: Router = WaygateRouter::new(sdk.engine())
        .routes(routes)
        .into_router()
        .layer(WaygateLayer::new(sdk.engine().clone()));
    sdk.start().await?;
    let listener = listen(default_port).await?;
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
        Some("payments") => {
            let routes = routes![
                payments::health,
                payments::process_payment,
                payments::list_refunds,
                payments::v1_invoices,
                payments::v2_invoices
            ];
            service("payments-service", 8000, routes).await
        }
        Some("orders") => {
            let routes = routes![
                orders::health,
                orders::list_orders,
                orders::list_shipments,
                orders::get_cart
            ];
            service("orders-service", 8002, routes).await
        }
        _ => Err("usage: cargo run --example multi_service -- server|payments|orders".into()),
    }
}
