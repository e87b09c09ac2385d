//! Turning the core's [`Refusal`] into an axum response: the route's `response = ..`
//! factory, else the layer's default for that kind of refusal, else the built-in JSON.

use super::head::AxumHead;
use super::layer::Responses;
use super::response::{Blocked, BoxResponseFuture, RateLimitResponse, RateLimited, RouteResponse};
use axum::body::Body;
use axum::response::Response;
use waygate_core::{Engine, Refusal};

/// A response ready now, or one a factory is still producing.
pub(crate) enum Refused {
    Ready(Response),
    Pending(BoxResponseFuture),
}

impl Refused {
    pub(crate) async fn into_response(self) -> Response {
        match self {
            Self::Ready(response) => response,
            Self::Pending(future) => future.await,
        }
    }
}

/// The response to `refusal` of `request`; `defaults` are the layer's (a `Gate` has none).
pub(crate) fn respond(
    engine: &Engine,
    refusal: &Refusal<'_>,
    request: &AxumHead<'_>,
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
    Refused::Ready(builtin(refusal, request.uri().path()))
}

/// The core's built-in response, with an axum body.
fn builtin(refusal: &Refusal<'_>, path: &str) -> Response {
    refusal.builtin_response(path).map(Body::from)
}
