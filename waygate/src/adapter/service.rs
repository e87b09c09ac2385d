use super::future::ResponseFuture;
use super::head::AxumHead;
use super::layer::{LayerConfig, WaygateLayer};
use super::refuse::{respond, RefusalResponse};
use axum::extract::MatchedPath;
use axum::response::Response;
use http::Request;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use tower_service::Service;
use waygate_core::{Decision, LimitsCounted, RouteSlot, SlotAnswer};

/// The middleware [`WaygateLayer`] wraps services in.
///
/// Per request to a route with nothing to enforce: its [`RouteSlot`] (the template compared
/// with the one it learnt, the engine's generation with the one it learnt at), the route's
/// flag for a route behind one, and the count. Any other request: the thread's copy of the
/// snapshot ([`Engine::thread_snapshot`](crate::Engine::thread_snapshot)), one lookup by
/// path template, and a clock read only for routes with a maintenance window. Nothing is
/// allocated for a request that passes, but for the first to each route (its slot).
#[derive(Debug)]
pub struct Waygate<S> {
    inner: S,
    route: RouteCell,
}

/// The layer's configuration, and the slot of the route a service wraps.
#[derive(Debug)]
struct RouteLayer {
    layer: WaygateLayer,
    slot: RouteSlot,
}

/// Where a service finds its [`RouteLayer`]: the clones axum makes of a route's service (one
/// per request) share the one made when the service was first cloned. It is not made when
/// the layer is applied: axum applies layers again on every connection to a router whose
/// handlers it has not turned into services yet, and a slot for every route of every
/// connection would cost more than the slots save.
#[derive(Debug)]
enum RouteCell {
    Unmade {
        layer: WaygateLayer,
        made: OnceLock<Arc<RouteLayer>>,
    },
    Made(Arc<RouteLayer>),
}

impl RouteCell {
    /// The route's layer and slot.
    #[inline(always)]
    fn get(&self) -> &Arc<RouteLayer> {
        match self {
            Self::Made(route) => route,
            Self::Unmade { layer, made } => Self::make(layer, made),
        }
    }

    /// Once per service the layer made, when it is first cloned.
    #[cold]
    #[inline(never)]
    fn make<'a>(layer: &WaygateLayer, made: &'a OnceLock<Arc<RouteLayer>>) -> &'a Arc<RouteLayer> {
        made.get_or_init(|| {
            Arc::new(RouteLayer {
                layer: layer.clone(),
                slot: RouteSlot::new(),
            })
        })
    }
}

impl<S> Waygate<S> {
    /// Wraps `inner`, enforcing the state of `layer`'s engine.
    pub fn new(inner: S, layer: WaygateLayer) -> Self {
        Self {
            inner,
            route: RouteCell::Unmade {
                layer,
                made: OnceLock::new(),
            },
        }
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

impl<S: Clone> Clone for Waygate<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            route: RouteCell::Made(Arc::clone(self.route.get())),
        }
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

    // The shared-count future yields the response future it settles into, on purpose: the
    // response future then polls that in place (see `ResponseFuture::counting`).
    #[allow(clippy::async_yields_async)]
    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = &**self.route.get();
        let config = &*route.layer.shared;
        let engine = &config.engine;
        let matched = template(&request);
        // The common case, answered by the route's slot: the inner future, built where it
        // is returned.
        match route.slot.serve(engine, request.method(), matched) {
            SlotAnswer::Served => return ResponseFuture::plain(self.inner.call(request)),
            SlotAnswer::Gated(gate) => {
                if gate.admits(engine, &AxumHead::of_request(&request)) {
                    return ResponseFuture::plain(self.inner.call(request));
                }
                return flag_off(config, &mut self.inner, request);
            }
            SlotAnswer::Decide => {}
        }
        // Requests under the admin path pass untouched: never decided, counted or
        // registered as routes.
        if config.skip.skips(request.uri().path()) {
            return ResponseFuture::plain(self.inner.call(request));
        }
        let snapshot = engine.thread_snapshot();
        let decision = engine.decide(&snapshot, &AxumHead::of_request(&request), matched);
        if matches!(&decision, Decision::Serve(serve) if serve.is_plain()) {
            route
                .slot
                .learn(&snapshot, &config.skip, request.method(), matched);
            return ResponseFuture::plain(self.inner.call(request));
        }
        if let Decision::CountShared = decision {
            // The count is a round trip: the request waits for it in the response future,
            // with the service that `poll_ready` readied (its clone stays).
            let snapshot = Arc::clone(&snapshot);
            let clone = self.inner.clone();
            let mut service = std::mem::replace(&mut self.inner, clone);
            let config = Arc::clone(&route.layer.shared);
            return ResponseFuture::counting(Box::pin(async move {
                let engine = &config.engine;
                let head = AxumHead::of_request(&request);
                let decision = engine
                    .decide_shared(&snapshot, &head, template(&request))
                    .await;
                settle(&config, &mut service, request, decision)
            }));
        }
        settle(config, &mut self.inner, request, decision)
    }
}

/// The route template axum matched.
fn template<B>(request: &Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
}

/// Where every decision ends, made at once or after the shared counters: the inner
/// service's future (with the headers to add), or the refusal's response.
#[inline(always)]
fn settle<S, B>(
    config: &LayerConfig,
    service: &mut S,
    request: Request<B>,
    decision: Decision<'_>,
) -> ResponseFuture<S::Future>
where
    S: Service<Request<B>, Response = Response>,
{
    match decision {
        // Nothing to add: the inner future, polled as is.
        Decision::Serve(serve) if serve.is_plain() => ResponseFuture::plain(service.call(request)),
        Decision::Serve(serve) => {
            let request = match serve.counted {
                // A `Gate` in the handler must not count the request again.
                true => counted(request),
                false => request,
            };
            ResponseFuture::served(
                service.call(request),
                serve.deprecation.cloned(),
                serve.limits,
            )
        }
        Decision::Refuse(refusal) => {
            let head = AxumHead::of_request(&request);
            match respond(&config.engine, &refusal, &head, Some(&config.responses)) {
                RefusalResponse::Ready(response) => ResponseFuture::refused(response),
                RefusalResponse::Pending(future) => ResponseFuture::factory(future),
            }
        }
        // Only `decide` asks for the shared count, and `call` awaits it: serve as counted.
        Decision::CountShared => ResponseFuture::plain(service.call(counted(request))),
    }
}

/// The refusal of a request the route's slot found its flag off for (out of line: the
/// slot's common case is a served request).
#[inline(never)]
fn flag_off<S, B>(
    config: &LayerConfig,
    service: &mut S,
    request: Request<B>,
) -> ResponseFuture<S::Future>
where
    S: Service<Request<B>, Response = Response>,
{
    let engine = &config.engine;
    let snapshot = engine.thread_snapshot();
    let head = AxumHead::of_request(&request);
    let decision = engine.decide_flag_off(&snapshot, &head, template(&request));
    settle(config, service, request, decision)
}

/// The request, marked as counted by the layer's rate limits.
fn counted<B>(mut request: Request<B>) -> Request<B> {
    request.extensions_mut().insert(LimitsCounted);
    request
}
