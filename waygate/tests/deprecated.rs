//! Deprecated routes are served with `Deprecation`, `Sunset` and `Link` headers.

mod common;

use axum::Router;
use common::get;
use http::StatusCode;
use waygate::prelude::*;
use waygate::RouteStatus;

#[route(GET, "/v1/users")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
async fn v1_users() -> &'static str {
    "v1"
}

#[route(GET, "/v1/orders")]
#[deprecated_route(
    sunset = "Fri, 01 Jan 2027 00:00:00 GMT",
    since = "2026-06-01T00:00:00Z"
)]
async fn v1_orders() -> &'static str {
    "v1 orders"
}

#[route(GET, "/v2/users")]
async fn v2_users() -> &'static str {
    "v2"
}

fn app(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![v1_users, v1_orders, v2_users])
        .layer(WaygateLayer::new(engine.clone()))
}

#[tokio::test]
async fn deprecated_route_is_served_with_headers() {
    let engine = Engine::new();
    let reply = get(&app(&engine), "/v1/users").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "v1");
    assert_eq!(reply.header("deprecation"), Some("true"));
    assert_eq!(
        reply.header("sunset"),
        Some("Fri, 01 Jan 2027 00:00:00 GMT")
    );
    assert_eq!(
        reply.header("link"),
        Some("</v2/users>; rel=\"successor-version\"")
    );
    assert_eq!(
        engine.state("GET:/v1/users").unwrap().status,
        RouteStatus::Deprecated
    );
    assert_eq!(
        engine
            .state("GET:/v1/users")
            .unwrap()
            .successor_path
            .as_deref(),
        Some("/v2/users")
    );
}

#[tokio::test]
async fn since_gives_an_rfc9745_date_and_no_successor_gives_no_link() {
    let reply = get(&app(&Engine::new()), "/v1/orders").await;
    assert_eq!(reply.header("deprecation"), Some("@1780272000"));
    assert_eq!(reply.header("link"), None);
}

#[tokio::test]
async fn active_routes_carry_no_deprecation_headers() {
    let reply = get(&app(&Engine::new()), "/v2/users").await;
    assert_eq!(reply.header("deprecation"), None);
    assert_eq!(reply.header("sunset"), None);
}

#[tokio::test]
async fn disabling_a_deprecated_route_blocks_it() {
    let engine = Engine::new();
    let app = app(&engine);
    engine
        .disable("GET:/v1/users", "gone", "ops")
        .await
        .unwrap();
    let reply = get(&app, "/v1/users").await;
    assert_eq!(reply.code(), "ROUTE_DISABLED");
    assert_eq!(reply.header("deprecation"), None);
}
