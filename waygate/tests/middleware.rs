//! The layer enforces each route state with the Python original's bodies (and the
//! deliberate differences of DECISIONS §3).

mod common;

use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use chrono::{Duration, Utc};
use common::{get as fetch, send};
use http::{Method, StatusCode};
use waygate::prelude::*;
use waygate::{Blocked, MaintenanceWindow, Responses, RouteStatus};

#[route(GET, "/active")]
async fn active() -> &'static str {
    "active"
}

#[route(GET, "/payments")]
#[maintenance(reason = "DB migration")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/old")]
#[disabled(reason = "Use /v2/old")]
async fn old() -> &'static str {
    "old"
}

#[route(GET, "/debug")]
#[env_only("dev", "staging")]
async fn debug() -> &'static str {
    "debug"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

fn html_page(blocked: Blocked) -> Html<String> {
    Html(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason))
}

#[route(GET, "/html")]
#[maintenance(reason = "Page rebuild", response = html_page)]
async fn html() -> &'static str {
    "html"
}

#[route(GET, "/redirect")]
#[maintenance(reason = "Moved", response = |_| Redirect::to("/status"))]
async fn redirect() -> &'static str {
    "redirect"
}

async fn async_gone(blocked: Blocked) -> impl IntoResponse {
    (StatusCode::GONE, format!("gone: {}", blocked.path))
}

#[route(GET, "/legacy")]
#[disabled(reason = "Retired", response = async_gone)]
async fn legacy() -> &'static str {
    "legacy"
}

fn app(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![
            active, payments, old, debug, health, html, redirect, legacy
        ])
        .route("/plain", get(|| async { "plain" }))
        .route("/waygate/api/routes", get(|| async { "admin" }))
        .layer(WaygateLayer::new(engine.clone()))
}

fn engine(env: &str) -> Engine {
    Engine::builder().env(env).build()
}

#[tokio::test]
async fn active_route_passes() {
    let reply = fetch(&app(&engine("dev")), "/active").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "active");
    assert_eq!(reply.header("deprecation"), None);
}

#[tokio::test]
async fn maintenance_answers_503_with_the_upstream_body() {
    let reply = fetch(&app(&engine("dev")), "/payments").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        serde_json::json!({"error": {
            "code": "MAINTENANCE_MODE",
            "message": "This endpoint is temporarily unavailable",
            "reason": "DB migration",
            "path": "/payments",
        }})
    );
    assert_eq!(
        reply.header("retry-after"),
        None,
        "no window, no Retry-After"
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

/// Puts `/active` in a maintenance window that ends two minutes from now; its end.
async fn two_minutes_of_maintenance(engine: &Engine) -> chrono::DateTime<Utc> {
    let end = Utc::now() + Duration::seconds(120);
    let window = MaintenanceWindow::new(Utc::now() - Duration::seconds(1), end, "upgrade");
    engine
        .set_maintenance("GET:/active", "upgrade", Some(window), "ops")
        .await
        .unwrap();
    end
}

#[tokio::test]
async fn a_default_that_falls_back_to_the_builtin_response_keeps_its_retry_after() {
    let engine = engine("dev");
    let responses = Responses::new().maintenance(|blocked: Blocked| blocked.default_response());
    let app = Router::new()
        .merge(routes![active])
        .layer(WaygateLayer::new(engine.clone()).responses(responses));
    two_minutes_of_maintenance(&engine).await;
    let reply = fetch(&app, "/active").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let seconds: i64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((110..=120).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(reply.json()["error"]["code"], "MAINTENANCE_MODE");
}

#[tokio::test]
async fn maintenance_window_sends_retry_after_in_seconds() {
    let engine = engine("dev");
    let app = app(&engine);
    let end = two_minutes_of_maintenance(&engine).await;
    let reply = fetch(&app, "/active").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let seconds: i64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((110..=120).contains(&seconds), "Retry-After {seconds}");
    let retry_after = reply.json()["error"]["retry_after"]
        .as_str()
        .unwrap()
        .to_owned();
    let parsed = chrono::DateTime::parse_from_rfc3339(&retry_after).unwrap();
    assert_eq!(parsed.timestamp(), end.timestamp());
    assert!(
        retry_after.ends_with("+00:00"),
        "isoformat like upstream: {retry_after}"
    );
}

#[tokio::test]
async fn disabled_answers_503_route_disabled() {
    let reply = fetch(&app(&engine("dev")), "/old").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        serde_json::json!({"error": {
            "code": "ROUTE_DISABLED",
            "message": "This endpoint has been disabled",
            "reason": "Use /v2/old",
            "path": "/old",
        }})
    );
}

#[tokio::test]
async fn env_gated_route_is_404_in_another_env_and_served_in_its_own() {
    let reply = fetch(&app(&engine("production")), "/debug").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, "", "as if the route did not exist");

    for env in ["dev", "staging"] {
        let reply = fetch(&app(&engine(env)), "/debug").await;
        assert_eq!(reply.status, StatusCode::OK, "env {env}");
    }
}

