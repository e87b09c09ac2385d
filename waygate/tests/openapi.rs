//! `/openapi.json` follows live route state, and `/docs` serves Swagger UI with the banner
//! script: the Python original's `test_openapi`, `test_openapi_maintenance`,
//! `test_global_maintenance_docs` and the docs part of `test_acceptance`.

mod common;

use axum::Router;
use chrono::{Duration, Utc};
use common::{get, Reply};
use http::{Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use utoipa::OpenApi;
use waygate::openapi::WaygateOpenApi;
use waygate::prelude::*;
use waygate::MaintenanceWindow;

/// Lists payments.
#[route] // reads GET /payments from utoipa
#[utoipa::path(get, path = "/payments", responses((status = 200, description = "Payments")))]
#[maintenance(reason = "DB migration")]
async fn payments() -> &'static str {
    "payments"
}

#[utoipa::path(
    post,
    path = "/payments",
    description = "Creates a payment.",
    responses((status = 201))
)]
#[route(POST, "/payments")]
async fn create_payment() -> &'static str {
    "created"
}

#[utoipa::path(get, path = "/old-endpoint", responses((status = 200)))]
#[route(GET, "/old-endpoint")]
#[disabled(reason = "Use /v2")]
async fn old_endpoint() -> &'static str {
    "old"
}

#[utoipa::path(get, path = "/debug", responses((status = 200)))]
#[route(GET, "/debug")]
#[env_only("dev")]
async fn debug() -> &'static str {
    "debug"
}

#[utoipa::path(get, path = "/health", responses((status = 200)))]
#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/v1/users", responses((status = 200)))]
#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users() -> &'static str {
    "users"
}

/// Lists orders.
#[route]
#[utoipa::path(get, path = "/orders", responses((status = 200)))]
async fn orders() -> &'static str {
    "orders"
}

#[utoipa::path(get, path = "/status", responses((status = 200)))]
#[route(GET, "/status")]
async fn status() -> &'static str {
    "status"
}

#[utoipa::path(get, path = "/checkout/v2", responses((status = 200)))]
#[route(GET, "/checkout/v2")]
#[feature_flag("new-checkout")]
async fn checkout_v2() -> &'static str {
    "v2"
}

/// In the document, but not a waygate route.
#[utoipa::path(get, path = "/unregistered", responses((status = 200)))]
async fn unregistered() -> &'static str {
    "plain"
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop", description = "The shop's API"),
    paths(
        payments,
        create_payment,
        old_endpoint,
        debug,
        health,
        v1_users,
        orders,
        status,
        checkout_v2,
        unregistered
    )
)]
struct ApiDoc;

struct App {
    engine: Engine,
    router: Router,
}

async fn app(env: &str) -> App {
    let engine = Engine::builder().env(env).build();
    engine.start().await.unwrap();
    let docs = WaygateOpenApi::new(engine.clone(), ApiDoc::openapi());
    let router = Router::new()
        .merge(routes![
            payments,
            create_payment,
            old_endpoint,
            debug,
            health,
            v1_users,
            orders,
            status,
            checkout_v2
        ])
        .route("/unregistered", axum::routing::get(unregistered))
        .layer(WaygateLayer::new(engine.clone()))
        .merge(docs.router());
    App { engine, router }
}

impl App {
    async fn openapi(&self) -> Value {
        let reply = get(&self.router, "/openapi.json").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        reply.json()
    }
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> Option<&'a Value> {
    doc["paths"].get(path)?.get(method)
}

#[tokio::test]
async fn disabled_and_wrong_env_routes_are_hidden() {
    let app = app("production").await;
    let doc = app.openapi().await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.contains_key("/old-endpoint"), "{doc:#}");
    assert!(!paths.contains_key("/debug"), "{doc:#}");
    // The acceptance test's other half: maintenance and force-active routes stay listed.
    assert!(operation(&doc, "/payments", "get").is_some());
    assert!(operation(&doc, "/health", "get").is_some());
    // Requests agree with the document.
    assert_eq!(
        get(&app.router, "/debug").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app.router, "/old-endpoint").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_route_behind_a_flag_names_it() {
    let doc = app("dev").await.openapi().await;
    let op = operation(&doc, "/checkout/v2", "get").unwrap();
    assert_eq!(op["x-waygate-feature-flag"], "new-checkout");
    assert!(operation(&doc, "/orders", "get").unwrap()["x-waygate-feature-flag"].is_null());
}

#[tokio::test]
async fn env_gated_route_is_listed_in_its_env() {
    let doc = app("dev").await.openapi().await;
    assert!(operation(&doc, "/debug", "get").is_some(), "{doc:#}");
}

