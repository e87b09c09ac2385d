use super::future::{Counted, ResponseFuture};
use super::layer::WaygateLayer;
use super::limit::{enforce, enforce_shared, needs_shared, LimitsEnforced};
use super::respond::{refuse, Refusal, RequestView};
use crate::snapshot::{Pass, Verdict};
use arc_swap::Guard;
use axum::extract::MatchedPath;
use axum::response::Response;
use http::Request;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

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
        let snapshot = engine.snapshot();
        let verdict = snapshot.check(request.method(), template, request.uri().path(), || {
            engine.now()
        });
        // A route with nothing to enforce is served before anything else is looked at;
        // everything else under the admin path passes untouched (waygate never registers
        // those routes, so only global maintenance or an unknown route lead here).
        let plain = matches!(&verdict, Verdict::Pass(Pass::Route(rule))
            if rule.deprecation().is_none() && !snapshot.has_limits(rule));
        if plain || config.skips(request.uri().path()) {
            return ResponseFuture::inner(self.inner.call(request));
        }
        match verdict {
            Verdict::Pass(Pass::ForceActive) => ResponseFuture::inner(self.inner.call(request)),
            Verdict::Pass(Pass::Unknown) => {
                if let Some(template) = template {
                    engine.note_unknown_route(request.method(), template);
                }
                ResponseFuture::inner(self.inner.call(request))
            }
            Verdict::Pass(Pass::Route(rule)) => {
                let deprecated = rule.deprecation().is_some().then(|| rule.clone());
                if !snapshot.has_limits(rule) {
                    return ResponseFuture::served(self.inner.call(request), deprecated, None);
                }
                let matched = request.extensions().get::<MatchedPath>().cloned();
                let template = matched.as_ref().map_or("", MatchedPath::as_str);
                let (mut parts, body) = request.into_parts();
                if needs_shared(&snapshot, rule, &parts, template) {
                    // The count is a round trip: the request waits for it in the response
                    // future, with the service that `poll_ready` readied (its clone stays).
                    let rule = Arc::clone(rule);
                    let snapshot = Guard::into_inner(snapshot);
                    let clone = self.inner.clone();
                    let mut service = std::mem::replace(&mut self.inner, clone);
                    let config = Arc::clone(&self.layer.shared);
                    return ResponseFuture::counting(Box::pin(async move {
                        let template = matched.as_ref().map_or("", MatchedPath::as_str);
                        let engine = &config.engine;
                        let counted = enforce_shared(
                            engine,
                            &snapshot,
                            &rule,
                            &parts,
                            template,
                            Some(&config.responses),
                        )
                        .await;
                        match counted {
                            Ok(limits) => {
                                parts.extensions.insert(LimitsEnforced);
                                let request = Request::from_parts(parts, body);
                                Counted::Served {
                                    future: service.call(request),
                                    deprecated,
                                    limits,
                                }
                            }
                            Err(Refusal::Ready(response)) => Counted::Refused(response),
                            Err(Refusal::Pending(future)) => Counted::Factory(future),
                        }
                    }));
                }
                match enforce(
                    engine,
                    &snapshot,
                    rule,
                    &parts,
                    template,
                    Some(&config.responses),
                ) {
                    Ok(limits) => {
                        // A `Gate` in the handler must not count the request again.
                        parts.extensions.insert(LimitsEnforced);
                        let request = Request::from_parts(parts, body);
                        ResponseFuture::served(self.inner.call(request), deprecated, limits)
                    }
                    Err(Refusal::Ready(response)) => ResponseFuture::ready(response),
                    Err(Refusal::Pending(future)) => ResponseFuture::factory(future),
                }
            }
            Verdict::Block(block) => {
                let view = RequestView {
                    method: request.method(),
                    uri: request.uri(),
                    headers: request.headers(),
                };
                match refuse(engine, &block, view, Some(&config.responses)) {
                    Refusal::Ready(response) => ResponseFuture::ready(response),
                    Refusal::Pending(future) => ResponseFuture::factory(future),
                }
            }
        }
    }
}
