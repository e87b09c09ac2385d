//! What a refused request gets from the user: the `response = ..` factories of the routes, and
//! the [`Responses`](crate::Responses) defaults of the middleware.

use actix_web::body::BoxBody;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, Responder};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
pub use waygate_core::BlockKind;
use waygate_core::{builtin_blocked_response, Block, Engine, Refusal};

/// A blocked request, handed to a `response = ..` factory.
///
/// Factories are plain functions or closures, sync or async, that take a `Blocked` and return
/// anything that implements actix-web's [`Responder`]:
///
/// ```
/// use actix_web::{http::StatusCode, HttpResponse};
/// use waygate_actix::Blocked;
///
/// fn maintenance_page(blocked: Blocked) -> HttpResponse {
///     HttpResponse::ServiceUnavailable()
///         .content_type("text/html")
///         .body(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason))
/// }
///
/// async fn from_template(blocked: Blocked) -> (String, StatusCode) {
///     (format!("unavailable: {}", blocked.reason), StatusCode::SERVICE_UNAVAILABLE)
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Blocked {
    /// Why the request was blocked.
    pub kind: BlockKind,
    /// The reason recorded with the route's state (or global maintenance).
    pub reason: String,
    /// The concrete request path (`/items/42`, not the template).
    pub path: String,
    /// The route key, when the request matched a known route.
    pub key: Option<String>,
    /// The request method.
    pub method: Method,
    /// The request (its headers for content negotiation, `url_for`, app data).
    pub request: HttpRequest,
    /// When a maintenance window ends.
    pub retry_after: Option<DateTime<Utc>>,
    /// The engine's environment.
    pub current_env: String,
    /// The environments an env-gated route is served in.
    pub allowed_envs: Vec<String>,
    /// Whole seconds until `retry_after`, by the engine's clock when the request was refused.
    retry_after_seconds: Option<u64>,
}

impl Blocked {
    pub(crate) fn new(
        engine: &Engine,
        refusal: &Refusal<'_>,
        block: &Block<'_>,
        request: &HttpRequest,
    ) -> Self {
        Self {
            kind: block.kind,
            reason: block.reason.to_owned(),
            path: request.path().to_owned(),
            key: block.rule.map(|rule| rule.key().to_owned()),
            method: request.method().clone(),
            request: request.clone(),
            retry_after: block.retry_after,
            current_env: engine.current_env().to_owned(),
            allowed_envs: block.allowed_envs.to_vec(),
            retry_after_seconds: refusal.retry_after_seconds(),
        }
    }

    /// The response waygate sends when no factory is configured.
    pub fn default_response(&self) -> HttpResponse {
        let retry_after = self.retry_after.zip(self.retry_after_seconds);
        crate::convert::response(builtin_blocked_response(
            self.kind,
            &self.reason,
            &self.path,
            retry_after,
        ))
    }
}

/// A request refused by a rate limit, handed to a `#[rate_limit(response = ..)]` factory (or
/// a [`Responses::rate_limited`](crate::Responses::rate_limited) default).
///
/// ```
/// use actix_web::HttpResponse;
/// use waygate_actix::RateLimited;
///
/// fn my_429(limited: RateLimited) -> HttpResponse {
///     HttpResponse::TooManyRequests()
///         .insert_header(("retry-after", limited.retry_after_seconds))
///         .json(serde_json::json!({"ok": false, "retry_after": limited.retry_after_seconds}))
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RateLimited {
    /// The limit that was exceeded, as written (`"10/minute"`).
    pub limit: String,
    /// Whole seconds until a request may succeed again.
    pub retry_after_seconds: u64,
    /// When the window resets.
    pub reset_at: DateTime<Utc>,
    /// The concrete request path.
    pub path: String,
    /// The request method.
    pub method: Method,
    /// The request.
    pub request: HttpRequest,
}

impl RateLimited {
    pub(crate) fn new(limited: &waygate_core::LimitExceeded, request: &HttpRequest) -> Self {
        Self {
            limit: limited.limit.clone(),
            retry_after_seconds: limited.retry_after_seconds,
            reset_at: limited.reset_at,
            path: request.path().to_owned(),
            method: request.method().clone(),
            request: request.clone(),
        }
    }
}

/// A boxed response future, as factories produce. Not `Send`: actix-web serves each request
/// on one worker thread, and its responses are not `Send` either.
pub type BoxResponseFuture = Pin<Box<dyn Future<Output = HttpResponse> + 'static>>;

/// A type-erased `response = ..` factory for blocked requests.
pub type ResponseFn = fn(Blocked) -> BoxResponseFuture;

/// The registry's wrapper around a route's [`ResponseFn`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct RouteResponse(pub ResponseFn);

/// The registry's wrapper around a route's `429` factory.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct RateLimitResponse(pub fn(RateLimited) -> BoxResponseFuture);

/// What a response factory may return: anything that implements [`Responder`] (a sync
/// factory) or a future of it (an async factory). The marker `M` tells the two apart; it is
/// inferred.
pub trait IntoFactoryResponse<M>: 'static {
    /// The response to `request`, boxed.
    fn into_future(self, request: HttpRequest) -> BoxResponseFuture;
}

#[doc(hidden)]
#[derive(Debug)]
pub enum SyncFactory {}

#[doc(hidden)]
#[derive(Debug)]
pub enum AsyncFactory {}

impl<R> IntoFactoryResponse<SyncFactory> for R
where
    R: Responder + 'static,
{
    fn into_future(self, request: HttpRequest) -> BoxResponseFuture {
        let response = self.respond_to(&request).map_into_boxed_body();
        Box::pin(std::future::ready(response))
    }
}

impl<F> IntoFactoryResponse<AsyncFactory> for F
where
    F: Future + 'static,
    F::Output: Responder,
{
    fn into_future(self, request: HttpRequest) -> BoxResponseFuture {
        Box::pin(async move {
            let response: HttpResponse<BoxBody> =
                self.await.respond_to(&request).map_into_boxed_body();
            response
        })
    }
}

/// What a factory is handed: it carries the request its response answers.
#[doc(hidden)]
pub trait FactoryRequest {
    /// The request the response answers.
    fn http_request(&self) -> &HttpRequest;
}

impl FactoryRequest for Blocked {
    fn http_request(&self) -> &HttpRequest {
        &self.request
    }
}

impl FactoryRequest for RateLimited {
    fn http_request(&self) -> &HttpRequest {
        &self.request
    }
}

/// Calls a user factory, sync or async, and boxes what it returns.
#[doc(hidden)]
pub fn call_factory<A, F, R, M>(factory: F, arg: A) -> BoxResponseFuture
where
    A: FactoryRequest,
    F: Fn(A) -> R,
    R: IntoFactoryResponse<M>,
{
    let request = arg.http_request().clone();
    factory(arg).into_future(request)
}
