//! A backend that is down: the engine fails open, and the layer keeps serving the state the
//! routes declare. (The engine's API is tested in `waygate-core/tests/engine.rs`.)

use async_trait::async_trait;
use waygate::backend::{Backend, BackendError};
use waygate::prelude::*;
use waygate::{AuditEntry, AuditQuery, EngineError, RouteState, RouteStatus};

#[route(GET, "/payments")]
async fn get_payments() {}

#[route(GET, "/orders")]
#[maintenance(reason = "Upgrade")]
async fn orders() {}

/// A backend that is down.
#[derive(Debug)]
struct DownBackend;

#[async_trait]
impl Backend for DownBackend {
    async fn get_state(&self, _: &str) -> Result<Option<RouteState>, BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
    async fn set_state(&self, _: &RouteState) -> Result<(), BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
    async fn delete_state(&self, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
    async fn list_states(&self) -> Result<Vec<RouteState>, BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
    async fn write_audit(&self, _: &AuditEntry) -> Result<(), BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
    async fn audit_log(&self, _: &AuditQuery) -> Result<Vec<AuditEntry>, BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn a_backend_that_is_down_fails_open() {
    let engine = Engine::builder().backend(DownBackend).build();
    let error = engine.start().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "backend error: backend unavailable: connection refused"
    );

    let app = axum::Router::new()
        .merge(routes![get_payments, orders])
        .layer(WaygateLayer::new(engine.clone()));
    let request = || {
        http::Request::get("/payments")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    use tower::ServiceExt;
    let response = app.clone().oneshot(request()).await.unwrap();
    assert_eq!(
        response.status(),
        http::StatusCode::OK,
        "declared state keeps serving"
    );
    let response = app
        .oneshot(
            http::Request::get("/orders")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);

    let error = engine
        .disable("GET:/payments", "r", "ops")
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        EngineError::Backend(BackendError::Unavailable(_))
    ));
    assert_eq!(
        engine.state("GET:/payments").unwrap().status,
        RouteStatus::Active,
        "nothing changed"
    );
    engine.shutdown().await;
}
