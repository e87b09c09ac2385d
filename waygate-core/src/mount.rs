//! Where declared routes are mounted: a route's full template under a nest prefix, and the
//! refusal of a request that reached a declared route under a template waygate was not told
//! about (its state, kept under the known template, would be bypassed). Each adapter's
//! `routes!` guard asks [`MountCheck`]; only the framework glue is the adapter's.

use crate::registry::RouteMeta;
use http::{header, HeaderValue, Response, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};

/// `prefix` + `path`, as a nested router joins them: `/api` + `/items` is `/api/items`,
/// `/api/` + `/` is `/api`, and an empty prefix leaves the path (`/` for an empty one).
///
/// ```
/// assert_eq!(waygate_core::join_path("/api/", "/items"), "/api/items");
/// assert_eq!(waygate_core::join_path("/api", "/"), "/api");
/// assert_eq!(waygate_core::join_path("", ""), "/");
/// ```
pub fn join_path(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    match (prefix.is_empty(), path) {
        (true, "") => "/".to_owned(),
        (true, _) => path.to_owned(),
        (false, "" | "/") => prefix.to_owned(),
        (false, _) => format!("{prefix}{path}"),
    }
}

/// The check an adapter's mount guard makes on every request to declared routes mounted at
/// one template: a request the router matched under another template gets `500`
/// `WAYGATE_UNKNOWN_MOUNT` (logged once per guard) rather than bypass the routes' state.
#[derive(Debug)]
pub struct MountCheck {
    expected: Box<str>,
    routes: Vec<&'static RouteMeta>,
    /// How to mount the routes so that waygate knows where they are, in the adapter's terms.
    advice: &'static str,
    reported: AtomicBool,
}

impl MountCheck {
    /// The check of `routes`, mounted at `expected` (their full path template); `advice`
    /// ends the error's message (how to mount them with the adapter's router).
    pub fn new(expected: &str, routes: Vec<&'static RouteMeta>, advice: &'static str) -> Self {
        Self {
            expected: expected.into(),
            routes,
            advice,
            reported: AtomicBool::new(false),
        }
    }

    /// The template the routes were registered under.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// The refusal of a request the router matched under `matched`; `None` when that is
    /// the expected template, or when the router named none.
    pub fn check(&self, matched: Option<&str>) -> Option<Response<String>> {
        let matched = matched.filter(|matched| *matched != &*self.expected)?;
        let keys: Vec<&str> = self.routes.iter().map(|meta| meta.key).collect();
        let handlers: Vec<&str> = self.routes.iter().map(|meta| meta.handler).collect();
        let message = format!(
            "route `{}` ({}) is mounted at `{matched}`, but waygate knows it as `{}`: \
             its state would not be enforced. {}",
            keys.join("`, `"),
            handlers.join(", "),
            self.expected,
            self.advice,
        );
        if !self.reported.swap(true, Ordering::Relaxed) {
            tracing::error!("waygate: {message}");
        }
        let body = serde_json::json!({
            "error": {"code": "WAYGATE_UNKNOWN_MOUNT", "message": message}
        });
        let mut response = Response::new(body.to_string());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Some(response)
    }
}
