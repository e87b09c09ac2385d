//! The `Gate` extractor enforces a handler's route state without the layer.

mod common;

use axum::Router;
use common::get;
use http::StatusCode;
use waygate::prelude::*;

#[route(GET, "/payments")]
#[maintenance(reason = "Scheduled DB migration")]
async fn payments(_gate: Gate) -> &'static str {
    "payments"
}

#[route(GET, "/old-endpoint")]
#[disabled(reason = "Use /v2/endpoint instead")]
async fn old_endpoint(_gate: Gate) -> &'static str {
    "old"
}

#[route(GET, "/debug")]
#[env_only("dev", "staging")]
async fn debug(_gate: Gate) -> &'static str {
    "debug"
}

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users(gate: Gate) -> (Gate, &'static str) {
    (gate, "users")
}

#[route(GET, "/users")]
async fn users(_gate: Gate) -> &'static str {
    "users"
}

fn app(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![payments, old_endpoint, debug, v1_users, users])
        .with_state(engine.clone())
}

#[tokio::test]
async fn gate_enforces_each_state_with_the_layer_bodies() {
    let engine = Engine::builder().env("production").build();
    let app = app(&engine);
    let reply = get(&app, "/payments").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.code(), "MAINTENANCE_MODE");
    assert_eq!(reply.json()["error"]["reason"], "Scheduled DB migration");
    assert_eq!(get(&app, "/old-endpoint").await.code(), "ROUTE_DISABLED");
    assert_eq!(get(&app, "/debug").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/users").await.status, StatusCode::OK);

    let reply = get(&app, "/v1/users").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("deprecation"), Some("true"));
    assert_eq!(
        reply.header("sunset"),
        Some("Fri, 01 Jan 2027 00:00:00 GMT")
    );
    assert_eq!(
        reply.header("link"),
        Some("</v2/users>; rel=\"successor-version\"")
    );
}

#[tokio::test]
async fn gate_follows_runtime_changes() {
    let engine = Engine::builder().env("dev").build();
    let app = app(&engine);
    assert_eq!(get(&app, "/debug").await.status, StatusCode::OK);
    engine.enable("GET:/payments", "ops").await.unwrap();
    assert_eq!(get(&app, "/payments").await.body, "payments");
    engine.disable("GET:/users", "r", "ops").await.unwrap();
    assert_eq!(get(&app, "/users").await.code(), "ROUTE_DISABLED");
}

#[tokio::test]
async fn gate_on_an_unregistered_route_passes() {
    let engine = Engine::new();
    let app = Router::new()
        .route("/free", axum::routing::get(|_gate: Gate| async { "free" }))
        .with_state(engine);
    assert_eq!(get(&app, "/free").await.body, "free");
}
