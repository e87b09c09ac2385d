//! An actix-web request as the core's decision reads it: actix-web 4 is built on `http` 0.2,
//! the core on `http` 1, so the method is mapped and headers are read by name.

use actix_web::dev::Extensions;
use actix_web::{HttpMessage, HttpRequest};
use http::request::Parts;
use http::Method;
use std::borrow::Cow;
use std::cell::Ref;
use std::net::{IpAddr, SocketAddr};
use waygate_core::{Identity, LimitsCounted, RequestHead};

/// A borrowed actix-web request, with its extensions borrowed for as long as the head lives
/// (nothing mutates them while a decision is made).
pub(crate) struct ActixHead<'a> {
    request: &'a HttpRequest,
    method: Method,
    extensions: Ref<'a, Extensions>,
}

impl<'a> ActixHead<'a> {
    pub(crate) fn new(request: &'a HttpRequest) -> Self {
        Self {
            request,
            method: method(request.method()),
            extensions: request.extensions(),
        }
    }
}

/// The `http` 1 method of an actix-web (`http` 0.2) one; the standard methods are constants
/// (no allocation).
pub(crate) fn method(method: &actix_web::http::Method) -> Method {
    match method.as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        "PATCH" => Method::PATCH,
        "HEAD" => Method::HEAD,
        "OPTIONS" => Method::OPTIONS,
        "TRACE" => Method::TRACE,
        "CONNECT" => Method::CONNECT,
        // Both crates accept the same extension methods.
        other => Method::from_bytes(other.as_bytes()).unwrap_or(Method::GET),
    }
}

impl RequestHead for ActixHead<'_> {
    fn method(&self) -> &Method {
        &self.method
    }

    fn path(&self) -> &str {
        self.request.path()
    }

    fn header_values<'b>(&'b self, name: &'b str) -> impl Iterator<Item = &'b str> + 'b {
        self.request
            .headers()
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
    }

    /// The connection's peer, as actix-web's server saw it (`HttpRequest::peer_addr`).
    fn peer(&self) -> Option<IpAddr> {
        self.request.peer_addr().map(|addr| addr.ip())
    }

    fn identity(&self) -> Option<&Identity> {
        self.extensions.get::<Identity>()
    }

    fn limits_counted(&self) -> bool {
        self.extensions.get::<LimitsCounted>().is_some()
    }

    fn flag_context(&self) -> Option<&waygate_core::flags::EvaluationContext> {
        self.extensions.get()
    }

    /// The request as `http` 1 parts, for `key = custom(..)` functions: method, URI, version
    /// and headers, with the [`Identity`] and the peer's [`SocketAddr`] in the extensions.
    fn parts(&self) -> Cow<'_, Parts> {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = self.method.clone();
        if let Ok(uri) = self.request.uri().to_string().parse() {
            parts.uri = uri;
        }
        parts.version = match self.request.version() {
            actix_web::http::Version::HTTP_09 => http::Version::HTTP_09,
            actix_web::http::Version::HTTP_10 => http::Version::HTTP_10,
            actix_web::http::Version::HTTP_2 => http::Version::HTTP_2,
            actix_web::http::Version::HTTP_3 => http::Version::HTTP_3,
            _ => http::Version::HTTP_11,
        };
        for (name, value) in self.request.headers() {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_str().as_bytes()),
                http::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                parts.headers.append(name, value);
            }
        }
        if let Some(identity) = self.identity() {
            parts.extensions.insert(identity.clone());
        }
        if let Some(peer) = self.request.peer_addr() {
            parts.extensions.insert::<SocketAddr>(peer);
        }
        Cow::Owned(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn methods_map_to_the_cores_constants() {
        for (actix, core) in [
            (actix_web::http::Method::GET, Method::GET),
            (actix_web::http::Method::HEAD, Method::HEAD),
            (actix_web::http::Method::PATCH, Method::PATCH),
        ] {
            assert_eq!(method(&actix), core);
        }
        let purge = actix_web::http::Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method(&purge).as_str(), "PURGE");
    }

    #[test]
    fn the_head_reads_headers_peer_identity_and_parts() {
        let request = TestRequest::get()
            .uri("/items/7?x=1")
            .insert_header(("x-forwarded-for", "1.1.1.1"))
            .append_header(("x-forwarded-for", "2.2.2.2"))
            .insert_header(("x-api-key", "k"))
            .peer_addr("10.0.0.1:4000".parse().unwrap())
            .to_http_request();
        request.extensions_mut().insert(Identity::user("alice"));
        let head = ActixHead::new(&request);
        assert_eq!(head.path(), "/items/7");
        assert_eq!(
            head.header_values("x-forwarded-for").collect::<Vec<_>>(),
            ["1.1.1.1", "2.2.2.2"]
        );
        assert_eq!(head.header("x-api-key"), Some("k"));
        assert_eq!(head.peer(), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            head.identity().and_then(|i| i.user_id.as_deref()),
            Some("alice")
        );
        assert!(!head.limits_counted());
        let parts = head.parts();
        assert_eq!(parts.uri, "/items/7?x=1");
        assert_eq!(parts.headers.get_all("x-forwarded-for").iter().count(), 2);
        assert_eq!(
            parts.extensions.get::<SocketAddr>(),
            Some(&"10.0.0.1:4000".parse().unwrap())
        );
        assert!(parts.extensions.get::<Identity>().is_some());
    }
}
