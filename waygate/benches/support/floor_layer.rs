//! The least a layer that refuses requests by route template does: read axum's
//! `MatchedPath`, and answer with the inner service's future or a response of its own (so its
//! future wraps the inner one). Its whole decision is one comparison: the one template it
//! refuses, with an empty `503`. Set beside a do-nothing layer and bare axum, it is the floor
//! any such layer stands on, waygate's included.

use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// The layer: wraps each route in [`Floor`], refusing requests to the template it names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FloorLayer(pub(crate) &'static str);

impl<S> Layer<S> for FloorLayer {
    type Service = Floor<S>;

    fn layer(&self, inner: S) -> Floor<S> {
        Floor {
            inner,
            refused: self.0,
        }
    }
}

/// A route behind the floor's one check.
#[derive(Clone, Debug)]
pub(crate) struct Floor<S> {
    inner: S,
    refused: &'static str,
}

impl<S, B> Service<Request<B>> for Floor<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = FloorFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let template = request.extensions().get::<MatchedPath>();
        match template.is_some_and(|t| t.as_str() == self.refused) {
            false => FloorFuture::Inner {
                future: self.inner.call(request),
            },
            true => FloorFuture::Refused {
                response: Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
            },
        }
    }
}

pin_project! {
    /// The inner service's future, or the refusal.
    #[project = FloorProj]
    pub(crate) enum FloorFuture<F> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response> },
    }
}

impl<F, E> Future for FloorFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            FloorProj::Inner { future } => future.poll(cx),
            FloorProj::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
        }
    }
}
