//! The guard `routes![..]` puts on every declared route: it refuses, loudly, requests that
//! reach the route under a path waygate was not told about (e.g. through a plain
//! `axum::Router::nest`), which would otherwise bypass the route's state.

use super::future::ResponseFuture;
use crate::registry::RouteMeta;
use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Applies [`MountGuard`] to one declared route.
#[derive(Debug, Clone)]
pub struct MountGuardLayer {
    meta: &'static RouteMeta,
    expected: Arc<str>,
    reported: Arc<AtomicBool>,
}

impl MountGuardLayer {
    /// A guard for `meta` mounted at `expected` (its full path template).
    pub fn new(meta: &'static RouteMeta, expected: &str) -> Self {
        Self {
            meta,
            expected: expected.into(),
            reported: Arc::default(),
        }
    }
}

impl<S> Layer<S> for MountGuardLayer {
    type Service = MountGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MountGuard {
            inner,
            layer: self.clone(),
        }
    }
}

/// Refuses requests to a declared route that arrive under an unexpected path template.
#[derive(Debug, Clone)]
pub struct MountGuard<S> {
    inner: S,
    layer: MountGuardLayer,
}

impl<S, B> Service<Request<B>> for MountGuard<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match request.extensions().get::<MatchedPath>() {
            Some(matched) if matched.as_str() != &*self.layer.expected => {
                ResponseFuture::refused(self.layer.refuse(matched.as_str()))
            }
            _ => ResponseFuture::plain(self.inner.call(request)),
        }
    }
}

impl MountGuardLayer {
    fn refuse(&self, matched: &str) -> Response {
        let message = format!(
            "route `{}` ({}) is mounted at `{matched}`, but waygate knows it as `{}`: \
             its state would not be enforced. Nest it with `waygate::WaygateRouter::nest` \
             instead of `axum::Router::nest`",
            self.meta.key, self.meta.handler, self.expected
        );
        if !self.reported.swap(true, Ordering::Relaxed) {
            tracing::error!("waygate: {message}");
        }
        let body = json!({"error": {"code": "WAYGATE_UNKNOWN_MOUNT", "message": message}});
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
    }
}
