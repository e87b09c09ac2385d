//! Route keys: the one parser and the one printer of `[service:][METHOD:]/template`.

use std::fmt;

/// The key a route is stored under, borrowed from the text it was parsed from.
///
/// | form | example | meaning |
/// |---|---|---|
/// | `METHOD:/template` | `GET:/items/{id}` | one method of a route |
/// | `/template` | `/items/{id}` | every method (a *bare* key) |
/// | `service:METHOD:/template` | `pay:GET:/items/{id}` | a route of a service registered with a Waygate Server |
/// | `service:/template` | `pay:/items/{id}` | every method of a service's route |
///
/// A method is one or more ASCII capital letters; a service is a
/// [service name](Self::is_service_name). Waygate's own records
/// ([`Sentinel`](super::Sentinel)s) are not route keys.
///
/// ```
/// use waygate_core::stored::RouteKey;
///
/// let key = RouteKey::parse("pay:GET:/items/{id}").unwrap();
/// assert_eq!(key.service(), Some("pay"));
/// assert_eq!(key.method(), Some("GET"));
/// assert_eq!(key.template(), "/items/{id}");
/// assert_eq!(key.to_string(), "pay:GET:/items/{id}");
/// assert_eq!(key.local().to_string(), "GET:/items/{id}");
/// assert_eq!(RouteKey::new("GET", "/x").in_service("pay").to_string(), "pay:GET:/x");
/// assert!(RouteKey::parse("__waygate:global__").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteKey<'a> {
    service: Option<&'a str>,
    method: Option<&'a str>,
    template: &'a str,
}

/// The method a rate-limit policy names for a bare key (every method).
const EVERY_METHOD: &str = "ALL";

impl<'a> RouteKey<'a> {
    /// `METHOD:/template`; `ALL` (a policy's word for every method) gives the bare key.
    pub fn new(method: &'a str, template: &'a str) -> Self {
        Self {
            service: None,
            method: (method != EVERY_METHOD).then_some(method),
            template,
        }
    }

    /// `/template`: every method of a route.
    pub fn bare(template: &'a str) -> Self {
        Self {
            service: None,
            method: None,
            template,
        }
    }

    /// The same route, registered by `service`.
    pub fn in_service(self, service: &'a str) -> Self {
        Self {
            service: Some(service),
            ..self
        }
    }

    /// The same route without its service: the key the service itself serves it under.
    pub fn local(self) -> Self {
        Self {
            service: None,
            ..self
        }
    }

    /// Reads a route key; `None` when `key` is not one (a sentinel, a path without `/`, a
    /// lowercase method, ...).
    pub fn parse(key: &'a str) -> Option<Self> {
        if key.starts_with('/') {
            return Some(Self::bare(key));
        }
        let (first, rest) = key.split_once(':')?;
        if rest.starts_with('/') {
            return Some(match is_method(first) {
                true => Self::new(first, rest),
                false if Self::is_service_name(first) => Self::bare(rest).in_service(first),
                false => return None,
            });
        }
        let (method, template) = rest.split_once(':')?;
        (Self::is_service_name(first) && is_method(method) && template.starts_with('/'))
            .then(|| Self::new(method, template).in_service(first))
    }

    /// Reads the key of a route registered by `service` (`service:METHOD:/template`), or
    /// `None` when `key` is not one of that service's.
    pub fn parse_in_service(key: &'a str, service: &str) -> Option<Self> {
        Self::parse(key).filter(|parsed| parsed.service == Some(service))
    }

    /// Whether `name` may name a service: not empty, no `:`, `/`, white space or control
    /// characters, not all capitals (that would read as a method), not starting with `__`
    /// (waygate's own records).
    pub fn is_service_name(name: &str) -> bool {
        !name.is_empty()
            && !name.starts_with("__")
            && !is_method(name)
            && !name
                .chars()
                .any(|c| c == ':' || c == '/' || c.is_whitespace() || c.is_control())
    }

