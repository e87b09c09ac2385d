use crate::future::ResponseFuture;
use crate::head::{method, ActixHead};
use crate::middleware::Config;
use crate::pattern::PatternCache;
use crate::refuse::{respond, RefusalResponse};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;
use waygate_core::{Decision, LimitsCounted, RouteSlot, SlotAnswer, Snapshot};

/// The service [`Waygate`](crate::Waygate) wraps an app's in.
///
/// Per request: the route template by path (a hash lookup once the worker has seen the
/// path, else the snapshot's path matcher, else actix-web's `HttpRequest::match_pattern`).
/// For a path the worker has seen, the template's [`RouteSlot`] answers once a decision
/// taught it (as the axum layer's). Otherwise: the thread's copy of the snapshot
/// (`Engine::thread_snapshot`), one hash lookup by template, and a clock read only for
/// routes with a maintenance window.
pub struct WaygateService<S> {
    service: Rc<S>,
    shared: Arc<Config>,
    templates: PatternCache,
}

impl<S> WaygateService<S> {
    pub(crate) fn new(service: Rc<S>, shared: Arc<Config>) -> Self {
        Self {
            service,
            shared,
            templates: PatternCache::default(),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.service
    }
}

impl<S> fmt::Debug for WaygateService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaygateService")
            .field("config", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for WaygateService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let config = &*self.shared;
        // Requests under the admin path pass untouched: never decided, counted or
        // registered as routes (as the axum layer: the policy is the core's `SkipPaths`).
        let path = request.path();
        if config.skip.skips(path) {
            return ResponseFuture::plain(self.service.call(request));
        }
        let engine = &config.engine;
        match self.templates.remembered(path) {
            Some(Some(seen)) => {
                // The common case, answered by the template's slot: the inner future.
                let method = method(request.method());
                match seen.slot.serve(engine, &method, Some(seen.template())) {
                    SlotAnswer::Served => return ResponseFuture::plain(self.service.call(request)),
                    SlotAnswer::Gated(gate) => {
                        if gate.admits(engine, &ActixHead::new(request.request())) {
                            return ResponseFuture::plain(self.service.call(request));
                        }
                        return self.flag_off(request, &seen);
                    }
                    SlotAnswer::Decide => {}
                }
                let slot = Some(&seen.slot);
                self.enforce(
                    request,
                    &engine.thread_snapshot(),
                    Some(seen.template()),
                    slot,
                )
            }
            Some(None) => self.enforce(request, &engine.thread_snapshot(), None::<&str>, None),
            None => {
                let snapshot = engine.thread_snapshot();
                let template = self
                    .templates
                    .unseen(engine, &snapshot, request.request(), path);
                self.enforce(request, &snapshot, template, None)
            }
        }
    }
}

impl<S> WaygateService<S> {
    /// Decides `request`, whose route template is `template`, and settles the decision;
    /// `slot`, the template's, learns from a decision to serve the request as it came.
    #[inline(always)]
    fn enforce<B, T>(
        &self,
        request: ServiceRequest,
        snapshot: &Arc<Snapshot>,
        template: Option<T>,
        slot: Option<&RouteSlot>,
    ) -> ResponseFuture<S::Future, B>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
        B: MessageBody + 'static,
        T: Deref<Target = str>,
    {
        let config = &*self.shared;
        let decision = config.engine.decide(
            snapshot,
            &ActixHead::new(request.request()),
            template.as_deref(),
        );
        if matches!(&decision, Decision::Serve(serve) if serve.is_plain()) {
            if let Some(slot) = slot {
                let method = method(request.method());
                slot.learn(snapshot, &config.skip, &method, template.as_deref());
            }
            return ResponseFuture::plain(self.service.call(request));
        }
        if let Decision::CountShared = decision {
            // The count is a round trip: the request waits for it in the response future.
            let template: Option<Rc<str>> = template.map(|template| Rc::from(&*template));
            let snapshot = Arc::clone(snapshot);
            let service = Rc::clone(&self.service);
            let config = Arc::clone(&self.shared);
            return ResponseFuture::boxed(Box::pin(async move {
                let decision = {
                    let head = ActixHead::new(request.request());
                    let template = template.as_deref();
                    config
                        .engine
                        .decide_shared(&snapshot, &head, template)
                        .await
                };
                settle(&*service, &config, request, decision).await
            }));
        }
        settle(&*self.service, config, request, decision)
    }
}

impl<S> WaygateService<S> {
    /// The refusal of a request to `template` whose route's flag the template's slot found
    /// off (out of line: the slot's common case is a served request).
    #[inline(never)]
    fn flag_off<B>(&self, request: ServiceRequest, template: &str) -> ResponseFuture<S::Future, B>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
        B: MessageBody + 'static,
    {
        let config = &*self.shared;
        let snapshot = config.engine.thread_snapshot();
        let decision = {
            let head = ActixHead::new(request.request());
            config
                .engine
                .decide_flag_off(&snapshot, &head, Some(template))
        };
        settle(&*self.service, config, request, decision)
    }
}

/// Where every decision ends, made at once or after the shared counters: the inner
/// service's response (with the headers to add), or the refusal's response.
fn settle<S, B>(
    service: &S,
    config: &Config,
    request: ServiceRequest,
    decision: Decision<'_>,
) -> ResponseFuture<S::Future, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    match decision {
        // Nothing to add: the inner future, polled as is.
        Decision::Serve(serve) if serve.is_plain() => ResponseFuture::plain(service.call(request)),
        Decision::Serve(serve) => {
            if serve.counted {
                // A `Gate` in the handler must not count the request again.
                request.extensions_mut().insert(LimitsCounted);
            }
            let deprecated = serve.deprecation.cloned();
            ResponseFuture::served(service.call(request), deprecated, serve.limits)
        }
        Decision::Refuse(refusal) => {
            let refused = respond(
                &config.engine,
                &refusal,
                request.request(),
                Some(&config.responses),
            );
            let (request, _payload) = request.into_parts();
            match refused {
                RefusalResponse::Ready(response) => ResponseFuture::ready(
                    ServiceResponse::new(request, response).map_into_right_body(),
                ),
                RefusalResponse::Pending(future) => ResponseFuture::factory(future, request),
            }
        }
        // Only `decide` asks for the shared count, and `call` awaits it: serve as counted.
        Decision::CountShared => {
            request.extensions_mut().insert(LimitsCounted);
            ResponseFuture::plain(service.call(request))
        }
    }
}
