//! CSRF protection of the dashboard's state-changing requests.
//!
//! The token is an HMAC of the session (its token's `jti`; a fixed name in open mode) with
//! the admin's signing key ([`Tokens::csrf`](super::super::token::Tokens::csrf)): another
//! site can neither read it (same-origin policy) nor make it (it has no key), and it dies
//! with the session. Pages carry it in `hx-headers` on `<body>` (so every htmx request
//! sends `X-CSRF-Token`) and as a hidden `csrf` field in their forms.

use super::super::AdminState;
use super::context::OPEN_SESSION;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The header htmx sends the token in.
pub(super) const HEADER: &str = super::super::extract::CSRF_HEADER;
/// The form field a plain form sends it in.
const FIELD: &str = "csrf";
/// The largest form body read (the dashboard's forms are small).
const MAX_BODY: usize = 64 * 1024;

/// Middleware: lets a request through only with the session's CSRF token, in the
/// `X-CSRF-Token` header or the `csrf` form field; `403` otherwise.
pub(super) async fn require(
    State(admin): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    let session = match admin.verified(request.headers()) {
        Some(claims) => claims.jti,
        None if admin.auth.is_none() => OPEN_SESSION.to_owned(),
        None => return forbidden(),
    };
    let header = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    if let Some(token) = header {
        if admin.tokens.csrf_ok(&session, &token) {
            return next.run(request).await;
        }
        return forbidden();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    };
    match form_field(&bytes, FIELD) {
        Some(token) if admin.tokens.csrf_ok(&session, token) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => forbidden(),
    }
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "invalid or missing CSRF token").into_response()
}

/// A field of an `application/x-www-form-urlencoded` body, undecoded (the token is hex, so
/// it needs no decoding; anything encoded is not a valid token anyway).
fn form_field<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::form_field;

    #[test]
    fn finds_the_field() {
        assert_eq!(form_field(b"reason=x&csrf=ab12", "csrf"), Some("ab12"));
        assert_eq!(form_field(b"csrf=&reason=x", "csrf"), Some(""));
        assert_eq!(form_field(b"xcsrf=1&reason=x", "csrf"), None);
        assert_eq!(form_field(b"\xff", "csrf"), None);
    }
}
