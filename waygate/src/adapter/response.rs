//! What a blocked request gets: the built-in JSON bodies (the Python original's, field for
//! field), and the user's `response = ..` factories.

use super::head::AxumHead;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method};
use std::future::Future;
use std::pin::Pin;
pub use waygate_core::BlockKind;
use waygate_core::{builtin_blocked_response, Block, Engine, Refusal, RequestHead};

/// A blocked request, handed to a `response = ..` factory.
///
/// Factories are plain functions or closures, sync or async, that take a `Blocked` and return
/// anything that implements [`IntoResponse`]:
///
/// ```
/// use axum::response::Html;
/// use waygate::Blocked;
///
/// fn maintenance_page(blocked: Blocked) -> Html<String> {
///     Html(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason))
/// }
///
/// async fn from_template(blocked: Blocked) -> (http::StatusCode, String) {
///     (http::StatusCode::SERVICE_UNAVAILABLE, format!("unavailable: {}", blocked.reason))
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
    /// The request headers (for content negotiation).
    pub headers: HeaderMap,
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
        request: &AxumHead<'_>,
    ) -> Self {
        Self {
            kind: block.kind,
            reason: block.reason.to_owned(),
            path: request.uri().path().to_owned(),
            key: block.rule.map(|rule| rule.key().to_owned()),
            method: request.method().clone(),
            headers: request.headers().clone(),
            retry_after: block.retry_after,
            current_env: engine.current_env().to_owned(),
            allowed_envs: block.allowed_envs.to_vec(),
            retry_after_seconds: refusal.retry_after_seconds(),
        }
    }

    /// The response waygate sends when no factory is configured.
    pub fn default_response(&self) -> Response {
        let retry_after = self.retry_after.zip(self.retry_after_seconds);
        builtin_blocked_response(self.kind, &self.reason, &self.path, retry_after).map(Body::from)
    }
}

/// A boxed response future, as factories produce.
pub type BoxResponseFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// A type-erased `response = ..` factory for blocked requests.
pub type ResponseFn = fn(Blocked) -> BoxResponseFuture;

/// The registry's wrapper around a route's [`ResponseFn`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct RouteResponse(pub ResponseFn);

/// What a response factory may return: anything that implements
/// [`IntoResponse`] (a sync factory) or a future of it (an async factory). The marker `M`
/// tells the two apart; it is inferred.
pub trait IntoFactoryResponse<M>: Send + 'static {
    /// The response, boxed.
    fn into_future(self) -> BoxResponseFuture;
}

#[doc(hidden)]
#[derive(Debug)]
pub enum SyncFactory {}

#[doc(hidden)]
#[derive(Debug)]
pub enum AsyncFactory {}

impl<R> IntoFactoryResponse<SyncFactory> for R
where
    R: IntoResponse + Send + 'static,
{
    fn into_future(self) -> BoxResponseFuture {
        let response = self.into_response();
        Box::pin(std::future::ready(response))
    }
}

impl<F> IntoFactoryResponse<AsyncFactory> for F
where
    F: Future + Send + 'static,
    F::Output: IntoResponse,
{
    fn into_future(self) -> BoxResponseFuture {
        Box::pin(async move { self.await.into_response() })
    }
}

/// Calls a user factory, sync or async, and boxes what it returns.
#[doc(hidden)]
pub fn call_factory<A, F, R, M>(factory: F, arg: A) -> BoxResponseFuture
where
    F: Fn(A) -> R,
    R: IntoFactoryResponse<M>,
{
    factory(arg).into_future()
}

/// A request refused by a rate limit, handed to a `#[rate_limit(response = ..)]` factory
/// (or a [`Responses::rate_limited`](crate::Responses::rate_limited) default).
///
/// ```
/// use axum::{http::StatusCode, response::IntoResponse, Json};
/// use waygate::RateLimited;
///
/// fn my_429(limited: RateLimited) -> impl IntoResponse {
///     let retry = limited.retry_after_seconds.to_string();
///     (
///         StatusCode::TOO_MANY_REQUESTS,
///         [("retry-after", retry)],
///         Json(serde_json::json!({"ok": false, "retry_after": limited.retry_after_seconds})),
///     )
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
    /// The request headers.
    pub headers: HeaderMap,
}

impl RateLimited {
    pub(crate) fn new(limited: &waygate_core::LimitExceeded, request: &AxumHead<'_>) -> Self {
        Self {
            limit: limited.limit.clone(),
            retry_after_seconds: limited.retry_after_seconds,
            reset_at: limited.reset_at,
            path: request.uri().path().to_owned(),
            method: request.method().clone(),
            headers: request.headers().clone(),
        }
    }
}

/// The registry's wrapper around a route's `429` factory.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct RateLimitResponse(pub fn(RateLimited) -> BoxResponseFuture);
