//! Webhooks: an HTTP notification for every route state change.
//!
//! The axum port of the Python original's FastAPI "Webhooks" example. It is self-contained:
//! three receivers are mounted on the same app and the engine posts to them, so no external
//! service is needed. Change a route's state with the CLI or the dashboard and watch the
//! events arrive at `/webhook-log`.
//!
//! ```text
//! cargo run --example webhooks                   # http://127.0.0.1:8000
//! PORT=0 cargo run --example webhooks            # a free port (the webhooks follow it)
//! APP_BASE_URL=http://my-host:8000 cargo run --example webhooks   # where the receivers are
//! ```
//!
//! Three webhooks are registered at start, all pointing at this app:
//!
//! 1. `/webhooks/generic` — the default JSON body (`DefaultFormatter`)
//! 2. `/webhooks/slack` — a Slack incoming-webhook body (`SlackFormatter`), signed with the
//!    secret `example-secret` (`X-Waygate-Signature`, checked by the receiver)
//! 3. `/webhooks/custom` — a bespoke formatter written in this file
//!
//! Expected behaviour:
//!
//! | request | response | why |
//! |---|---|---|
//! | `GET /health` | `200` `{"status": "ok", "env": "dev"}`, always | `#[force_active]` |
//! | `GET /payments` | `503` `MAINTENANCE_MODE` until enabled | `#[maintenance]` |
//! | `GET /orders` | `200` `{"orders": []}` | no attribute: active |
//! | `GET /legacy` | `503` `ROUTE_DISABLED` until enabled | `#[disabled]` |
//! | `POST /webhooks/generic`, `/slack`, `/custom` | `200` `{"ok": true}`; the body goes in the log (`/slack`: `401` if the signature does not verify) | `#[force_active]` receivers |
//! | `GET /webhook-log` | an HTML page of the last 50 events received, newest first, refreshed every 5 s | `#[force_active]` |
//! | `GET /webhook-log.json` | the same events as JSON | `#[force_active]` |
//! | any state change (`waygate disable GET:/payments`, the dashboard, ...) | one event at each of the three receivers | `Engine::add_webhook` |
//!
//! Trigger events with the Python CLI (or the dashboard at <http://127.0.0.1:8000/waygate>,
//! user `admin`, password `secret`):
//!
//! ```text
//! waygate config set-url http://127.0.0.1:8000/waygate
//! waygate login admin                               # password: secret
//! waygate disable GET:/payments --reason "hotfix"
//! waygate enable GET:/payments
//! waygate maintenance GET:/orders --reason "stock sync"
//! waygate enable GET:/orders
//! ```
//!
//! then open <http://127.0.0.1:8000/webhook-log>. The API docs are at `/docs`; the documented
//! handlers write their path once, in `#[utoipa::path]`, which `#[route]` reads.

mod support;
use support::{engine_builder, init_tracing, port, shutdown_signal};

use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use utoipa::OpenApi;
use waygate::admin::{Auth, WaygateAdmin};
use waygate::openapi::WaygateOpenApi;
use waygate::prelude::*;
use waygate::webhooks::{verify_signature, DefaultFormatter, SlackFormatter, Webhook};
use waygate::Change;

/// How many received events the log keeps.
const LOG_SIZE: usize = 50;
/// The Slack webhook's signing secret (in production: from your secret store).
const SECRET: &str = "example-secret";

/// The last events the receivers got, newest first.
#[derive(Clone, Default)]
struct WebhookLog(Arc<Mutex<VecDeque<Value>>>);

impl WebhookLog {
    fn push(&self, receiver: &str, payload: Value) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.push_front(json!({"receiver": receiver, "payload": payload}));
        log.truncate(LOG_SIZE);
    }

    fn entries(&self) -> Vec<Value> {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }
}

#[derive(Clone)]
struct AppState {
    engine: Engine,
    log: WebhookLog,
}

