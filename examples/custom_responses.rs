//! Custom responses: HTML pages, a redirect and plain text instead of the built-in JSON.
//!
//! The axum port of the Python original's FastAPI "Custom responses" example. A blocked
//! request's response can be replaced in two places:
//!
//! 1. per route, with `response = factory` on the blocking attribute;
//! 2. for the whole layer, with [`WaygateLayer::responses`], for routes without their own.
//!
//! Resolution order: the route's factory, then the layer's default, then the built-in JSON.
//! A factory is any function or closure, sync or async, that takes a [`Blocked`] (why and
//! where the request was refused) and returns anything that implements axum's
//! `IntoResponse`.
//!
//! ```text
//! cargo run --example custom_responses             # http://127.0.0.1:8000
//! PORT=3000 cargo run --example custom_responses   # another port; PORT=0 picks a free one
//! ```
//!
//! `APP_ENV`, `WAYGATE_ENV` and `WAYGATE_BACKEND` configure the engine as in the other
//! examples; logs go to stderr (`RUST_LOG`, default `info`).
//!
//! Expected behaviour:
//!
//! | request | response | how |
//! |---|---|---|
//! | `GET /payments` | `503`, HTML maintenance page ("We'll be right back") | the route's factory on `#[maintenance]` |
//! | `GET /orders` | `302`, `Location: /status` | the route's closure on `#[maintenance]` |
//! | `GET /legacy` | `503`, plain text `Gone. Retired. Use /v2/orders instead.` | the route's closure on `#[disabled]` |
//! | `GET /inventory` | `503`, HTML `<h1>Unavailable</h1>` with the reason | no factory of its own: the layer's async default |
//! | `GET /reports` | `503`, HTML `<h1>Unavailable</h1>` with the reason | no factory of its own: the layer's async default |
//! | `GET /status` | `200` `{"operational": true, ..}` | `#[force_active]`; the redirect target |
//! | `GET /health` | `200` `{"status": "ok"}` | `#[force_active]` |
//!
//! ```text
//! curl -i http://127.0.0.1:8000/payments
//! curl -i http://127.0.0.1:8000/orders
//! curl -i http://127.0.0.1:8000/legacy
//! curl -i http://127.0.0.1:8000/inventory
//! curl -i http://127.0.0.1:8000/reports
//! curl -i http://127.0.0.1:8000/status
//! curl -i http://127.0.0.1:8000/health
//! ```
//!
//! The admin REST API is nested at `/waygate` (user `admin`, password `secret`), as in the
//! original: `waygate config set-url http://127.0.0.1:8000/waygate`, `waygate login admin`,
//! then e.g. `waygate enable GET:/payments` with the Python `waygate` CLI. Not yet ported: the
//! original's admin dashboard.

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::http::{header, StatusCode};
use axum::response::Html;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::io::Write;
use tokio::net::TcpListener;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::prelude::*;
use waygate::{Blocked, Responses};

// ---------------------------------------------------------------------------------------------
// Response factories
// ---------------------------------------------------------------------------------------------

