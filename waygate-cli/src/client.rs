//! The admin REST API over HTTP: every request carries `X-Waygate-Platform: cli` and, while
//! the stored login is valid, `X-Waygate-Token`; every answer is JSON; every failure becomes
//! an [`Error`] with a hint.

use crate::config::{Config, Login, Source};
use crate::error::{Error, Result};
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one admin server.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::blocking::Client,
    base: String,
    login: Option<Login>,
}

impl Client {
    /// A client of the server URL that `config` resolves to, with its login.
    pub(crate) fn new(config: &Config) -> Result<Self> {
        let (base, source) = crate::config::server_url(config);
        Self::with_url(base, &source, config.login())
    }

    /// A client of `base` (found from `source`), sending `login`'s token while it is
    /// valid.
    pub(crate) fn with_url(base: String, source: &Source, login: Option<Login>) -> Result<Self> {
        check_url(&base).map_err(|reason| {
            Error::Usage(format!("the server URL {base:?} (from {source}) {reason}"))
        })?;
        let http = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("waygate-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Input(format!("cannot start the HTTP client: {e}")))?;
        Ok(Self { http, base, login })
    }

    /// The server URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The URL of `path` on the server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path?query`.
    pub(crate) fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        self.send(Method::GET, path, query, None)
    }

    /// `GET path?query`, which must answer a JSON list.
    pub(crate) fn get_list(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
        match self.get(path, query)? {
            Value::Array(items) => Ok(items),
            other => Err(Error::BadResponse {
                url: self.url(path),
                detail: format!(
                    "expected a JSON list, got {}",
                    other.to_string().chars().take(80).collect::<String>()
                ),
            }),
        }
    }

    /// `POST path` with a JSON body (`{}` when `None`).
    pub(crate) fn post(&self, path: &str, body: Option<Value>) -> Result<Value> {
        self.send(Method::POST, path, &[], body)
    }

    /// `DELETE path?query`.
    pub(crate) fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        self.send(Method::DELETE, path, query, None)
    }

    /// `GET path`, with the answer's `ETag` (a record's version, for
    /// [`write`](Self::write)); servers that send none give `None`.
    pub(crate) fn get_tagged(&self, path: &str) -> Result<(Value, Option<String>)> {
        self.exchange(Method::GET, path, &[], None, None)
    }

    /// `PUT` or `PATCH path` with a JSON body; with `If-Match: if_match` when given, so a
    /// record changed since it was read is refused (412) rather than overwritten.
    pub(crate) fn write(
        &self,
        method: Method,
        path: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Result<Value> {
        self.exchange(method, path, &[], Some(body), if_match)
            .map(|(value, _)| value)
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value> {
        self.exchange(method, path, query, body, None)
            .map(|(value, _)| value)
    }

    fn exchange(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Result<(Value, Option<String>)> {
        let url = self.url(path);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .header("X-Waygate-Platform", "cli");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(token) = self.login.as_ref().filter(|login| !login.expired()) {
            request = request.header("X-Waygate-Token", &token.token);
        }
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        if method == Method::POST || body.is_some() {
            request = request.json(&body.unwrap_or_else(|| Value::Object(Default::default())));
        }
        let response = self.execute(request)?;
        let etag = response
            .headers()
            .get("etag")
            .and_then(|tag| tag.to_str().ok())
            .map(str::to_owned);
        self.read(response, &url).map(|value| (value, etag))
    }

    fn execute(&self, request: RequestBuilder) -> Result<Response> {
        request.send().map_err(|error| Error::Unreachable {
            url: self.base.clone(),
            reason: if error.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else {
                innermost(&error)
            },
        })
    }

    fn read(&self, response: Response, url: &str) -> Result<Value> {
        let status = response.status().as_u16();
        let text = response.text().map_err(|e| Error::Unreachable {
            url: self.base.clone(),
            reason: format!("the answer broke off: {}", innermost(&e)),
        })?;
        let json = serde_json::from_str::<Value>(&text);
        if status < 400 {
            return json.map_err(|_| Error::BadResponse {
                url: url.to_owned(),
                detail: format!("HTTP {status} with a body that is not JSON"),
            });
        }
        let body = json.unwrap_or(Value::Null);
        if let Some(matches) = body.get("ambiguous_matches").and_then(Value::as_array) {
            // The route commands fill in the route and the command.
            return Err(Error::Ambiguous {
                route: "the route".to_owned(),
                matches: matches
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                command: "<command>".to_owned(),
            });
        }
        let server_message = body.get("error").and_then(Value::as_str);
        let (message, hint) = match (status, server_message) {
            (401, _) => (
                "authentication required".to_owned(),
                Some(self.login_hint()),
            ),
            (404, None) => (
                format!("HTTP 404 from {url}"),
                Some(
                    "the server URL must be where the waygate admin is mounted, e.g. \
                     http://host:8000/waygate (see `waygate config show`)"
                        .to_owned(),
                ),
            ),
            (404, Some(message)) => (
                message.to_owned(),
                Some("`waygate status` lists the routes the server knows".to_owned()),
            ),
            (409, Some(message)) => (
                message.to_owned(),
                Some(
                    "the route is force-active (#[force_active], @force_active in Python): \
                     remove that attribute to allow lifecycle changes"
                        .to_owned(),
                ),
            ),
            (500.., message) => (
                message.map_or_else(|| format!("HTTP {status}"), str::to_owned),
                Some(format!("the server failed (HTTP {status}); see its logs")),
            ),
            (_, message) => (
                message.map_or_else(|| format!("HTTP {status}"), str::to_owned),
                None,
            ),
        };
        Err(Error::Api {
            status,
            message,
            hint,
        })
    }

    /// What to do about a `401`, from what is stored.
    fn login_hint(&self) -> String {
        match &self.login {
            None => "not logged in: run `waygate login <username>`".to_owned(),
            Some(login) if login.expired() => format!(
                "the login of {user} expired at {at}: run `waygate login {user}`",
                user = login.username,
                at = crate::time::show_minutes(&login.expires_at),
            ),
            Some(login) => format!(
                "the server refused the token of {user} (logged out, expired, or the server \
                 restarted without a fixed secret key): run `waygate login {user}`",
                user = login.username,
            ),
        }
    }
}

/// `Ok` for an `http://` or `https://` URL with a host.
pub(crate) fn check_url(url: &str) -> std::result::Result<(), &'static str> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| "is not a URL (e.g. http://host:8000/waygate)")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must start with http:// or https://");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    Ok(())
}

/// The innermost cause of an error (`Connection refused (os error 111)`), which says more
/// than reqwest's `error sending request for url (..)`.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