#[tokio::test]
async fn deprecated_route_is_flagged_with_sunset_and_successor() {
    let doc = app("dev").await.openapi().await;
    let op = operation(&doc, "/v1/users", "get").unwrap();
    assert_eq!(op["deprecated"], true);
    assert_eq!(op["x-waygate-sunset"], "Fri, 01 Jan 2027 00:00:00 GMT");
    assert_eq!(op["x-waygate-successor"], "/v2/users");
    assert!(operation(&doc, "/orders", "get").unwrap()["deprecated"].is_null());
}

#[tokio::test]
async fn maintenance_route_is_annotated_once() {
    let app = app("dev").await;
    let first = app.openapi().await;
    let op = operation(&first, "/payments", "get").unwrap();
    assert_eq!(op["x-waygate-status"], "maintenance");
    assert_eq!(op["x-waygate-reason"], "DB migration");
    assert_eq!(op["summary"], "🔧 Lists payments.");
    let description = op["description"].as_str().unwrap();
    assert!(description.starts_with("> 🔧 **Waygate: MAINTENANCE** — DB migration"));
    // The other method of the same path is its own route, and active.
    let post = operation(&first, "/payments", "post").unwrap();
    assert!(post.get("x-waygate-status").is_none());
    assert_eq!(post["description"], "Creates a payment.");
    // Fetching again changes nothing.
    for _ in 0..3 {
        assert_eq!(app.openapi().await, first);
    }
}