#[tokio::test]
async fn force_active_bypasses_every_check() {
    let reply = fetch(&app(&engine("production")), "/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    let error = engine("dev")
        .disable("GET:/health", "no", "ops")
        .await
        .unwrap_err();
    assert!(
        matches!(error, waygate::EngineError::Protected { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn head_is_checked_as_get() {
    let app = app(&engine("dev"));
    let reply = send(&app, Method::HEAD, "/payments").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let reply = send(&app, Method::HEAD, "/active").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_method_still_answers_405() {
    let reply = send(&app(&engine("dev")), Method::POST, "/active").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn runtime_changes_apply_to_the_next_request() {
    let engine = engine("dev");
    let app = app(&engine);
    assert_eq!(
        fetch(&app, "/payments").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    engine.enable("GET:/payments", "ops").await.unwrap();
    assert_eq!(fetch(&app, "/payments").await.status, StatusCode::OK);
    engine.disable("/payments", "hotfix", "ops").await.unwrap();
    let reply = fetch(&app, "/payments").await;
    assert_eq!(reply.code(), "ROUTE_DISABLED");
    assert_eq!(reply.json()["error"]["reason"], "hotfix");
}

#[tokio::test]
async fn unknown_route_passes_and_is_registered_off_the_request_path() {
    let engine = engine("dev");
    engine.start().await.unwrap();
    let mut events = engine.subscribe();
    let app = app(&engine);
    assert_eq!(fetch(&app, "/plain").await.status, StatusCode::OK);
    let key = loop {
        match events.recv().await.unwrap() {
            waygate::EngineEvent::RouteChanged { key } if key == "GET:/plain" => break key,
            _ => continue,
        }
    };
    assert_eq!(engine.state(&key).unwrap().status, RouteStatus::Active);
    engine.disable("GET:/plain", "off", "ops").await.unwrap();
    assert_eq!(fetch(&app, "/plain").await.code(), "ROUTE_DISABLED");
}

#[tokio::test]
async fn admin_path_is_never_blocked_and_is_configurable() {
    let engine = engine("dev");
    engine
        .enable_global_maintenance("everything", vec![], true, "ops")
        .await
        .unwrap();
    let app = app(&engine);
    assert_eq!(
        fetch(&app, "/waygate/api/routes").await.status,
        StatusCode::OK
    );

    let moved = Router::new()
        .route("/waygate/api/routes", get(|| async { "admin" }))
        .route("/ops/api", get(|| async { "ops" }))
        .layer(WaygateLayer::new(engine.clone()).admin_path("/ops/"));
    assert_eq!(fetch(&moved, "/ops/api").await.status, StatusCode::OK);
    assert_eq!(
        fetch(&moved, "/waygate/api/routes").await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the default admin path is no longer skipped"
    );
}

#[tokio::test]
async fn per_route_factories_sync_closure_and_async() {
    let app = app(&engine("dev"));
    let reply = fetch(&app, "/html").await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "Html<String> is a 200 unless the factory says otherwise"
    );
    assert_eq!(reply.body, "<h1>Back soon</h1><p>Page rebuild</p>");

    let reply = fetch(&app, "/redirect").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.header("location"), Some("/status"));

    let reply = fetch(&app, "/legacy").await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert_eq!(reply.body, "gone: /legacy");
}

#[tokio::test]
async fn layer_defaults_apply_where_the_route_has_no_factory() {
    let engine = engine("production");
    let responses = Responses::new()
        .maintenance(|b: Blocked| async move {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(format!("<p>{}</p>", b.reason)),
            )
        })
        .disabled(|b: Blocked| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("disabled: {}", b.reason),
            )
        })
        .env_gated(|b: Blocked| (StatusCode::FORBIDDEN, b.allowed_envs.join(",")));
    let app = Router::new()
        .merge(routes![payments, old, debug, legacy])
        .layer(WaygateLayer::new(engine.clone()).responses(responses));

    assert_eq!(fetch(&app, "/payments").await.body, "<p>DB migration</p>");
    assert_eq!(fetch(&app, "/old").await.body, "disabled: Use /v2/old");
    let reply = fetch(&app, "/debug").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::FORBIDDEN, "dev,staging")
    );
    let reply = fetch(&app, "/legacy").await;
    assert_eq!(
        reply.status,
        StatusCode::GONE,
        "the route's own factory wins"
    );
}
