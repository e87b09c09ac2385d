//! Parameterised routes are keyed by their template; nesting keeps keys equal to the full
//! path templates operators see, and no nesting style bypasses enforcement.

mod common;

use axum::extract::Path;
use axum::Router;
use common::get;
use http::StatusCode;
use waygate::prelude::*;
use waygate::RouteStatus;

#[route(GET, "/items/{id}")]
#[maintenance(reason = "Reindexing")]
async fn get_item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

#[route(DELETE, "/items/{id}")]
async fn delete_item(Path(id): Path<u32>) -> String {
    format!("deleted {id}")
}

#[route(GET, "/files/{*rest}")]
#[disabled(reason = "No downloads")]
async fn files(Path(rest): Path<String>) -> String {
    rest
}

#[route(GET, "/reports/{id}")]
#[env_only("staging")]
async fn report(Path(id): Path<u32>) -> String {
    format!("report {id}")
}

#[route(GET, "/status/{part}")]
#[force_active]
async fn status(Path(part): Path<String>) -> String {
    part
}

#[tokio::test]
async fn template_state_applies_to_every_concrete_path() {
    let engine = Engine::builder().env("production").build();
    let app = Router::new()
        .merge(routes![get_item, delete_item, files, report, status])
        .layer(WaygateLayer::new(engine.clone()));

    let reply = get(&app, "/items/42").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json()["error"]["path"],
        "/items/42",
        "the concrete path, not the template"
    );
    let reply = common::send(&app, http::Method::DELETE, "/items/42").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "deleted 42")
    );
    assert_eq!(get(&app, "/files/a/b.txt").await.code(), "ROUTE_DISABLED");
    assert_eq!(get(&app, "/reports/7").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/status/db").await.body, "db");

    engine.enable("GET:/items/{id}", "ops").await.unwrap();
    assert_eq!(get(&app, "/items/7").await.body, "item 7");
}

#[tokio::test]
async fn waygate_router_keys_nested_routes_by_their_full_path() {
    let engine = Engine::new();
    let app: Router = WaygateRouter::new(&engine)
        .routes(routes![status])
        .nest(
            "/api",
            WaygateRouter::new(&engine).routes(routes![get_item, delete_item]),
        )
        .into_router()
        .layer(WaygateLayer::new(engine.clone()));

    let state = engine
        .state("GET:/api/items/{id}")
        .expect("keyed by the full path");
    assert_eq!(state.status, RouteStatus::Maintenance);
    assert!(
        engine.state("GET:/items/{id}").is_none(),
        "no phantom under the declared path"
    );

    let reply = get(&app, "/api/items/7").await;
    assert_eq!(reply.code(), "MAINTENANCE_MODE");
    assert_eq!(reply.json()["error"]["path"], "/api/items/7");

    engine.enable("GET:/api/items/{id}", "ops").await.unwrap();
    assert_eq!(get(&app, "/api/items/7").await.body, "item 7");
    let error = engine
        .disable("/api/items/{id}", "x", "ops")
        .await
        .unwrap_err();
    assert!(
        matches!(error, waygate::EngineError::Ambiguous { .. }),
        "{error}"
    );
    engine
        .disable("DELETE:/api/items/{id}", "x", "ops")
        .await
        .unwrap();
    let reply = common::send(&app, http::Method::DELETE, "/api/items/7").await;
    assert_eq!(reply.code(), "ROUTE_DISABLED");
}

#[tokio::test]
async fn nested_routes_are_seeded_under_their_full_path_after_start() {
    let engine = Engine::new();
    let _app: Router = WaygateRouter::new(&engine)
        .nest("/v1", WaygateRouter::new(&engine).routes(routes![files]))
        .into_router();
    engine.start().await.unwrap();
    let stored = engine
        .backend()
        .get_state("GET:/v1/files/{*rest}")
        .await
        .unwrap();
    assert_eq!(stored.unwrap().status, RouteStatus::Disabled);
    assert!(engine
        .backend()
        .get_state("GET:/files/{*rest}")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn plain_axum_nest_never_silently_serves_a_blocked_route() {
    let engine = Engine::new();
    let inner: Router = Router::new().merge(routes![files]);
    let app = Router::new()
        .nest("/v1", inner)
        .layer(WaygateLayer::new(engine.clone()));
    let reply = get(&app, "/v1/files/x").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.code(), "WAYGATE_UNKNOWN_MOUNT");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("WaygateRouter::nest"), "{message}");
}