/// A branded maintenance page, used by one route as its `response = ..`.
fn maintenance_html(blocked: Blocked) -> (StatusCode, Html<String>) {
    let reason = escape_html(&blocked.reason);
    let retry_line = blocked
        .retry_after
        .map(|end| {
            let end = end.format("%Y-%m-%d %H:%M UTC");
            format!("<p>Expected back: <strong>{end}</strong></p>")
        })
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Down for Maintenance</title>
  <style>
    body {{ font-family: sans-serif; display: flex; flex-direction: column;
           align-items: center; justify-content: center; min-height: 100vh;
           margin: 0; background: #f9fafb; color: #111; }}
    h1 {{ font-size: 2rem; margin-bottom: .5rem; }}
    p {{ color: #6b7280; }}
    .tag {{ background: #fef3c7; color: #92400e; padding: .25rem .75rem;
            border-radius: 9999px; font-size: .85rem; font-weight: 600; }}
  </style>
</head>
<body>
  <span class="tag">Maintenance</span>
  <h1>We'll be right back</h1>
  <p>{reason}</p>
  {retry_line}
  <p>Check <a href="/status">our status page</a> for live updates.</p>
</body>
</html>"#
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(html))
}

/// The layer's default for disabled routes without a factory of their own.
fn disabled_html(blocked: Blocked) -> (StatusCode, Html<String>) {
    let html = format!(
        "<h1>This page is gone</h1><p>{}</p><p><small>{}</small></p>",
        escape_html(&blocked.reason),
        escape_html(&blocked.path),
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(html))
}

/// The layer's default for maintenance. Async, as when the page comes from a template
/// engine or a database.
async fn async_maintenance_html(blocked: Blocked) -> (StatusCode, Html<String>) {
    // In a real app: let html = templates.render("maintenance.html", &blocked).await;
    let html = format!(
        "<h1>Unavailable</h1><p>{}</p><a href='/status'>Status</a>",
        escape_html(&blocked.reason)
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(html))
}

/// Reasons are set by operators at runtime (dashboard, CLI): escape them before they go into
/// a page.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/// Always 200: a force-active route skips every check.
#[route(GET, "/health")]
#[force_active]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The public status page, where `/orders` redirects.
#[route(GET, "/status")]
#[force_active]
async fn status_page() -> Json<Value> {
    Json(json!({"operational": true, "message": "Some services are under maintenance."}))
}

/// The route's own HTML page, instead of the layer's default.
#[route(GET, "/payments")]
#[maintenance(reason = "Database migration — back at 04:00 UTC", response = maintenance_html)]
async fn get_payments() -> Json<Value> {
    Json(json!({"payments": []}))
}

/// Redirects to `/status` instead of an error body. (axum's `Redirect` has no `302`
/// constructor; `Redirect::to` answers `303 See Other`.)
#[route(GET, "/orders")]
#[maintenance(
    reason = "Order service upgrade",
    response = |_| (StatusCode::FOUND, [(header::LOCATION, "/status")])
)]
async fn get_orders() -> Json<Value> {
    Json(json!({"orders": []}))
}

/// Plain text on a disabled route.
#[route(GET, "/legacy")]
#[disabled(
    reason = "Retired. Use /v2/orders instead.",
    response = |blocked: Blocked| (StatusCode::SERVICE_UNAVAILABLE, format!("Gone. {}", blocked.reason))
)]
async fn legacy() -> Json<Value> {
    Json(json!({}))
}

/// No factory of its own: the layer's maintenance default answers.
#[route(GET, "/inventory")]
#[maintenance(reason = "Stock sync in progress")]
async fn get_inventory() -> Json<Value> {
    Json(json!({"items": []}))
}

/// No factory of its own either: the layer's (async) maintenance default answers.
#[route(GET, "/reports")]
#[maintenance(reason = "Report generation paused for system upgrade")]
async fn get_reports() -> Json<Value> {
    Json(json!({"reports": []}))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let engine = engine_builder();
    let engine = engine.build_from_env()?;
    engine.start().await?;
    tracing::info!(env = engine.current_env(), "waygate engine started");

    // Defaults for every route without a `response = ..` of its own; a route's factory wins.
    // Env-gated routes keep the built-in silent 404 (set one with `Responses::env_gated`).
    let responses = Responses::new()
        .maintenance(async_maintenance_html)
        .disabled(disabled_html);
    let app = Router::new()
        .merge(routes![
            health,
            status_page,
            get_payments,
            get_orders,
            legacy,
            get_inventory,
            get_reports
        ])
        // The admin REST API; the layer lets requests under `/waygate` through.
        .nest(
            "/waygate",
            WaygateAdmin::new(engine.clone())
                .auth(Auth::single("admin", "secret"))
                .into_router(),
        )
        .layer(WaygateLayer::new(engine.clone()).responses(responses));

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // The peer address: the admin's login throttle counts failures per client too.
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}
