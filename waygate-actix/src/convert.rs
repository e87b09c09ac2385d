//! From the core's `http` 1 values to actix-web's `http` 0.2 ones: responses the core built
//! and the headers an allowed request's response carries.

use actix_web::body::MessageBody;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use waygate_core::{DeprecationHeaders, LimitHeaders};

/// A response the core built (`Refusal::builtin_response`, `MountCheck::check`), as an
/// actix-web response.
pub(crate) fn response<B: MessageBody + 'static>(response: http::Response<B>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::with_body(status, body).map_into_boxed_body();
    let headers = out.headers_mut();
    for (name, value) in &parts.headers {
        if let Some((name, value)) = header(name.as_str(), value) {
            headers.append(name, value);
        }
    }
    out
}

fn header(name: &str, value: &http::HeaderValue) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        value_of(value)?,
    ))
}

fn value_of(value: &http::HeaderValue) -> Option<HeaderValue> {
    HeaderValue::from_bytes(value.as_bytes()).ok()
}

/// Sets `X-RateLimit-Limit`, `-Remaining` and `-Reset`.
pub(crate) fn apply_limits(limits: &LimitHeaders, headers: &mut HeaderMap) {
    if let Some(limit) = value_of(limits.limit()) {
        headers.insert(HeaderName::from_static("x-ratelimit-limit"), limit);
    }
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(limits.remaining()),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-reset"),
        HeaderValue::from(limits.reset()),
    );
}

/// Adds `Deprecation`, then `Sunset` and `Link` when set (as `DeprecationHeaders::apply`).
pub(crate) fn apply_deprecation(deprecation: &DeprecationHeaders, headers: &mut HeaderMap) {
    if let Some(value) = value_of(&deprecation.deprecation) {
        headers.insert(HeaderName::from_static("deprecation"), value);
    }
    if let Some(value) = deprecation.sunset.as_ref().and_then(value_of) {
        headers.insert(HeaderName::from_static("sunset"), value);
    }
    if let Some(value) = deprecation.link.as_ref().and_then(value_of) {
        headers.append(actix_web::http::header::LINK, value);
    }
}