impl FromRef<AppState> for Engine {
    fn from_ref(state: &AppState) -> Self {
        state.engine.clone()
    }
}

impl FromRef<AppState> for WebhookLog {
    fn from_ref(state: &AppState) -> Self {
        state.log.clone()
    }
}

/// A bespoke body: only what this consumer needs.
fn custom_formatter(change: &Change) -> Value {
    json!({
        "source": "waygate",
        "event": change.event,
        "route": change.key,
        "status": change.new_status,
        "reason": (!change.reason.is_empty()).then_some(&change.reason),
        "at": change.timestamp.to_rfc3339(),
    })
}

// ---------------------------------------------------------------------------------------------
// Receivers
// ---------------------------------------------------------------------------------------------

/// Receives the default JSON body.
#[route(POST, "/webhooks/generic")]
#[force_active]
async fn recv_generic(State(log): State<WebhookLog>, Json(body): Json<Value>) -> Json<Value> {
    log.push("generic", body);
    Json(json!({"ok": true}))
}

/// Receives the Slack body, and checks who sent it.
#[route(POST, "/webhooks/slack")]
#[force_active]
async fn recv_slack(
    State(log): State<WebhookLog>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let signature = headers
        .get("x-waygate-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !verify_signature(SECRET.as_bytes(), &body, signature) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"ok": false})));
    }
    let Ok(payload) = serde_json::from_slice(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"ok": false})));
    };
    log.push("slack", payload);
    (StatusCode::OK, Json(json!({"ok": true})))
}

/// Receives the custom body.
#[route(POST, "/webhooks/custom")]
#[force_active]
async fn recv_custom(State(log): State<WebhookLog>, Json(body): Json<Value>) -> Json<Value> {
    log.push("custom", body);
    Json(json!({"ok": true}))
}

