//! [`FlagContext`]: the evaluation context of a request, for feature flags.

use super::head::AxumHead;
use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use std::convert::Infallible;
use waygate_core::flags::EvaluationContext;
use waygate_core::Engine;

/// The evaluation context of the request, for [feature flags](crate::flags): the
/// [`EvaluationContext`] the app put in the request's extensions (a middleware that knows
/// the user, after authentication), else the one the engine builds from the request
/// ([`Engine::evaluation_context`]: the authenticated [`Identity`](crate::Identity) as the
/// key, else the client's address).
///
/// The engine comes from the router state (`Engine: FromRef<S>`), as for [`Gate`](crate::Gate).
///
/// ```
/// use axum::{routing::get, Router};
/// use waygate::{Engine, FlagContext};
///
/// async fn checkout(State(engine): State<Engine>, ctx: FlagContext) -> &'static str {
///     match engine.flags().bool("new-checkout", &ctx, false) {
///         true => "the new checkout",
///         false => "the old checkout",
///     }
/// }
/// # use axum::extract::State;
///
/// let app: Router = Router::new()
///     .route("/checkout", get(checkout))
///     .with_state(Engine::new());
/// ```
#[derive(Debug, Clone)]
pub struct FlagContext(pub EvaluationContext);

impl std::ops::Deref for FlagContext {
    type Target = EvaluationContext;

    fn deref(&self) -> &EvaluationContext {
        &self.0
    }
}

impl<S> FromRequestParts<S> for FlagContext
where
    Engine: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        if let Some(ctx) = parts.extensions.get::<EvaluationContext>() {
            return Ok(Self(ctx.clone()));
        }
        let engine = Engine::from_ref(state);
        Ok(Self(engine.evaluation_context(&AxumHead::of_parts(parts))))
    }
}
