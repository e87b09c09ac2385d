use crate::head::ActixHead;
use crate::pattern::{GateTemplates, Seen, Template};
use crate::refuse::respond;
use crate::template::from_actix;
use actix_web::dev::Payload;
use actix_web::error::{ErrorInternalServerError, InternalError};
use actix_web::http::header::HeaderMap;
use actix_web::{web, Error, FromRequest, HttpRequest, HttpResponse, Responder};
use arc_swap::Guard;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use waygate_core::{Decision, Engine, ServedHeaders, Snapshot};

/// Enforces the handler's route state without the [`Waygate`](crate::Waygate) middleware:
/// for apps (or single routes) that run without it. A blocked request is refused with the
/// same response the middleware would send (the route's `response = ..` factory, else the
/// built-in JSON).
///
/// The engine comes from the app data: `App::app_data(engine.clone())` (or a
/// `web::Data<Engine>`). Respond through the gate ([`Gate::respond`]) to add the
/// `Deprecation`/`Sunset`/`Link` headers of a deprecated route and the `X-RateLimit-*`
/// headers of a rate-limited one. The gate applies the route's rate limit with the same
/// counters as the middleware, and does not count a request the middleware counted.
///
/// ```
/// use actix_web::{App, Responder};
/// use waygate_actix::prelude::*;
///
/// #[route(GET, "/v1/users")]
/// #[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
/// async fn v1_users(gate: Gate) -> impl Responder {
///     gate.respond("[]")
/// }
///
/// let engine = Engine::new();
/// let routes = routes![v1_users];
/// let app = App::new().app_data(engine.clone()).configure(routes.config(&engine));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Gate(ServedHeaders);

impl Gate {
    /// Whether the route is deprecated (its response should carry the deprecation headers).
    pub fn is_deprecated(&self) -> bool {
        self.0.is_deprecated()
    }

    /// `responder`'s response with the route's headers added.
    pub fn respond<R: Responder>(self, responder: R) -> Gated<R> {
        Gated {
            gate: self,
            responder,
        }
    }

    /// Adds the route's headers to a response's headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let served = &self.0;
        crate::future::add_headers(
            headers,
            served.deprecation.as_deref(),
            served.limits.as_ref(),
        );
    }
}

/// The engine in the app data: an `Engine` or a `web::Data<Engine>`.
fn engine_of(request: &HttpRequest) -> Option<Engine> {
    request.app_data::<Engine>().cloned().or_else(|| {
        request
            .app_data::<web::Data<Engine>>()
            .map(|data| Engine::clone(data))
    })
}

/// The template of `request`'s route: through the app's [`GateTemplates`] when its routes
/// were mounted with `routes!` (remembered by path, else the snapshot's path matcher), else
/// actix-web's walk over the app's resources.
fn template_of<'s>(
    engine: &Engine,
    snapshot: &'s Snapshot,
    request: &HttpRequest,
) -> Option<Template<'s>> {
    let Some(GateTemplates(templates)) = request.app_data::<GateTemplates>() else {
        let pattern = request.match_pattern()?;
        return Some(Template::Remembered(Rc::new(Seen::new(&from_actix(
            &pattern,
        )))));
    };
    let path = request.path();
    match templates.remembered(path) {
        Some(template) => template.map(Template::Remembered),
        None => templates.unseen(engine, snapshot, request, path),
    }
}

/// A refusal as the extractor's error: actix-web sends its response as is.
fn refusal_error(response: HttpResponse) -> Error {
    InternalError::from_response("refused by waygate", response).into()
}

impl FromRequest for Gate {
    type Error = Error;
    type Future = GateFuture;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let Some(engine) = engine_of(request) else {
            return GateFuture::Ready(ready(Err(ErrorInternalServerError(
                "waygate: `Gate` needs the engine in the app data: \
                 `App::new().app_data(engine.clone())`",
            ))));
        };
        let (refused, template) = {
            let snapshot = engine.thread_snapshot();
            let template = template_of(&engine, &snapshot, request);
            let head = ActixHead::new(request);
            match engine.decide(&snapshot, &head, template.as_deref()) {
                Decision::Serve(serve) => return GateFuture::Ready(ready(Ok(Self(serve.into())))),
                Decision::Refuse(refusal) => {
                    (Some(respond(&engine, &refusal, request, None)), None)
                }
                // Counted below, in the future.
                Decision::CountShared => (None, template.as_deref().map(str::to_owned)),
            }
        };
        let request = request.clone();
        GateFuture::Boxed(Box::pin(async move {
            let refused = match refused {
                Some(refused) => refused,
                None => {
                    let snapshot = Guard::into_inner(engine.snapshot());
                    let head = ActixHead::new(&request);
                    match engine
                        .decide_shared(&snapshot, &head, template.as_deref())
                        .await
                    {
                        Decision::Refuse(refusal) => respond(&engine, &refusal, &request, None),
                        decision => return Ok(Self(ServedHeaders::of(decision))),
                    }
                }
            };
            Err(refusal_error(refused.into_response().await))
        }))
    }
}

/// The future of the [`Gate`] extractor: ready for a request served as is, boxed for one
/// refused or counted in shared counters.
#[doc(hidden)]
pub enum GateFuture {
    Ready(Ready<Result<Gate, Error>>),
    Boxed(Pin<Box<dyn Future<Output = Result<Gate, Error>>>>),
}

impl std::fmt::Debug for GateFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GateFuture")
    }
}

impl Future for GateFuture {
    type Output = Result<Gate, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Ready(ready) => Pin::new(ready).poll(cx),
            Self::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

/// A response with a [`Gate`]'s headers: what [`Gate::respond`] returns.
#[derive(Debug)]
#[must_use]
pub struct Gated<R> {
    gate: Gate,
    responder: R,
}

impl<R: Responder> Responder for Gated<R> {
    type Body = R::Body;

    fn respond_to(self, request: &HttpRequest) -> HttpResponse<Self::Body> {
        let mut response = self.responder.respond_to(request);
        self.gate.apply(response.headers_mut());
        response
    }
}
