//! Turning the core's [`Refusal`] into an actix-web response: the route's `response = ..`
//! factory, else the middleware's default for that kind of refusal, else the built-in JSON.

use crate::middleware::Responses;
use crate::response::{Blocked, BoxResponseFuture, RateLimitResponse, RateLimited, RouteResponse};
use actix_web::{HttpRequest, HttpResponse};
use waygate_core::{Engine, Refusal, ResponseChoice};

/// A response ready now, or one a factory is still producing.
pub(crate) enum RefusalResponse {
    Ready(HttpResponse),
    Pending(BoxResponseFuture),
}

impl RefusalResponse {
    pub(crate) async fn into_response(self) -> HttpResponse {
        match self {
            Self::Ready(response) => response,
            Self::Pending(future) => future.await,
        }
    }
}

/// The response to `refusal` of `request`, in the core's order (the route's factory, the
/// middleware's default, the built-in JSON); `defaults` are the middleware's (a `Gate` has
/// none).
pub(crate) fn respond(
    engine: &Engine,
    refusal: &Refusal<'_>,
    request: &HttpRequest,
    defaults: Option<&Responses>,
) -> RefusalResponse {
    match refusal.choose::<RouteResponse, RateLimitResponse, _>(defaults.map(|d| &d.0)) {
        ResponseChoice::RouteBlocked(factory, block) => {
            RefusalResponse::Pending((factory.0)(Blocked::new(engine, refusal, block, request)))
        }
        ResponseChoice::DefaultBlocked(factory, block) => {
            RefusalResponse::Pending(factory(Blocked::new(engine, refusal, block, request)))
        }
        ResponseChoice::RouteRateLimited(factory, limited) => {
            RefusalResponse::Pending((factory.0)(RateLimited::new(limited, request)))
        }
        ResponseChoice::DefaultRateLimited(factory, limited) => {
            RefusalResponse::Pending(factory(RateLimited::new(limited, request)))
        }
        ResponseChoice::Builtin => RefusalResponse::Ready(crate::convert::response(
            refusal.builtin_response(request.path()),
        )),
    }
}