    /// The service that registered the route, in server mode.
    pub fn service(&self) -> Option<&'a str> {
        self.service
    }

    /// The method; `None` for a bare key (every method).
    pub fn method(&self) -> Option<&'a str> {
        self.method
    }

    /// The route's template, `/items/{id}`.
    pub fn template(&self) -> &'a str {
        self.template
    }

    /// The `(method, path)` a rate-limit policy stores for this route: `ALL` for a bare key,
    /// and the service before the template (`pay:/x`) for a service's route — the Python
    /// original's layout.
    pub fn policy_parts(&self) -> (&'a str, String) {
        let method = self.method.unwrap_or(EVERY_METHOD);
        let path = match self.service {
            Some(service) => format!("{service}:{}", self.template),
            None => self.template.to_owned(),
        };
        (method, path)
    }

    /// The route a policy's `(method, path)` applies to (the reverse of
    /// [`policy_parts`](Self::policy_parts)); `None` when the path is not a route's. Also
    /// reads the Python server's `service:METHOD:/path` policy paths.
    pub fn from_policy(method: &'a str, path: &'a str) -> Option<Self> {
        let key = Self::parse(path)?;
        match key.method {
            Some(_) => Some(key),
            None if is_method(method) => Some(Self {
                method: (method != EVERY_METHOD).then_some(method),
                ..key
            }),
            None => None,
        }
    }
}

impl fmt::Display for RouteKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(service) = self.service {
            write!(f, "{service}:")?;
        }
        if let Some(method) = self.method {
            write!(f, "{method}:")?;
        }
        f.write_str(self.template)
    }
}

/// One or more ASCII capitals: `GET`, `POST`, `ALL`.
fn is_method(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(key: &str) -> Option<(Option<&str>, Option<&str>, &str)> {
        RouteKey::parse(key).map(|k| (k.service(), k.method(), k.template()))
    }

    #[test]
    fn every_form_parses_and_prints_back() {
        assert_eq!(parts("GET:/x/{id}"), Some((None, Some("GET"), "/x/{id}")));
        assert_eq!(parts("/x"), Some((None, None, "/x")));
        assert_eq!(parts("pay:GET:/x"), Some((Some("pay"), Some("GET"), "/x")));
        assert_eq!(parts("pay:/x"), Some((Some("pay"), None, "/x")));
        // A template may hold colons of its own.
        assert_eq!(parts("GET:/a:b"), Some((None, Some("GET"), "/a:b")));
        assert_eq!(
            parts("pay-svc:POST:/a:b"),
            Some((Some("pay-svc"), Some("POST"), "/a:b"))
        );
        for key in ["GET:/x/{id}", "/x", "pay:GET:/x", "pay:/x", "GET:/a:b"] {
            assert_eq!(RouteKey::parse(key).unwrap().to_string(), key);
        }
    }

    #[test]
    fn what_is_not_a_route_key() {
        for key in [
            "",
            "x",
            "GET:x",
            "pay:GET:x",
            "pay:get:/x",
            ":/x",
            "a/b:/x",
            "a b:/x",
            "a\u{1b}b:GET:/x",
            "__waygate:global__",
            "__waygate:rl:GET:/x__",
            "__waygate:svc_global:pay__",
            "__global__",
        ] {
            assert_eq!(RouteKey::parse(key), None, "{key}");
        }
    }

    #[test]
    fn policies_keep_the_python_layout() {
        let key = RouteKey::parse("pay:GET:/x").unwrap();
        assert_eq!(key.policy_parts(), ("GET", "pay:/x".to_owned()));
        assert_eq!(RouteKey::from_policy("GET", "pay:/x"), Some(key));
        assert_eq!(
            RouteKey::from_policy("ALL", "/x").map(|k| k.to_string()),
            Some("/x".into())
        );
        assert_eq!(
            RouteKey::bare("/x").policy_parts(),
            ("ALL", "/x".to_owned())
        );
        // What the Python server keeps: the method inside the path.
        assert_eq!(
            RouteKey::from_policy("ALL", "pay:GET:/x").map(|k| k.to_string()),
            Some("pay:GET:/x".into())
        );
        assert_eq!(RouteKey::from_policy("get", "/x"), None);
        assert_eq!(
            RouteKey::parse_in_service("pay:GET:/x", "pay").map(|k| k.local().to_string()),
            Some("GET:/x".into())
        );
        assert_eq!(RouteKey::parse_in_service("pay:GET:/x", "orders"), None);
        assert_eq!(RouteKey::parse_in_service("GET:/x", "pay"), None);
    }
}
