//! The built-in responses to a refused request: the Python original's JSON bodies, field for
//! field, written directly (a refused request costs one buffer, not a JSON tree).

use super::limits::{header_value, LimitExceeded};
use crate::snapshot::BlockKind;
use chrono::{DateTime, SecondsFormat, Utc};
use http::{header, HeaderValue, Response, StatusCode};
// Writing into a `String` cannot fail.
use std::fmt::Write as _;

/// The built-in response to a request refused by a route's state (or global or service
/// maintenance), as the Python original sends it: `503` with a `MAINTENANCE_MODE` or
/// `ROUTE_DISABLED` JSON body, or an empty `404` for an env-gated route. `retry_after` is the
/// end of a maintenance window and the whole seconds until it (`Retry-After`).
pub fn builtin_blocked_response(
    kind: BlockKind,
    reason: &str,
    path: &str,
    retry_after: Option<(DateTime<Utc>, u64)>,
) -> Response<String> {
    match kind {
        BlockKind::Maintenance => {
            let mut body = ErrorBody::new(
                "MAINTENANCE_MODE",
                "This endpoint is temporarily unavailable",
            );
            body.field("reason", reason);
            body.field("path", path);
            let Some((end, seconds)) = retry_after else {
                return body.into_response(StatusCode::SERVICE_UNAVAILABLE);
            };
            body.field(
                "retry_after",
                &end.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            );
            let mut response = body.into_response(StatusCode::SERVICE_UNAVAILABLE);
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
        BlockKind::EnvGated => {
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}

pub(super) fn rate_limited(limited: &LimitExceeded, path: &str) -> Response<String> {
    let mut body = ErrorBody::new("RATE_LIMIT_EXCEEDED", "Too many requests");
    body.field("limit", &limited.limit);
    body.number("retry_after_seconds", limited.retry_after_seconds);
    body.field(
        "reset_at",
        &limited
            .reset_at
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
    );
    body.field("path", path);
    let mut response = body.into_response(StatusCode::TOO_MANY_REQUESTS);
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from(limited.retry_after_seconds),
    );
    headers.insert("x-ratelimit-limit", header_value(&limited.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
    headers.insert(
        "x-ratelimit-reset",
        HeaderValue::from(limited.reset_at.timestamp()),
    );
    response
}

/// `{"error": {"code": .., "message": .., "reason": .., "path": .., ...}}`.
struct ErrorBody(String);

impl ErrorBody {
    fn new(code: &str, message: &str) -> Self {
        let mut body = Self(String::with_capacity(192));
        body.0.push_str("{\"error\":{\"code\":");
        body.string(code);
        body.field("message", message);
        body
    }

    fn number(&mut self, name: &str, value: u64) {
        self.0.push(',');
        self.string(name);
        self.0.push(':');
        let _ = write!(self.0, "{value}");
    }

    fn field(&mut self, name: &str, value: &str) {
        self.0.push(',');
        self.string(name);
        self.0.push(':');
        self.string(value);
    }

    /// A JSON string literal (RFC 8259 escapes), copied in runs between the bytes that need
    /// escaping (all ASCII, so every cut is a char boundary).
    fn string(&mut self, value: &str) {
        self.0.push('"');
        let mut run = 0;
        for (at, byte) in value.bytes().enumerate() {
            let escaped = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.push_str(&value[run..at]);
            match escaped {
                "" => {
                    let _ = write!(self.0, "\\u{byte:04x}");
                }
                escaped => self.0.push_str(escaped),
            }
            run = at + 1;
        }
        self.0.push_str(&value[run..]);
        self.0.push('"');
    }

    fn into_response(mut self, status: StatusCode) -> Response<String> {
        self.0.push_str("}}");
        let mut response = Response::new(self.0);
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json() {
        let mut body = ErrorBody::new("X", "m");
        body.field("reason", "say \"hi\"\\\n\u{1}é");
        let response = body.into_response(StatusCode::OK);
        let value: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(value["error"]["reason"], "say \"hi\"\\\n\u{1}é");
        assert_eq!(value["error"]["code"], "X");
    }
}
