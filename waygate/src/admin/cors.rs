//! CORS for the OFREP paths, so that a web page on another origin can evaluate flags with an
//! evaluation-only key (see [`WaygateAdmin::ofrep_cors`](super::WaygateAdmin::ofrep_cors)).
//! Credentials travel in `Authorization`, never in a cookie, so no
//! `Access-Control-Allow-Credentials`; the rest of the admin answers no preflight at all.

use super::AdminState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The request headers an OFREP client sends.
const ALLOWED_HEADERS: &str = "authorization, content-type, if-none-match, x-api-key";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// Middleware around the OFREP paths: answers preflights (before auth: a preflight carries
/// no credentials) and marks the answers to allowed origins readable.
pub(crate) async fn ofrep_cors(
    State(admin): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    let origin = allowed_origin(&admin.ofrep_origins, request.headers());
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    let Some(origin) = origin else {
        return response;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
    } else {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag"),
        );
    }
    response
}

/// The request's `Origin`, when it is one of `allowed` (or `allowed` holds `*`).
fn allowed_origin(allowed: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed
        .iter()
        .any(|entry| entry == "*" || entry.eq_ignore_ascii_case(text))
        .then(|| origin.clone())
}
