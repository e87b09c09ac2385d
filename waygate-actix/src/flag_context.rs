//! [`FlagContext`]: the evaluation context of a request, for feature flags.

use crate::head::ActixHead;
use actix_web::dev::Payload;
use actix_web::error::ErrorInternalServerError;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};
use waygate_core::flags::EvaluationContext;
use waygate_core::Engine;

/// The evaluation context of the request, for [feature flags](crate::flags): the
/// [`EvaluationContext`] the app put in the request's extensions (a middleware that knows
/// the user), else the one the engine builds from the request
/// ([`Engine::evaluation_context`]: the authenticated [`Identity`](crate::Identity) as the
/// key, else the client's address). The engine comes from the app data, as for
/// [`Gate`](crate::Gate).
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use waygate_actix::{Engine, FlagContext};
///
/// async fn checkout(engine: web::Data<Engine>, ctx: FlagContext) -> HttpResponse {
///     let new = engine.flags().bool("new-checkout", &ctx, false);
///     HttpResponse::Ok().body(if new { "the new checkout" } else { "the old checkout" })
/// }
///
/// let app = App::new()
///     .app_data(web::Data::new(Engine::new()))
///     .route("/checkout", web::get().to(checkout));
/// ```
#[derive(Debug, Clone)]
pub struct FlagContext(pub EvaluationContext);

impl std::ops::Deref for FlagContext {
    type Target = EvaluationContext;

    fn deref(&self) -> &EvaluationContext {
        &self.0
    }
}

impl FromRequest for FlagContext {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        if let Some(ctx) = request.extensions().get::<EvaluationContext>() {
            return ready(Ok(Self(ctx.clone())));
        }
        let engine = request.app_data::<Engine>().cloned().or_else(|| {
            request
                .app_data::<web::Data<Engine>>()
                .map(|data| Engine::clone(data))
        });
        ready(match engine {
            Some(engine) => Ok(Self(engine.evaluation_context(&ActixHead::new(request)))),
            None => Err(ErrorInternalServerError(
                "waygate: `FlagContext` needs the engine in the app data: \
                 `App::new().app_data(engine.clone())`",
            )),
        })
    }
}
