use super::head::AxumHead;
use super::refuse::respond;
use arc_swap::Guard;
use axum::extract::{FromRef, FromRequestParts, MatchedPath};
use axum::response::{IntoResponseParts, Response, ResponseParts};
use http::request::Parts;
use std::convert::Infallible;
use waygate_core::{Decision, Engine, ServedHeaders};

/// Enforces the handler's route state without [`WaygateLayer`](super::WaygateLayer): for
/// apps (or single routes) that run without the middleware. A blocked request is refused
/// with the same response the layer would send (the route's `response = ..` factory, else
/// the built-in JSON).
///
/// The engine comes from the router state (`Engine: FromRef<S>`). Return the gate from the
/// handler to add the `Deprecation`/`Sunset`/`Link` headers of a deprecated route and the
/// `X-RateLimit-*` headers of a rate-limited one. The gate applies the route's rate limit
/// with the same counters as the layer.
///
/// ```
/// use axum::{routing::get, Router};
/// use waygate::prelude::*;
///
/// #[route(GET, "/v1/users")]
/// #[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/v2/users")]
/// async fn v1_users(gate: Gate) -> (Gate, &'static str) {
///     (gate, "[]")
/// }
///
/// let engine = Engine::new();
/// let app: Router = Router::new().merge(routes![v1_users]).with_state(engine);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Gate(ServedHeaders);

impl Gate {
    /// Whether the route is deprecated (its response should carry the deprecation headers).
    pub fn is_deprecated(&self) -> bool {
        self.0.is_deprecated()
    }
}

impl<S> FromRequestParts<S> for Gate
where
    Engine: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let engine = Engine::from_ref(state);
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let head = AxumHead::of_parts(parts);
        let refused = {
            let snapshot = engine.thread_snapshot();
            match engine.decide(&snapshot, &head, template) {
                Decision::Serve(serve) => return Ok(Self(serve.into())),
                Decision::Refuse(refusal) => Some(respond(&engine, &refusal, &head, None)),
                // Counted below, once the thread's snapshot (not `Send`) is released.
                Decision::CountShared => None,
            }
        };
        let refused = match refused {
            Some(refused) => refused,
            None => {
                let snapshot = Guard::into_inner(engine.snapshot());
                match engine.decide_shared(&snapshot, &head, template).await {
                    Decision::Refuse(refusal) => respond(&engine, &refusal, &head, None),
                    decision => return Ok(Self(ServedHeaders::of(decision))),
                }
            }
        };
        Err(refused.into_response().await)
    }
}

impl IntoResponseParts for Gate {
    type Error = Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.0.apply(parts.headers_mut());
        Ok(parts)
    }
}
