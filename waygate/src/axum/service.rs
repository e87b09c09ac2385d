use super::future::{Counted, ResponseFuture};
use super::head::AxumHead;
use super::layer::WaygateLayer;
use super::refuse::{respond, Refused};
use arc_swap::Guard;
use axum::extract::MatchedPath;
use axum::response::Response;
use http::Request;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;
use waygate_core::{Decision, LimitsCounted};

/// The middleware [`WaygateLayer`] wraps services in.
///
/// Per request: one snapshot load, one hash lookup by path template, and a clock read only
/// for routes with a maintenance window. Nothing is allocated for a request that passes.
#[derive(Clone, Debug)]
pub struct Waygate<S> {
    inner: S,
    layer: WaygateLayer,
}

impl<S> Waygate<S> {
    /// Wraps `inner`, enforcing the state of `layer`'s engine.
    pub fn new(inner: S, layer: WaygateLayer) -> Self {
        Self { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for Waygate<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let config = &*self.layer.shared;
        let engine = &config.engine;
        let template = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        // Requests under the admin path pass untouched, and are never registered as routes.
        if config.skips(request.uri().path()) {
            return ResponseFuture::inner(self.inner.call(request));
        }
        let snapshot = engine.snapshot();
        match engine.decide(&snapshot, &AxumHead::of_request(&request), template) {
            // Nothing to add: the inner future, polled as is.
            Decision::Serve(serve) if serve.is_plain() => {
                ResponseFuture::inner(self.inner.call(request))
            }
            Decision::Serve(serve) => {
                let deprecated = serve.deprecation.cloned();
                let request = match serve.counted {
                    // A `Gate` in the handler must not count the request again.
                    true => counted(request),
                    false => request,
                };
                ResponseFuture::served(self.inner.call(request), deprecated, serve.limits)
            }
            Decision::Refuse(refusal) => {
                let head = AxumHead::of_request(&request);
                match respond(engine, &refusal, &head, Some(&config.responses)) {
                    Refused::Ready(response) => ResponseFuture::ready(response),
                    Refused::Pending(future) => ResponseFuture::factory(future),
                }
            }
            Decision::CountShared => {
                // The count is a round trip: the request waits for it in the response
                // future, with the service that `poll_ready` readied (its clone stays).
                let snapshot = Guard::into_inner(snapshot);
                let clone = self.inner.clone();
                let mut service = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.layer.shared);
                ResponseFuture::counting(Box::pin(async move {
                    let engine = &config.engine;
                    let template = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map(MatchedPath::as_str);
                    let head = AxumHead::of_request(&request);
                    match engine.decide_shared(&snapshot, &head, template).await {
                        Decision::Refuse(refusal) => {
                            match respond(engine, &refusal, &head, Some(&config.responses)) {
                                Refused::Ready(response) => Counted::Refused(response),
                                Refused::Pending(future) => Counted::Factory(future),
                            }
                        }
                        Decision::Serve(serve) => {
                            let deprecated = serve.deprecation.cloned();
                            let limits = serve.limits;
                            Counted::Served {
                                future: service.call(counted(request)),
                                deprecated,
                                limits,
                            }
                        }
                        // `decide_shared` never asks again; serve as counted.
                        Decision::CountShared => Counted::Served {
                            future: service.call(counted(request)),
                            deprecated: None,
                            limits: None,
                        },
                    }
                }))
            }
        }
    }
}

/// The request, marked as counted by the layer's rate limits.
fn counted<B>(mut request: Request<B>) -> Request<B> {
    request.extensions_mut().insert(LimitsCounted);
    request
}
