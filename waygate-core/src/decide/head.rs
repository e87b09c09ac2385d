//! What the decision reads of a request, whatever the framework.

use crate::limiter::Identity;
use http::request::Parts;
use http::Method;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// Marks a request whose rate limits were already counted (by a middleware), so that a
/// per-handler check of the same request does not count it again. Adapters insert it into
/// the request's extensions after a [`Decision::Serve`](crate::Decision::Serve).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsCounted;

/// A request as [`Engine::decide`](crate::Engine::decide) reads it.
///
/// Implemented for `http::request::Parts`; an adapter for a framework with other request
/// types (or that keeps the peer address elsewhere) implements it on a thin wrapper. Only
/// [`method`](Self::method) and [`path`](Self::path) are read for a route with nothing to
/// enforce; the rest only when a rate limit applies.
pub trait RequestHead {
    /// The request method.
    fn method(&self) -> &Method;

    /// The concrete request path (`/items/42`).
    fn path(&self) -> &str;

    /// Every value of a header, in the order received, as text (values that are not
    /// visible ASCII are skipped).
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a;

    /// The first value of a header, as text.
    fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// The address of the connection's peer, from which the client's address is resolved
    /// (through trusted proxies only, see
    /// [`EngineBuilder::trusted_proxies`](crate::EngineBuilder::trusted_proxies)). `None`
    /// when the server does not say: per-IP limits then share one counter (and the engine
    /// warns once).
    fn peer(&self) -> Option<IpAddr>;

    /// Who is making the request, as the app's authentication put it in the request.
    fn identity(&self) -> Option<&Identity>;

    /// Whether the request's rate limits were already counted ([`LimitsCounted`]).
    fn limits_counted(&self) -> bool;

    /// The flag evaluation context the app put in the request (a middleware that knows the
    /// user), which `#[feature_flag]` routes and `FlagContext` read first.
    fn flag_context(&self) -> Option<&crate::flags::EvaluationContext>;

    /// The request as `http` parts, for `key = custom(..)` functions.
    fn parts(&self) -> Cow<'_, Parts>;
}

impl RequestHead for Parts {
    fn method(&self) -> &Method {
        &self.method
    }

    fn path(&self) -> &str {
        self.uri.path()
    }

    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
    }

    /// The [`SocketAddr`] in the request's extensions, if the server put one there.
    fn peer(&self) -> Option<IpAddr> {
        self.extensions.get::<SocketAddr>().map(SocketAddr::ip)
    }

    fn identity(&self) -> Option<&Identity> {
        self.extensions.get::<Identity>()
    }

    fn limits_counted(&self) -> bool {
        self.extensions.get::<LimitsCounted>().is_some()
    }

    fn flag_context(&self) -> Option<&crate::flags::EvaluationContext> {
        self.extensions.get()
    }

    fn parts(&self) -> Cow<'_, Parts> {
        Cow::Borrowed(self)
    }
}
