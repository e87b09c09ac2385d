//! The guard `routes![..]` puts on every declared route: it refuses, loudly, requests that
//! reach the route under a path waygate was not told about (e.g. through a plain
//! `axum::Router::nest`), which would otherwise bypass the route's state.

use super::future::ResponseFuture;
use crate::registry::RouteMeta;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::response::Response;
use http::Request;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;
use waygate_core::MountCheck;

/// Applies [`MountGuard`] to one declared route.
#[derive(Debug, Clone)]
pub struct MountGuardLayer {
    check: Arc<MountCheck>,
}

impl MountGuardLayer {
    /// A guard for `meta` mounted at `expected` (its full path template).
    pub fn new(meta: &'static RouteMeta, expected: &str) -> Self {
        let advice = "Nest it with `waygate::WaygateRouter::nest` instead of `axum::Router::nest`";
        Self {
            check: Arc::new(MountCheck::new(expected, vec![meta], advice)),
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
        let matched = request.extensions().get::<MatchedPath>();
        match self.layer.check.check(matched.map(MatchedPath::as_str)) {
            Some(refused) => ResponseFuture::refused(refused.map(Body::from)),
            None => ResponseFuture::plain(self.inner.call(request)),
        }
    }
}
