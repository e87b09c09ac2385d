//! The guard `routes![..]` puts on every declared route: it refuses, loudly, requests that
//! reach the route under a path waygate was not told about (e.g. through a plain
//! `axum::Router::nest`), which would otherwise bypass the route's state.
//!
//! It wraps the handler itself rather than the route (a `route_layer`): a layer would box the
//! route's service and its future once more on every request (+998 instructions over the
//! same handler mounted plainly, `scripts/bench-instructions`), where the wrapper costs one
//! extension lookup, a comparison, and the copy of itself that axum boxes for each request
//! (+356 in all).

use crate::registry::RouteMeta;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::handler::Handler;
use axum::response::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use waygate_core::MountCheck;

/// How to mount declared routes so that waygate knows where they are.
const ADVICE: &str = "Nest it with `waygate::WaygateRouter::nest` instead of `axum::Router::nest`";

/// A declared route's handler, behind the check of the template it is mounted at.
#[derive(Clone)]
pub(crate) struct Guarded<H> {
    handler: H,
    check: Arc<MountCheck>,
}

impl<H> Guarded<H> {
    /// `handler` of the route `meta`, mounted at `expected` (its full path template).
    pub(crate) fn new(handler: H, meta: &'static RouteMeta, expected: &str) -> Self {
        Self {
            handler,
            check: Arc::new(MountCheck::new(expected, vec![meta], ADVICE)),
        }
    }
}

impl<H, T, S> Handler<T, S> for Guarded<H>
where
    H: Handler<T, S>,
{
    type Future = GuardedFuture<H::Future>;

    fn call(self, request: Request, state: S) -> Self::Future {
        let matched = request.extensions().get::<MatchedPath>();
        match self.check.check(matched.map(MatchedPath::as_str)) {
            Some(refused) => GuardedFuture::Refused {
                response: Some(Box::new(refused.map(Body::from))),
            },
            None => GuardedFuture::Handler {
                future: self.handler.call(request, state),
            },
        }
    }
}

pin_project! {
    /// The response of a [`Guarded`] handler: the handler's, or the refusal of a request
    /// that reached it under an unknown template (boxed: the future stays the size of the
    /// handler's, which axum boxes as a rule, and is cheap to move).
    #[project = GuardedProj]
    pub(crate) enum GuardedFuture<F> {
        Handler { #[pin] future: F },
        Refused { response: Option<Box<Response>> },
    }
}

impl<F: Future<Output = Response>> Future for GuardedFuture<F> {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            GuardedProj::Handler { future } => future.poll(cx),
            GuardedProj::Refused { response } => Poll::Ready(
                *response
                    .take()
                    .expect("GuardedFuture polled after completion"),
            ),
        }
    }
}
