//! Global maintenance: one switch that blocks every route, with exemptions.

mod common;

use axum::Router;
use common::get;
use http::StatusCode;
use std::sync::Arc;
use waygate::backend::{Backend, MemoryBackend};
use waygate::prelude::*;
use waygate::{AuditQuery, RouteStatus};

#[route(GET, "/payments")]
async fn payments() -> &'static str {
    "payments"
}

#[route(GET, "/orders")]
async fn orders() -> &'static str {
    "orders"
}

#[route(GET, "/health")]
#[force_active]
async fn health() -> &'static str {
    "ok"
}

fn app(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![payments, orders, health])
        .layer(WaygateLayer::new(engine.clone()))
}

#[tokio::test]
async fn blocks_every_route_and_lifts_cleanly() {
    let engine = Engine::new();
    let app = app(&engine);
    assert_eq!(get(&app, "/payments").await.status, StatusCode::OK);

    let config = engine
        .enable_global_maintenance("Emergency patch", vec![], false, "ops")
        .await
        .unwrap();
    assert!(config.enabled);
    let reply = get(&app, "/payments").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.code(), "MAINTENANCE_MODE");
    assert_eq!(reply.json()["error"]["reason"], "Emergency patch");
    assert_eq!(reply.json()["error"]["path"], "/payments");
    assert_eq!(reply.header("retry-after"), None);
    assert_eq!(
        get(&app, "/nowhere").await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "unmatched paths are blocked too, as upstream"
    );

    engine.disable_global_maintenance("ops").await.unwrap();
    assert_eq!(get(&app, "/payments").await.status, StatusCode::OK);
    assert!(!engine.global_maintenance().enabled);
}

#[tokio::test]
async fn force_active_routes_are_exempt_unless_included() {
    let engine = Engine::new();
    let app = app(&engine);
    engine
        .enable_global_maintenance("m", vec![], false, "ops")
        .await
        .unwrap();
    assert_eq!(get(&app, "/health").await.status, StatusCode::OK);

    engine
        .enable_global_maintenance("m", vec![], true, "ops")
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/health").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn bare_and_method_exempt_paths() {
    let engine = Engine::new();
    let app = app(&engine);
    engine
        .enable_global_maintenance(
            "m",
            vec!["/payments".into(), "GET:/orders".into()],
            false,
            "ops",
        )
        .await
        .unwrap();
    assert_eq!(get(&app, "/payments").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/orders").await.status, StatusCode::OK);

    engine
        .set_global_exempt_paths(vec!["POST:/orders".into()], "ops")
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/payments").await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "list replaced"
    );
    assert_eq!(
        get(&app, "/orders").await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "other method"
    );
    assert_eq!(
        engine.global_maintenance().exempt_paths,
        vec!["POST:/orders"]
    );
}

#[tokio::test]
async fn overrides_an_active_route_and_restores_its_own_state() {
    let engine = Engine::new();
    let app = app(&engine);
    engine
        .disable("GET:/orders", "own reason", "ops")
        .await
        .unwrap();
    engine
        .enable_global_maintenance("global", vec![], false, "ops")
        .await
        .unwrap();
    assert_eq!(get(&app, "/orders").await.code(), "MAINTENANCE_MODE");
    engine.disable_global_maintenance("ops").await.unwrap();
    assert_eq!(get(&app, "/orders").await.code(), "ROUTE_DISABLED");
}

#[tokio::test]
async fn is_persisted_as_a_hidden_sentinel_and_audited() {
    let backend = Arc::new(MemoryBackend::new());
    let engine = Engine::builder().shared_backend(backend.clone()).build();
    engine.start().await.unwrap();
    engine
        .enable_global_maintenance("m", vec!["/health".into()], false, "alice")
        .await
        .unwrap();

    let stored = backend.global_config().await.unwrap();
    assert!(stored.enabled);
    assert_eq!(stored.exempt_paths, vec!["/health"]);
    assert!(backend
        .get_state("__waygate:global__")
        .await
        .unwrap()
        .is_some());
    assert!(engine
        .list_states()
        .iter()
        .all(|s| !s.path.starts_with("__waygate:")));

    engine.disable_global_maintenance("bob").await.unwrap();
    let log = engine.audit_log(&AuditQuery::latest(10)).await.unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("global_maintenance_off", "bob"),
            ("global_maintenance_on", "alice")
        ]
    );
    assert_eq!(log[0].path, "__global__");
    assert_eq!(log[0].previous_status, Some(RouteStatus::Maintenance));
    assert_eq!(log[0].new_status, Some(RouteStatus::Active));

    let restarted = Engine::builder().shared_backend(backend).build();
    restarted.start().await.unwrap();
    assert!(!restarted.global_maintenance().enabled);
}

#[tokio::test]
async fn service_maintenance_blocks_that_services_routes_only() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let mut state = waygate::RouteState::active("GET:/payments");
    state.service = Some("pay".into());
    backend.set_state(&state).await.unwrap();
    let engine = Engine::builder().shared_backend(backend.clone()).build();
    engine.start().await.unwrap();
    let app = app(&engine);

    engine
        .enable_service_maintenance("pay", "pay upgrade", vec![], false, "ops")
        .await
        .unwrap();
    let reply = get(&app, "/payments").await;
    assert_eq!(reply.code(), "MAINTENANCE_MODE");
    assert_eq!(reply.json()["error"]["reason"], "pay upgrade");
    assert_eq!(get(&app, "/orders").await.status, StatusCode::OK);
    assert!(engine.service_maintenance("pay").enabled);

    let other = Engine::builder().shared_backend(backend).build();
    other.start().await.unwrap();
    assert!(
        other.service_maintenance("pay").enabled,
        "stored for every engine"
    );

    engine
        .disable_service_maintenance("pay", "ops")
        .await
        .unwrap();
    assert_eq!(get(&app, "/payments").await.status, StatusCode::OK);
    let log = engine
        .audit_log(&AuditQuery::latest(2).route("__waygate:svc_global:pay__"))
        .await
        .unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["service_maintenance_off", "service_maintenance_on"]
    );
}
