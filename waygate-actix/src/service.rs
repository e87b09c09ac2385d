use crate::future::{add_headers, ResponseFuture};
use crate::head::ActixHead;
use crate::middleware::Config;
use crate::pattern::PatternCache;
use crate::refuse::{respond, Refused};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use arc_swap::Guard;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use waygate_core::{Decision, LimitsCounted, Snapshot};

/// The service [`Waygate`](crate::Waygate) wraps an app's in.
///
/// Per request: the route template by path (a hash lookup, once the worker has seen the
/// path; the first time, actix-web's `HttpRequest::match_pattern`), one snapshot load and
/// one hash lookup by template, and a clock read only for routes with a maintenance window.
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
        let engine = &config.engine;
        let template = self.templates.template(request.request());
        let snapshot = engine.snapshot();
        let decision = engine.decide(
            &snapshot,
            &ActixHead::new(request.request()),
            template.as_deref(),
        );
        // A request with nothing to add is served before anything else is looked at;
        // everything else under the admin path passes untouched (waygate never registers
        // those routes, so only global maintenance or an unknown route lead here).
        let plain = matches!(&decision, Decision::Serve(serve) if serve.is_plain());
        if plain || config.skips(request.path()) {
            return ResponseFuture::plain(self.service.call(request));
        }
        match decision {
            Decision::Serve(serve) => {
                let deprecated = serve.deprecation.cloned();
                if serve.counted {
                    // A `Gate` in the handler must not count the request again.
                    request.extensions_mut().insert(LimitsCounted);
                }
                ResponseFuture::served(self.service.call(request), deprecated, serve.limits)
            }
            Decision::Refuse(refusal) => {
                let refused = respond(engine, &refusal, request.request(), Some(&config.responses));
                let (request, _payload) = request.into_parts();
                match refused {
                    Refused::Ready(response) => ResponseFuture::ready(
                        ServiceResponse::new(request, response).map_into_right_body(),
                    ),
                    Refused::Pending(future) => ResponseFuture::factory(future, request),
                }
            }
            Decision::CountShared => {
                // The count is a round trip: the request waits for it in the response future.
                let snapshot = Guard::into_inner(snapshot);
                ResponseFuture::boxed(Box::pin(count_shared(
                    Rc::clone(&self.service),
                    Arc::clone(&self.shared),
                    snapshot,
                    template,
                    request,
                )))
            }
        }
    }
}

/// A request whose rate limits count in the shared counters: decided after the round trip,
/// then served or refused.
async fn count_shared<S, B>(
    service: Rc<S>,
    config: Arc<Config>,
    snapshot: Arc<Snapshot>,
    template: Option<Rc<str>>,
    request: ServiceRequest,
) -> Result<ServiceResponse<EitherBody<B>>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    let engine = &config.engine;
    let decision = {
        let head = ActixHead::new(request.request());
        engine
            .decide_shared(&snapshot, &head, template.as_deref())
            .await
    };
    let (deprecated, limits) = match decision {
        Decision::Refuse(refusal) => {
            let refused = respond(engine, &refusal, request.request(), Some(&config.responses));
            let (request, _payload) = request.into_parts();
            let response = refused.into_response().await;
            return Ok(ServiceResponse::new(request, response).map_into_right_body());
        }
        Decision::Serve(serve) => (serve.deprecation.cloned(), serve.limits),
        // `decide_shared` never asks again; serve as counted.
        Decision::CountShared => (None, None),
    };
    request.extensions_mut().insert(LimitsCounted);
    let mut response = service.call(request).await?;
    add_headers(
        response.headers_mut(),
        deprecated.as_deref(),
        limits.as_ref(),
    );
    Ok(response.map_into_left_body())
}