/// The last 50 events, as an HTML page that refreshes itself every 5 s.
#[route]
#[utoipa::path(get, path = "/webhook-log", responses((status = 200, description = "The last 50 webhook events, as HTML")))]
#[force_active]
async fn webhook_log(State(log): State<WebhookLog>) -> Html<String> {
    let td = "padding:.5rem 1rem;border-bottom:1px solid #e5e7eb";
    let entries = log.entries();
    let rows = match entries.is_empty() {
        true => "<tr><td colspan='3' style='text-align:center;color:#6b7280'>No events yet — change a route state to trigger a webhook.</td></tr>".to_owned(),
        false => entries
            .iter()
            .map(|entry| {
                let payload = &entry["payload"];
                let event = payload["event"]
                    .as_str()
                    .or_else(|| payload["attachments"][0]["text"].as_str())
                    .unwrap_or("—");
                let at = payload["timestamp"]
                    .as_str()
                    .or_else(|| payload["at"].as_str())
                    .map(str::to_owned)
                    .or_else(|| payload["attachments"][0]["ts"].as_i64().map(|ts| ts.to_string()))
                    .unwrap_or_else(|| "—".to_owned());
                let detail = serde_json::to_string_pretty(payload).unwrap_or_default();
                format!(
                    "<tr><td style=\"{td};font-weight:600\">{}</td>\
                     <td style=\"{td};font-family:monospace;font-size:.85rem\">{}</td>\
                     <td style=\"{td}\"><details><summary style=\"cursor:pointer;color:#6b7280\">{}</summary>\
                     <pre style=\"font-size:.8rem;margin:.5rem 0 0\">{}</pre></details></td></tr>",
                    escape(entry["receiver"].as_str().unwrap_or_default()),
                    escape(event),
                    escape(&at),
                    escape(&detail),
                )
            })
            .collect(),
    };
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Webhook Log — waygate</title>
<style>
body {{ font-family: sans-serif; margin: 2rem auto; max-width: 960px; color: #111; }}
h1 {{ font-size: 1.5rem; }}
p {{ color: #6b7280; font-size: .9rem; }}
table {{ width: 100%; border-collapse: collapse; }}
th {{ text-align: left; padding: .5rem 1rem; background: #f3f4f6; border-bottom: 2px solid #e5e7eb; font-size: .85rem; color: #374151; }}
</style>
</head>
<body>
<h1>Webhook Log</h1>
<p>Showing last {} of up to {LOG_SIZE} events. Auto-refreshes every 5 seconds.</p>
<table>
<thead><tr><th>Receiver</th><th>Event</th><th>Timestamp / Payload</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</body>
</html>"#,
        entries.len()
    ))
}

/// The same events, as JSON.
#[route(GET, "/webhook-log.json")]
#[force_active]
async fn webhook_log_json(State(log): State<WebhookLog>) -> Json<Value> {
    Json(Value::Array(log.entries()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---------------------------------------------------------------------------------------------
// Routes whose state changes fire webhooks
// ---------------------------------------------------------------------------------------------

/// Always 200: use it to check the server is up.
#[route]
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The service is up")))]
#[force_active]
async fn health(State(engine): State<Engine>) -> Json<Value> {
    Json(json!({"status": "ok", "env": engine.current_env()}))
}

/// Starts in maintenance. Enable it with `waygate enable GET:/payments`.
#[route]
#[utoipa::path(get, path = "/payments", responses((status = 200, description = "Every payment")))]
#[maintenance(reason = "Scheduled DB migration — back at 04:00 UTC")]
async fn get_payments() -> Json<Value> {
    Json(json!({"payments": []}))
}

/// Starts active. Disable it, or put it in maintenance, to fire a webhook.
#[route]
#[utoipa::path(get, path = "/orders", responses((status = 200, description = "Every order")))]
async fn get_orders() -> Json<Value> {
    Json(json!({"orders": []}))
}

/// Disabled; enabling it fires an `enable` webhook.
#[route]
#[utoipa::path(get, path = "/legacy", responses((status = 200, description = "Nothing")))]
#[disabled(reason = "Replaced by /v2/legacy")]
async fn legacy() -> Json<Value> {
    Json(json!({}))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "waygate — Webhooks Example",
        description = "Webhook notifications on route state changes. Receivers: `POST /webhooks/generic`, `/webhooks/slack`, `/webhooks/custom`; log: `GET /webhook-log`."
    ),
    paths(webhook_log, health, get_payments, get_orders, legacy)
)]
struct ApiDoc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();

    let engine = engine_builder().build_from_env()?;
    engine.start().await?;

    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let address = listener.local_addr()?;
    // The receivers are on this app: register the webhooks at the address it listens on.
    let base = std::env::var("APP_BASE_URL").unwrap_or_else(|_| format!("http://{address}"));
    engine.add_webhook(&format!("{base}/webhooks/generic"), DefaultFormatter)?;
    engine.register_webhook(
        Webhook::new(&format!("{base}/webhooks/slack"))?
            .formatter(SlackFormatter)
            .secret(SECRET),
    )?;
    engine.add_webhook(&format!("{base}/webhooks/custom"), custom_formatter)?;

    let admin = WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret"));
    let docs = WaygateOpenApi::new(engine.clone(), ApiDoc::openapi());
    let state = AppState {
        engine: engine.clone(),
        log: WebhookLog::default(),
    };
    let app = admin
        .nest_in(
            Router::new().merge(routes![
                recv_generic,
                recv_slack,
                recv_custom,
                webhook_log,
                webhook_log_json,
                health,
                get_payments,
                get_orders,
                legacy
            ]),
            "/waygate",
        )
        .layer(WaygateLayer::new(engine.clone()))
        .merge(docs.router())
        .with_state(state);

    println!("listening on http://{address}");
    std::io::stdout().flush()?;
    // The peer address: the admin's login throttle counts failures per client too.
    waygate::serve::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    engine.shutdown().await;
    Ok(())
}
