//! The built-in responses to a refused request: the Python original's JSON bodies, field for
//! field, written directly (a refused request costs one buffer of the body's exact size, not
//! a JSON tree).

use super::limits::{header_value, LimitExceeded};
use crate::snapshot::BlockKind;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use http::{header, HeaderValue, Response, StatusCode};
// Writing into a `String` cannot fail.
use std::fmt::Write as _;

/// `{"error":{"code":"<code>","message":"<message>"`, made at compile time (codes and
/// messages are this module's own, with nothing to escape).
macro_rules! head {
    ($code:literal, $message:literal) => {
        concat!(
            "{\"error\":{\"code\":\"",
            $code,
            "\",\"message\":\"",
            $message,
            "\""
        )
    };
}

/// A field's `,"<name>":`, made at compile time by [`name!`] (the names are this module's
/// own, with nothing to escape).
#[derive(Clone, Copy)]
struct Name(&'static str);

/// The [`Name`] of field `$name`.
macro_rules! name {
    ($name:literal) => {
        Name(concat!(",\"", $name, "\":"))
    };
}

/// The head of a maintenance body.
const MAINTENANCE: &str = head!(
    "MAINTENANCE_MODE",
    "This endpoint is temporarily unavailable"
);

/// The head of a disabled route's body.
const DISABLED: &str = head!("ROUTE_DISABLED", "This endpoint has been disabled");

/// The built-in response to a request refused by a route's state (or global or service
/// maintenance), as the Python original sends it: `503` with a `MAINTENANCE_MODE` or
/// `ROUTE_DISABLED` JSON body, or an empty `404` for an env-gated route. `retry_after` is the
/// end of a maintenance window and the whole seconds until it (`Retry-After`).
pub fn builtin_blocked_response(
    kind: BlockKind,
    reason: &str,
    path: &str,
    retry_after: Option<(DateTime<Utc>, u64)>,
) -> Response<Bytes> {
    let fields = [
        (name!("reason"), Json::Text(reason)),
        (name!("path"), Json::Text(path)),
    ];
    match kind {
        BlockKind::Maintenance => {
            let Some((end, seconds)) = retry_after else {
                return json_response(StatusCode::SERVICE_UNAVAILABLE, MAINTENANCE, &fields);
            };
            let end = end.to_rfc3339_opts(SecondsFormat::AutoSi, false);
            let [reason, path] = fields;
            let fields = [reason, path, (name!("retry_after"), Json::Text(&end))];
            let mut response = json_response(StatusCode::SERVICE_UNAVAILABLE, MAINTENANCE, &fields);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        BlockKind::Disabled => json_response(StatusCode::SERVICE_UNAVAILABLE, DISABLED, &fields),
        BlockKind::EnvGated => {
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}

pub(super) fn rate_limited(limited: &LimitExceeded, path: &str) -> Response<Bytes> {
    let reset_at = limited
        .reset_at
        .to_rfc3339_opts(SecondsFormat::AutoSi, false);
    let fields = [
        (name!("limit"), Json::Text(&limited.limit)),
        (
            name!("retry_after_seconds"),
            Json::Number(limited.retry_after_seconds),
        ),
        (name!("reset_at"), Json::Text(&reset_at)),
        (name!("path"), Json::Text(path)),
    ];
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        head!("RATE_LIMIT_EXCEEDED", "Too many requests"),
        &fields,
    );
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

/// A field's value in an error body.
#[derive(Clone, Copy)]
enum Json<'a> {
    /// A string, escaped as RFC 8259 says.
    Text(&'a str),
    /// A whole number.
    Number(u64),
}

/// The most fields a body has.
const MAX_FIELDS: usize = 4;

/// `<head>,<fields>}}` with `status` and a JSON content type: `head` is [`head!`]'s, each
/// field's name [`name!`]'s.
fn json_response(
    status: StatusCode,
    head: &'static str,
    fields: &[(Name, Json<'_>)],
) -> Response<Bytes> {
    json(status, Bytes::from(json_body(head, fields)))
}

/// `<head>,<fields>}}`, in a buffer of the body's exact size, so that it becomes the
/// response's bytes as it is (a buffer with room to spare costs the `Bytes` it turns into
/// one more allocation).
fn json_body(head: &'static str, fields: &[(Name, Json<'_>)]) -> String {
    assert!(fields.len() <= MAX_FIELDS, "at most {MAX_FIELDS} fields");
    // What escaping adds to each text field (one pass over it; 0, as a rule).
    let mut extra = [0; MAX_FIELDS];
    let mut size = head.len() + 2;
    for ((name, value), extra) in fields.iter().zip(&mut extra) {
        size += name.0.len();
        size += match value {
            Json::Text(text) => {
                *extra = text.bytes().map(escape_extra).sum::<usize>();
                2 + text.len() + *extra
            }
            Json::Number(n) => n.checked_ilog10().map_or(1, |digits| digits as usize + 1),
        };
    }
    let mut body = String::with_capacity(size);
    body.push_str(head);
    for ((name, value), extra) in fields.iter().zip(extra) {
        body.push_str(name.0);
        match value {
            Json::Text(text) if extra == 0 => {
                body.push('"');
                body.push_str(text);
                body.push('"');
            }
            Json::Text(text) => write_escaped(&mut body, text),
            Json::Number(n) => {
                let _ = write!(body, "{n}");
            }
        }
    }
    body.push_str("}}");
    debug_assert_eq!(body.len(), size);
    body
}

/// `body` as a response of `status` with a JSON content type.
fn json(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The body of a request refused by a state with no maintenance window, up to the path's
/// value: `{"error":{"code":..,"message":..,"reason":"<reason>","path":`, the reason escaped
/// once, when the snapshot is built, rather than for every refused request; and, for a route
/// whose template has no parameters, the whole body for a request to that very path, which
/// every such request shares.
#[derive(Debug)]
pub(crate) struct BlockedBodyHead {
    head: Box<str>,
    /// The route's template and the whole body for a request whose path is it.
    whole: Option<(Box<str>, Bytes)>,
}

impl BlockedBodyHead {
    /// The head of [`builtin_blocked_response`]'s body for a `kind` block with `reason`
    /// (none for an env-gated route, whose `404` has no body); with the route's `template`
    /// (none for global and service maintenance), its whole body too.
    pub(crate) fn new(kind: BlockKind, reason: &str, template: Option<&str>) -> Option<Self> {
        let head = match kind {
            BlockKind::Maintenance => MAINTENANCE,
            BlockKind::Disabled => DISABLED,
            BlockKind::EnvGated => return None,
        };
        let mut text = String::with_capacity(head.len() + reason.len() + 20);
        text.push_str(head);
        text.push_str(name!("reason").0);
        write_escaped(&mut text, reason);
        text.push_str(name!("path").0);
        let mut blocked = Self {
            head: text.into(),
            whole: None,
        };
        // A template with parameters (`/items/{id}`, `/files/{*rest}`) is not a path.
        if let Some(template) = template.filter(|t| !t.contains(['{', '*'])) {
            let whole = blocked.body(template);
            blocked.whole = Some((template.into(), Bytes::from(whole)));
        }
        Some(blocked)
    }

    /// The built-in response to a request for `path`: the head, then the path.
    pub(crate) fn response(&self, path: &str) -> Response<Bytes> {
        let body = match &self.whole {
            Some((template, whole)) if **template == *path => whole.clone(),
            _ => Bytes::from(self.body(path)),
        };
        json(StatusCode::SERVICE_UNAVAILABLE, body)
    }

    /// The body for `path`, in a buffer of its exact size.
    fn body(&self, path: &str) -> String {
        let extra = path.bytes().map(escape_extra).sum::<usize>();
        let mut body = String::with_capacity(self.head.len() + path.len() + extra + 4);
        body.push_str(&self.head);
        if extra == 0 {
            body.push('"');
            body.push_str(path);
            body.push('"');
        } else {
            write_escaped(&mut body, path);
        }
        body.push_str("}}");
        body
    }
}

/// `value` as a JSON string literal, copied in runs between the bytes that need escaping
/// (all ASCII, so every cut is a char boundary).
fn write_escaped(body: &mut String, value: &str) {
    body.push('"');
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
        body.push_str(&value[run..at]);
        match escaped {
            "" => {
                let _ = write!(body, "\\u{byte:04x}");
            }
            escaped => body.push_str(escaped),
        }
        run = at + 1;
    }
    body.push_str(&value[run..]);
    body.push('"');
}

/// How many more bytes than one a byte takes in a JSON string: 1 for `"`, `\`, `\n`,
/// `\r` and `\t`, 5 for the other control characters (`\u00XX`), else 0.
#[inline(always)]
fn escape_extra(byte: u8) -> usize {
    usize::from(ESCAPE_EXTRA[usize::from(byte)])
}

/// [`escape_extra`] of every byte.
static ESCAPE_EXTRA: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = 5;
        byte += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 1;
    table[b'\n' as usize] = 1;
    table[b'\r' as usize] = 1;
    table[b'\t' as usize] = 1;
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn text(response: &Response<Bytes>) -> &str {
        std::str::from_utf8(response.body()).expect("UTF-8")
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let fields = [(name!("reason"), Json::Text("say \"hi\"\\\n\r\t\u{1}é"))];
        let body = json_body(head!("X", "m"), &fields);
        assert_eq!(body.capacity(), body.len());
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["error"]["reason"], "say \"hi\"\\\n\r\t\u{1}é");
        assert_eq!(value["error"]["code"], "X");
    }

    #[test]
    fn a_disabled_route_s_body_is_the_python_original_s() {
        let response =
            builtin_blocked_response(BlockKind::Disabled, "gone \"soon\"", "/items/42", None);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            text(&response),
            r#"{"error":{"code":"ROUTE_DISABLED","message":"This endpoint has been disabled","reason":"gone \"soon\"","path":"/items/42"}}"#
        );
    }

    #[test]
    fn a_head_made_ahead_gives_the_body_made_whole() {
        let reasons = ["", "bench", "say \"hi\"\\\n\u{1}é", "café ☕"];
        let paths = ["/items/42", "/a\"b", "/tab\there", "/é", "/items"];
        let templates = [None, Some("/items"), Some("/a\"b"), Some("/items/{id}")];
        for kind in [BlockKind::Maintenance, BlockKind::Disabled] {
            for reason in reasons {
                for template in templates {
                    let head = BlockedBodyHead::new(kind, reason, template).expect("a body");
                    for path in paths {
                        let whole = builtin_blocked_response(kind, reason, path, None);
                        let fast = head.response(path);
                        let what = format!("{kind:?} {reason:?} {template:?} {path:?}");
                        assert_eq!(fast.body(), whole.body(), "{what}");
                        assert_eq!(head.body(path).capacity(), fast.body().len(), "{what}");
                        assert_eq!(fast.status(), whole.status());
                        assert_eq!(fast.headers(), whole.headers());
                    }
                }
            }
        }
        assert!(BlockedBodyHead::new(BlockKind::EnvGated, "x", Some("/x")).is_none());
    }

    #[test]
    fn a_route_without_parameters_shares_its_whole_body() {
        let head = BlockedBodyHead::new(BlockKind::Disabled, "r", Some("/items")).unwrap();
        let one = head.response("/items");
        let two = head.response("/items");
        assert_eq!(
            one.body().as_ptr(),
            two.body().as_ptr(),
            "one buffer, shared"
        );
        assert_ne!(
            head.response("/items/").body().as_ptr(),
            one.body().as_ptr()
        );
        let with_parameter =
            BlockedBodyHead::new(BlockKind::Disabled, "r", Some("/items/{id}")).unwrap();
        assert!(with_parameter.whole.is_none());
    }

    #[test]
    fn a_body_s_buffer_is_its_exact_size_with_numbers_too() {
        for n in [0, 9, 10, 99, 100, 12_345, u64::MAX] {
            let fields = [
                (name!("n"), Json::Number(n)),
                (name!("path"), Json::Text("/a")),
            ];
            let body = json_body(head!("X", "m"), &fields);
            assert_eq!(body.capacity(), body.len(), "{n}");
            let value: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(value["error"]["n"], n);
        }
    }
}
