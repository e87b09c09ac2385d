//! Turning the core's [`Refusal`] into an actix-web response: the route's `response = ..`
//! factory, else the middleware's default for that kind of refusal, else the built-in JSON.

use crate::middleware::Responses;
use crate::response::{Blocked, BoxResponseFuture, RateLimitResponse, RateLimited, RouteResponse};
use actix_web::{HttpRequest, HttpResponse};
use waygate_core::{Engine, Refusal};

/// A response ready now, or one a factory is still producing.
pub(crate) enum Refused {
    Ready(HttpResponse),
    Pending(BoxResponseFuture),
}

impl Refused {
    pub(crate) async fn into_response(self) -> HttpResponse {
        match self {
            Self::Ready(response) => response,
            Self::Pending(future) => future.await,
        }
    }
}

/// The response to `refusal` of `request`; `defaults` are the middleware's (a `Gate` has
/// none).
pub(crate) fn respond(
    engine: &Engine,
    refusal: &Refusal<'_>,
    request: &HttpRequest,
    defaults: Option<&Responses>,
) -> Refused {
    let factory = refusal.route_factory();
    match refusal {
        Refusal::Blocked { block, .. } => {
            let blocked = || Blocked::new(engine, block, request);
            if let Some(factory) = factory.and_then(|f| f.downcast_ref::<RouteResponse>()) {
                return Refused::Pending((factory.0)(blocked()));
            }
            if let Some(factory) = defaults.and_then(|d| d.get(block.kind)) {
                return Refused::Pending(factory(blocked()));
            }
        }
        Refusal::RateLimited(limited) => {
            let limited = || RateLimited::new(limited, request);
            if let Some(factory) = factory.and_then(|f| f.downcast_ref::<RateLimitResponse>()) {
                return Refused::Pending((factory.0)(limited()));
            }
            if let Some(factory) = defaults.and_then(Responses::rate_limited_factory) {
                return Refused::Pending(factory(limited()));
            }
        }
        // A refusal this adapter does not know gets the built-in response.
        _ => {}
    }
    Refused::Ready(crate::convert::response(
        refusal.builtin_response(request.path()),
    ))
}