#[tokio::test]
async fn existing_description_is_kept_after_the_banner() {
    let app = app("dev").await;
    app.engine
        .set_maintenance("POST:/payments", "Ledger rebuild", None, "alice")
        .await
        .unwrap();
    let doc = app.openapi().await;
    let description = operation(&doc, "/payments", "post").unwrap()["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(description.contains("Ledger rebuild"), "{description}");
    assert!(
        description.ends_with("\n\nCreates a payment."),
        "{description}"
    );
    // No summary: the annotation gives it one.
    assert_eq!(
        operation(&doc, "/payments", "post").unwrap()["summary"],
        "🔧 Maintenance"
    );
}

#[tokio::test]
async fn unregistered_operations_are_untouched() {
    let app = app("dev").await;
    let base = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let doc = app.openapi().await;
    assert_eq!(
        operation(&doc, "/unregistered", "get"),
        operation(&base, "/unregistered", "get")
    );
}

#[tokio::test]
async fn the_document_follows_runtime_changes_without_a_restart() {
    let app = app("dev").await;
    assert_eq!(get(&app.router, "/docs").await.status, StatusCode::OK);
    assert!(operation(&app.openapi().await, "/orders", "get").is_some());

    app.engine
        .disable("GET:/orders", "hotfix", "alice")
        .await
        .unwrap();
    assert!(operation(&app.openapi().await, "/orders", "get").is_none());

    app.engine
        .set_maintenance("GET:/orders", "stock sync", None, "alice")
        .await
        .unwrap();
    let doc = app.openapi().await;
    assert_eq!(
        operation(&doc, "/orders", "get").unwrap()["x-waygate-reason"],
        "stock sync"
    );

    app.engine.enable("GET:/orders", "alice").await.unwrap();
    let doc = app.openapi().await;
    let op = operation(&doc, "/orders", "get").unwrap();
    assert!(op.get("x-waygate-status").is_none());
    assert_eq!(op["summary"], "Lists orders.");

    app.engine.enable("GET:/payments", "alice").await.unwrap();
    let op = operation(&app.openapi().await, "/payments", "get").cloned();
    assert_eq!(op.unwrap()["summary"], "Lists payments.");
}

#[tokio::test]
async fn global_maintenance_is_in_info_and_on_operations() {
    let app = app("dev").await;
    let doc = app.openapi().await;
    assert_eq!(
        doc["info"]["x-waygate-global-maintenance"],
        serde_json::json!({"enabled": false})
    );

    app.engine
        .enable_global_maintenance("Emergency patch", vec!["GET:/status".into()], false, "ops")
        .await
        .unwrap();
    let doc = app.openapi().await;
    assert_eq!(
        doc["info"]["x-waygate-global-maintenance"],
        serde_json::json!({"enabled": true, "reason": "Emergency patch", "exempt_paths": ["GET:/status"]})
    );
    assert_eq!(doc["info"]["description"], "The shop's API");
    let orders = operation(&doc, "/orders", "get").unwrap();
    assert_eq!(orders["x-waygate-status"], "maintenance");
    assert_eq!(orders["x-waygate-reason"], "Emergency patch");
    // A route already in maintenance keeps its own reason.
    assert_eq!(
        operation(&doc, "/payments", "get").unwrap()["x-waygate-reason"],
        "DB migration"
    );
    // Exempt, and force-active (still served): not marked.
    assert!(operation(&doc, "/status", "get")
        .unwrap()
        .get("x-waygate-status")
        .is_none());
    assert!(operation(&doc, "/health", "get")
        .unwrap()
        .get("x-waygate-status")
        .is_none());
    assert_eq!(get(&app.router, "/health").await.status, StatusCode::OK);

    app.engine.disable_global_maintenance("ops").await.unwrap();
    let doc = app.openapi().await;
    assert_eq!(
        doc["info"]["x-waygate-global-maintenance"],
        serde_json::json!({"enabled": false})
    );
    assert!(operation(&doc, "/orders", "get")
        .unwrap()
        .get("x-waygate-status")
        .is_none());
}

#[tokio::test]
async fn global_maintenance_including_force_active_marks_them() {
    let app = app("dev").await;
    app.engine
        .enable_global_maintenance("All down", vec![], true, "ops")
        .await
        .unwrap();
    let doc = app.openapi().await;
    assert_eq!(
        operation(&doc, "/health", "get").unwrap()["x-waygate-status"],
        "maintenance"
    );
    assert_eq!(
        get(&app.router, "/health").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_window_shows_when_it_starts() {
    let app = app("dev").await;
    let start = Utc::now() + Duration::seconds(60);
    let window = MaintenanceWindow::new(start, start + Duration::seconds(60), "reindex");
    app.engine
        .schedule_maintenance("GET:/orders", window, "alice")
        .await
        .unwrap();
    let before = app.openapi().await;
    assert!(operation(&before, "/orders", "get")
        .unwrap()
        .get("x-waygate-status")
        .is_none());

    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    let during = app.openapi().await;
    assert_eq!(
        operation(&during, "/orders", "get").unwrap()["x-waygate-reason"],
        "reindex"
    );

    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    // The window's end is a write; let the timer task finish it.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let after = app.openapi().await;
    assert!(operation(&after, "/orders", "get")
        .unwrap()
        .get("x-waygate-status")
        .is_none());
}

#[tokio::test]
async fn an_unchanged_document_is_a_304() {
    let app = app("dev").await;
    let first = get(&app.router, "/openapi.json").await;
    let etag = first.header("etag").unwrap().to_owned();
    let revalidate = |etag: &str| {
        Request::builder()
            .method(Method::GET)
            .uri("/openapi.json")
            .header("if-none-match", etag)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let reply = app.router.clone().oneshot(revalidate(&etag)).await.unwrap();
    assert_eq!(reply.status(), StatusCode::NOT_MODIFIED);

    app.engine
        .disable("GET:/orders", "x", "alice")
        .await
        .unwrap();
    let reply = app.router.clone().oneshot(revalidate(&etag)).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_ne!(reply.headers()["etag"], etag.as_str());
}

async fn docs_page(app: &App, uri: &str) -> Reply {
    let reply = get(&app.router, uri).await;
    assert_eq!(reply.status, StatusCode::OK, "{uri}");
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    reply
}

#[tokio::test]
async fn docs_page_carries_the_banner_script() {
    let app = app("dev").await;
    for uri in ["/docs", "/docs/", "/docs/index.html"] {
        let page = docs_page(&app, uri).await.body;
        assert!(page.contains("<title>Shop - Swagger UI</title>"), "{page}");
        assert!(page.contains("data-openapi-url=\"/openapi.json\""));
        assert!(page.contains("POLL_INTERVAL_MS"));
        assert!(page.contains("setInterval"));
        assert!(page.contains("waygate-global-banner"));
        assert!(page.contains("All systems operational"));
        assert!(page.contains("<base href=\"/docs/\">"));
    }
    // Swagger UI's own files come from the binary.
    let bundle = get(&app.router, "/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000);
    let init = get(&app.router, "/docs/swagger-initializer.js").await;
    assert!(init.body.contains("/openapi.json"), "{}", init.body);
    assert_eq!(
        get(&app.router, "/docs/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
    // Normal routes still work next to the docs.
    assert_eq!(get(&app.router, "/orders").await.body, "orders");
}

#[tokio::test]
async fn paths_and_poll_interval_are_configurable() {
    let engine = Engine::new();
    let docs = WaygateOpenApi::new(engine.clone(), ApiDoc::openapi())
        .openapi_path("/api-docs/openapi.json")
        .docs_path(Some("/swagger"))
        .poll_interval(std::time::Duration::from_secs(2));
    let router: Router = docs.router();
    let page = get(&router, "/swagger").await.body;
    assert!(page.contains("data-openapi-url=\"/api-docs/openapi.json\""));
    assert!(page.contains("data-poll-ms=\"2000\""));
    assert_eq!(
        get(&router, "/api-docs/openapi.json").await.status,
        StatusCode::OK
    );
    assert_eq!(get(&router, "/docs").await.status, StatusCode::NOT_FOUND);
    // A docs-free router serves the document only.
    let router: Router = WaygateOpenApi::new(engine, ApiDoc::openapi())
        .docs_path(None)
        .router();
    assert_eq!(get(&router, "/docs").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&router, "/openapi.json").await.status, StatusCode::OK);
}
