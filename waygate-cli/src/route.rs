//! Route arguments: `/path` (every method; the server resolves it to the one route with that
//! path, or lists the candidates) or `METHOD:/path`, and how they travel in URLs.

use base64::Engine as _;
use std::fmt;

/// The methods a route key may name.
pub(crate) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A route as typed on the command line, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// Upper-cased; `None` for a bare path.
    pub(crate) method: Option<String>,
    /// Starts with `/`.
    pub(crate) path: String,
}

impl Route {
    /// Parses `/path` or `METHOD:/path` (the method in any case). The errors say what to
    /// type instead; clap shows them as usage errors (exit code 2).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with('/') {
            return Ok(Self {
                method: None,
                path: text.to_owned(),
            });
        }
        let Some((method, path)) = text.split_once(':') else {
            return Err(format!(
                "a route is /path or METHOD:/path (e.g. GET:/payments); {text:?} does not start with '/'"
            ));
        };
        let upper = method.to_ascii_uppercase();
        if !METHODS.contains(&upper.as_str()) {
            return Err(format!(
                "unknown HTTP method {method:?}; expected one of {}",
                METHODS.join(", ")
            ));
        }
        if !path.starts_with('/') {
            return Err(format!(
                "the path must start with '/': {upper}:/{path} rather than {text}"
            ));
        }
        Ok(Self {
            method: Some(upper),
            path: path.to_owned(),
        })
    }

    /// The key the server stores the route under: `METHOD:/path` or `/path`.
    pub(crate) fn key(&self) -> String {
        self.to_string()
    }

    /// The key within a service: `service:METHOD:/path` (`SDK` services on a waygate
    /// server), or the plain key without one.
    pub(crate) fn service_key(&self, service: Option<&str>) -> String {
        match service {
            Some(service) => format!("{service}:{self}"),
            None => self.key(),
        }
    }

    /// The method, `GET` for a bare path (what `rl set` and `rl delete` assume, as in the
    /// Python CLI).
    pub(crate) fn method_or_get(&self) -> &str {
        self.method.as_deref().unwrap_or("GET")
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.method {
            Some(method) => write!(f, "{method}:{}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// Unpadded URL-safe base64, how route keys go into admin API paths.
pub(crate) fn b64u(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_method_routes_parse() {
        let bare = Route::parse("/payments").unwrap();
        assert_eq!(bare.method, None);
        assert_eq!(bare.key(), "/payments");
        assert_eq!(bare.method_or_get(), "GET");
        let get = Route::parse("get:/items/{id}").unwrap();
        assert_eq!(get.key(), "GET:/items/{id}");
        assert_eq!(get.service_key(Some("pay")), "pay:GET:/items/{id}");
        assert_eq!(bare.service_key(Some("pay")), "pay:/payments");
        // A colon inside a path is part of the path.
        assert_eq!(Route::parse("/a:b").unwrap().key(), "/a:b");
    }

    #[test]
    fn bad_routes_say_what_to_type() {
        let err = Route::parse("FETCH:/x").unwrap_err();
        assert!(err.contains("unknown HTTP method \"FETCH\""), "{err}");
        assert!(err.contains("GET, POST"), "{err}");
        let err = Route::parse("GET:payments").unwrap_err();
        assert!(err.contains("GET:/payments"), "{err}");
        let err = Route::parse("payments").unwrap_err();
        assert!(err.contains("does not start with '/'"), "{err}");
    }

    #[test]
    fn keys_are_unpadded_base64url() {
        assert_eq!(b64u("GET:/payments"), "R0VUOi9wYXltZW50cw");
        assert_eq!(b64u("/payments"), "L3BheW1lbnRz");
    }
}
