//! The layer's per-route slot (`RouteSlot`): a route served many times follows every change
//! at once, and a service reached under two templates keeps each template's state.
//!
//! Every router here is finalized (`with_state`), as `axum::serve` finalizes a router for
//! each connection: an unfinalized one applies its layers again on every request, so each
//! request would get a new slot and none would answer.

mod common;

use axum::routing::get;
use axum::Router;
use common::counts::allowed;
use common::get as fetch;
use http::StatusCode;
use waygate::prelude::*;

/// `GET /items/{id}` behind the layer of `engine`.
fn items(engine: &Engine) -> Router {
    Router::new()
        .route("/items/{id}", get(|| async { "item" }))
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(())
}

async fn started() -> Engine {
    let engine = Engine::new();
    engine.start().await.unwrap();
    engine
}

/// Requests to `uri` until the engine knows its route (registered off the first request).
async fn until_registered(engine: &Engine, app: &Router, uri: &str, key: &str) {
    while engine.state(key).is_none() {
        assert_eq!(fetch(app, uri).await.status, StatusCode::OK);
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_route_served_many_times_follows_every_change_at_once() {
    let engine = started().await;
    let app = items(&engine);
    until_registered(&engine, &app, "/items/1", "GET:/items/{id}").await;
    let before = allowed(&engine, "GET:/items/{id}");
    for _ in 0..3 {
        assert_eq!(fetch(&app, "/items/1").await.status, StatusCode::OK);
    }
    assert_eq!(
        allowed(&engine, "GET:/items/{id}"),
        before + 3,
        "every request counted"
    );

    engine
        .disable("GET:/items/{id}", "broken", "alice")
        .await
        .unwrap();
    assert_eq!(
        fetch(&app, "/items/1").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    engine.enable("GET:/items/{id}", "alice").await.unwrap();
    for _ in 0..3 {
        assert_eq!(fetch(&app, "/items/2").await.status, StatusCode::OK);
    }
    engine
        .enable_global_maintenance("deploy", Vec::new(), false, "alice")
        .await
        .unwrap();
    assert_eq!(
        fetch(&app, "/items/3").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    engine.disable_global_maintenance("alice").await.unwrap();
    assert_eq!(fetch(&app, "/items/3").await.status, StatusCode::OK);
    assert_eq!(fetch(&app, "/items/3").await.status, StatusCode::OK);
}

#[tokio::test]
async fn one_layered_router_nested_twice_keeps_each_template_s_state() {
    let engine = started().await;
    // Both nests clone the same layered route, and with it its slot.
    let inner = items(&engine);
    let app = Router::new().nest("/a", inner.clone()).nest("/b", inner);
    until_registered(&engine, &app, "/a/items/1", "GET:/a/items/{id}").await;
    until_registered(&engine, &app, "/b/items/1", "GET:/b/items/{id}").await;
    engine
        .disable("GET:/b/items/{id}", "moved", "alice")
        .await
        .unwrap();
    let before = allowed(&engine, "GET:/a/items/{id}");
    let before_b = allowed(&engine, "GET:/b/items/{id}");
    for _ in 0..3 {
        assert_eq!(fetch(&app, "/a/items/1").await.status, StatusCode::OK);
        assert_eq!(
            fetch(&app, "/b/items/1").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(allowed(&engine, "GET:/a/items/{id}"), before + 3);
    assert_eq!(allowed(&engine, "GET:/b/items/{id}"), before_b);
}

#[tokio::test]
async fn requests_under_the_admin_path_stay_untouched_whatever_their_route_learnt() {
    let engine = started().await;
    let app: Router = Router::new()
        .route("/{tenant}/items", get(|| async { "items" }))
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(());
    until_registered(&engine, &app, "/acme/items", "GET:/{tenant}/items").await;
    let before = allowed(&engine, "GET:/{tenant}/items");
    for _ in 0..3 {
        assert_eq!(fetch(&app, "/acme/items").await.status, StatusCode::OK);
        // The same route under the admin path: served, never counted.
        assert_eq!(fetch(&app, "/waygate/items").await.status, StatusCode::OK);
    }
    assert_eq!(allowed(&engine, "GET:/{tenant}/items"), before + 3);
}
