//! An axum request as the core's decision reads it: the peer address is axum's
//! `ConnectInfo<SocketAddr>`.

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Request, Uri, Version};
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use waygate_core::{Identity, LimitsCounted, RequestHead};

/// The parts of a request or of its head, borrowed.
pub(crate) struct AxumHead<'a> {
    method: &'a Method,
    uri: &'a Uri,
    version: Version,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
    /// The parts themselves, when the request was split already.
    parts: Option<&'a Parts>,
}

impl<'a> AxumHead<'a> {
    pub(crate) fn of_request<B>(request: &'a Request<B>) -> Self {
        Self {
            method: request.method(),
            uri: request.uri(),
            version: request.version(),
            headers: request.headers(),
            extensions: request.extensions(),
            parts: None,
        }
    }

    pub(crate) fn of_parts(parts: &'a Parts) -> Self {
        Self {
            method: &parts.method,
            uri: &parts.uri,
            version: parts.version,
            headers: &parts.headers,
            extensions: &parts.extensions,
            parts: Some(parts),
        }
    }

    pub(crate) fn uri(&self) -> &'a Uri {
        self.uri
    }

    pub(crate) fn headers(&self) -> &'a HeaderMap {
        self.headers
    }
}

impl RequestHead for AxumHead<'_> {
    fn method(&self) -> &Method {
        self.method
    }

    fn path(&self) -> &str {
        self.uri.path()
    }

    fn header_values<'b>(&'b self, name: &'b str) -> impl Iterator<Item = &'b str> + 'b {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
    }

    fn peer(&self) -> Option<IpAddr> {
        self.extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
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

    fn parts(&self) -> Cow<'_, Parts> {
        if let Some(parts) = self.parts {
            return Cow::Borrowed(parts);
        }
        // Only a `key = custom(..)` function asks, for a request the layer has not split.
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = self.method.clone();
        parts.uri = self.uri.clone();
        parts.version = self.version;
        parts.headers = self.headers.clone();
        parts.extensions = self.extensions.clone();
        Cow::Owned(parts)
    }
}
