//! What a blocked request gets: the built-in JSON bodies (the Python original's, field for
//! field), and the user's `response = ..` factories.

pub use crate::snapshot::BlockKind;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::future::Future;
use std::pin::Pin;

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
}

impl Blocked {
    /// The response waygate sends when no factory is configured.
    pub fn default_response(&self) -> Response {
        builtin(
            self.kind,
            &self.reason,
            &self.path,
            self.retry_after,
            Utc::now,
        )
    }
}

/// The built-in response for a blocked request.
pub(crate) fn builtin(
    kind: BlockKind,
    reason: &str,
    path: &str,
    retry_after: Option<DateTime<Utc>>,
    now: impl FnOnce() -> DateTime<Utc>,
) -> Response {
    match kind {
        BlockKind::Maintenance => {
            let mut body = ErrorBody::new(
                "MAINTENANCE_MODE",
                "This endpoint is temporarily unavailable",
            );
            body.field("reason", reason);
            body.field("path", path);
            let Some(end) = retry_after else {
                return body.into_response(StatusCode::SERVICE_UNAVAILABLE);
            };
            body.field(
                "retry_after",
                &end.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            );
            let mut response = body.into_response(StatusCode::SERVICE_UNAVAILABLE);
            // Whole seconds, rounded up: a client that waits this long finds the route back.
            let millis = (end - now()).num_milliseconds().max(0);
            let seconds = (millis + 999) / 1000;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        BlockKind::Disabled => {
            let mut body = ErrorBody::new("ROUTE_DISABLED", "This endpoint has been disabled");
            body.field("reason", reason);
            body.field("path", path);
            body.into_response(StatusCode::SERVICE_UNAVAILABLE)
        }
        BlockKind::EnvGated => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `{"error": {"code": .., "message": .., "reason": .., "path": .., ...}}`, written
/// directly: a blocked request costs one buffer, not a JSON tree.
pub(crate) struct ErrorBody(Vec<u8>);

impl ErrorBody {
    pub(crate) fn new(code: &str, message: &str) -> Self {
        let mut body = Self(Vec::with_capacity(192));
        body.0.extend_from_slice(b"{\"error\":{");
        body.0.extend_from_slice(b"\"code\":");
        body.string(code);
        body.field("message", message);
        body
    }

    pub(crate) fn number(&mut self, name: &str, value: u64) {
        self.0.push(b',');
        self.string(name);
        self.0.push(b':');
        self.0.extend_from_slice(value.to_string().as_bytes());
    }

    pub(crate) fn field(&mut self, name: &str, value: &str) {
        self.0.push(b',');
        self.string(name);
        self.0.push(b':');
        self.string(value);
    }

    fn string(&mut self, value: &str) {
        // Writing a `&str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    pub(crate) fn into_response(mut self, status: StatusCode) -> Response {
        self.0.extend_from_slice(b"}}");
        let mut response = Response::new(Body::from(self.0));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
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

/// The registry's wrapper around a route's `429` factory.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct RateLimitResponse(pub fn(RateLimited) -> BoxResponseFuture);
