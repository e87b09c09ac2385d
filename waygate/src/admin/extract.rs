//! Who is calling, and the parts of a request the handlers read: the route key in the path,
//! a service name, the query string.

use super::body::capped;
use super::error::ApiError;
use super::token::{Claims, B64U};
use super::AdminState;
use crate::model::Actor;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// The header a token is sent in.
pub(crate) const TOKEN_HEADER: &str = "x-waygate-token";
/// The cookie a browser session keeps its token in.
pub(crate) const SESSION_COOKIE: &str = "waygate_session";
/// The header a page sends its session's CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// Open mode only: who is acting.
const ACTOR_HEADER: &str = "x-waygate-actor";
/// Open mode only: where from.
const PLATFORM_HEADER: &str = "x-waygate-platform";

/// The paths (relative to where the admin is mounted) that need no token: exactly these,
/// not every path ending like them (the Python original's suffix match let
/// `/api/flags/login` through).
pub(crate) const PUBLIC_PATHS: &[&str] = &["/api/auth/login", "/api/auth/logout"];

/// With the dashboard, its login and logout pages and its static files are public too,
/// exactly these paths.
#[cfg(feature = "dashboard")]
pub(crate) const DASHBOARD_PUBLIC_PATHS: &[&str] = &[
    "/login",
    "/logout",
    "/static/htmx.min.js",
    "/static/waygate.css",
    "/static/waygate.js",
];

/// Whether `path` (relative to the admin's mount point) needs no token. `/bypass/{token}`
/// carries its own credential.
fn is_public(path: &str) -> bool {
    if path
        .strip_prefix("/bypass/")
        .is_some_and(|token| !token.is_empty() && !token.contains('/'))
    {
        return true;
    }
    #[cfg(feature = "dashboard")]
    if DASHBOARD_PUBLIC_PATHS.contains(&path) {
        return true;
    }
    PUBLIC_PATHS.contains(&path)
}

/// Who is calling: the token's user and platform, or in open mode the `X-Waygate-Actor` and
/// `X-Waygate-Platform` headers (default `anonymous` on `cli`). Recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) name: String,
    pub(crate) platform: String,
    /// The service an `sdk` token was issued to: the caller acts for that service only.
    pub(crate) app: Option<String>,
}

impl Caller {
    fn anonymous() -> Self {
        Self {
            name: "anonymous".to_owned(),
            platform: "anonymous".to_owned(),
            app: None,
        }
    }

    /// Whether the caller may register or change the routes of service `app_id`: anyone but
    /// an `sdk` token issued to another service.
    #[cfg(feature = "server")]
    pub(crate) fn may_act_for(&self, app_id: &str) -> bool {
        self.app.as_deref().is_none_or(|app| app == app_id)
    }

    /// The audit actor.
    pub(crate) fn actor(&self) -> Actor {
        Actor::new(self.name.as_str()).platform(self.platform.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Set by `authenticate` on every request it lets through.
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Middleware in front of every admin path: lets the public paths through, and otherwise
/// needs a valid, unrevoked token (when auth is configured), answering `401` without one
/// (API paths) or, with the dashboard, redirecting pages to its login page.
pub(crate) async fn authenticate(
    State(admin): State<AdminState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = if is_public(request.uri().path()) {
        Caller::anonymous()
    } else {
        match admin.caller(request.headers()) {
            Some(caller) => caller,
            #[cfg(feature = "dashboard")]
            None if !is_api(request.uri().path()) => {
                return super::dashboard::to_login(&request);
            }
            None => return ApiError::unauthorized().into_response(),
        }
    };
    if admin.auth.is_some() && caller.platform == "sdk" {
        if let Err(refusal) = sdk_may(&caller, request.method(), request.uri().path()) {
            return refusal.into_response();
        }
    }
    // Login and logout act on what they are sent, not on the cookie's authority.
    let path = request.uri().path();
    if !is_public(path) && is_api(path) && !admin.cookie_request_allowed(&request) {
        return ApiError::new(StatusCode::FORBIDDEN, COOKIE_CSRF).into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// What a service's (`sdk`-platform) token may do: read the API, use the SDK endpoints
/// (whose handlers check the service), and change the routes of its own service. It never
/// opens the dashboard, and never changes global settings or another service's routes: a
/// service token lives a year, so it gets only what a service needs.
fn sdk_may(caller: &Caller, method: &axum::http::Method, path: &str) -> Result<(), ApiError> {
    let forbidden = |what: &str| {
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            format!("a service (sdk) token cannot {what}; log in as a user (platform cli)"),
        ))
    };
    if path != "/api" && !path.starts_with("/api/") {
        return forbidden("open the dashboard");
    }
    if method == axum::http::Method::GET || path.starts_with("/api/sdk/") {
        return Ok(());
    }
    if path == "/api/auth/me" {
        return Ok(());
    }
    if let (Some(app), Some(rest)) = (caller.app.as_deref(), path.strip_prefix("/api/services/")) {
        if rest.split('/').next() == Some(app) {
            return Ok(());
        }
    }
    let route_key = path
        .strip_prefix("/api/routes/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|raw| decode_key(raw).ok());
    match (route_key, caller.app.as_deref()) {
        (Some(_), None) => Ok(()),
        (Some(key), Some(app)) if key.strip_prefix(app).is_some_and(|r| r.starts_with(':')) => {
            Ok(())
        }
        (Some(_), Some(app)) => forbidden(&format!("change routes outside its service `{app}`")),
        (None, _) => forbidden("change global settings, rate limits or other services"),
    }
}

/// What a cross-site (or unproven) API change authenticated by the session cookie answers,
/// with `403`.
const COOKIE_CSRF: &str = "a change authenticated by the session cookie needs the session's \
     CSRF token in X-CSRF-Token, or a JSON body (Content-Type: application/json) with a \
     same-origin Origin header; API clients send their token in X-Waygate-Token instead";

/// Whether `path` is under `api/` (answered in JSON) rather than a dashboard page.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

impl AdminState {
    /// Whether a request may go on as far as CSRF goes. A browser sends the session cookie
    /// with any request, a cross-site form's included (`SameSite=Strict` stops other sites,
    /// not a sibling subdomain), so an API change (any method but `GET`, `HEAD`, `OPTIONS`)
    /// authenticated by the cookie alone needs proof that the page making it is ours: the
    /// session's CSRF token in `X-CSRF-Token`, or a JSON body (which a cross-site page can
    /// send only after a CORS preflight we never answer) with an `Origin` equal to the
    /// `Host`. A token in `X-Waygate-Token` (the CLI, the SDK) is not sent by browsers on
    /// their own, so it needs neither.
    fn cookie_request_allowed(&self, request: &Request) -> bool {
        let headers = request.headers();
        let method = request.method();
        if self.auth.is_none()
            || header(headers, TOKEN_HEADER).is_some()
            || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        {
            return true;
        }
        let Some(claims) = self.verified(headers) else {
            // No session at all: the handler (login, logout) does not act on the cookie.
            return true;
        };
        if let Some(csrf) = header(headers, CSRF_HEADER) {
            return self.tokens.csrf_ok(&claims.jti, csrf);
        }
        let json = header(headers, "content-type").is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
        json && same_origin(request)
    }
}

/// Whether the `Origin` header names the host the request was sent to (`Host`, or the
/// authority of an absolute request target).
fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    let host = header(headers, "host").or_else(|| request.uri().authority().map(|a| a.as_str()));
    let (Some(origin), Some(host)) = (header(headers, "origin"), host) else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

impl AdminState {
    /// The caller of a request to a protected path, or `None` to refuse it.
    fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        if self.auth.is_none() {
            return Some(Caller {
                name: header(headers, ACTOR_HEADER)
                    .unwrap_or("anonymous")
                    .to_owned(),
                platform: header(headers, PLATFORM_HEADER).unwrap_or("cli").to_owned(),
                app: None,
            });
        }
        let claims = self.verified(headers)?;
        Some(Caller {
            app: claims.app.filter(|_| claims.plat == "sdk"),
            name: claims.sub,
            platform: claims.plat,
        })
    }

    /// The claims of the request's token, if auth is configured and the token is valid:
    /// signed with our key, not expired, not revoked (here or by another instance sharing
    /// the backend).
    pub(crate) fn verified(&self, headers: &HeaderMap) -> Option<Claims> {
        self.auth.as_ref()?;
        let claims = self.tokens.verify(token(headers)?, self.engine.now())?;
        (!self.engine.is_token_revoked(&claims.jti)).then_some(claims)
    }
}

/// The token a request carries: the `X-Waygate-Token` header (trimmed), else the
/// `waygate_session` cookie.
pub(crate) fn token(headers: &HeaderMap) -> Option<&str> {
    header(headers, TOKEN_HEADER).or_else(|| {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|cookies| cookies.split(';'))
            .filter_map(|cookie| cookie.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.trim().trim_matches('"'))
            .filter(|value| !value.is_empty())
    })
}

/// A header's value as UTF-8 text, trimmed; `None` when absent or empty.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = std::str::from_utf8(headers.get(name)?.as_bytes())
        .ok()?
        .trim();
    (!value.is_empty()).then_some(value)
}

/// The route key in the URL: `{path_key}` is the unpadded base64url of the key (padded is
/// accepted too).
#[derive(Debug)]
pub(crate) struct PathKey(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PathKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid path_key: {}", e.body_text())))?;
        decode_key(&raw).map(Self)
    }
}

/// Decodes a `{path_key}`.
pub(crate) fn decode_key(raw: &str) -> Result<String, ApiError> {
    let bytes = B64U.decode(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid path_key: not base64url ({e}); encode the route key, e.g. \
             base64url(\"GET:/payments\") = \"R0VUOi9wYXltZW50cw\""
        ))
    })?;
    let key = String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid path_key: it does not decode to UTF-8 text"))?;
    capped("path_key", &key)?;
    Ok(key)
}

/// A `{service}` path segment (plain text, not base64).
#[derive(Debug)]
pub(crate) struct Service(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Service {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(service) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid service: {}", e.body_text())))?;
        capped("service", &service)?;
        Ok(Self(service))
    }
}

/// The peer address of the connection, when the app is served with
/// `into_make_service_with_connect_info::<SocketAddr>()` (axum's `ConnectInfo`); `None`
/// otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) Option<SocketAddr>);

impl Peer {
    /// The peer of a request.
    pub(crate) fn of(extensions: &axum::http::Extensions) -> Self {
        Self(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions))
    }
}

/// The client's IP address, as the rate limiter finds it: the peer (`ConnectInfo`), or
/// behind a [trusted proxy](crate::EngineBuilder::trusted_proxies) the address it forwards;
/// `None` when the app is served without `ConnectInfo`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl FromRequestParts<AdminState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        admin: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            admin
                .engine
                .client_ip(&crate::adapter::AxumHead::of_parts(parts)),
        ))
    }
}

/// The query string's parameters.
#[derive(Debug)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// A parameter; empty counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `limit`: a count, 50 when absent or not a number (as the Python original).
    pub(crate) fn limit(&self) -> usize {
        self.get("limit")
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(50)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(params) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("invalid query string: {}", e.body_text()))
            })?;
        Ok(Self(params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn path_keys() {
        assert_eq!(decode_key("R0VUOi9wYXltZW50cw").unwrap(), "GET:/payments");
        assert_eq!(decode_key("R0VUOi9wYXltZW50cw==").unwrap(), "GET:/payments");
        // `-` and `_` of the URL-safe alphabet (`/?>` encodes to `Lz8-`).
        assert_eq!(decode_key("Lz8-").unwrap(), "/?>");
        assert!(decode_key("not base64!")
            .unwrap_err()
            .message()
            .starts_with("invalid path_key: not base64url"));
        assert!(decode_key("Lz8+").is_err(), "standard alphabet");
        assert!(decode_key("_w").unwrap_err().message().contains("UTF-8"));
    }

    #[test]
    fn token_from_header_or_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(token(&headers), None);
        headers.insert(
            "cookie",
            HeaderValue::from_static("a=1; waygate_session=c.s; b=2"),
        );
        assert_eq!(token(&headers), Some("c.s"));
        headers.insert("x-waygate-token", HeaderValue::from_static("  h.s  "));
        assert_eq!(token(&headers), Some("h.s"), "the header wins, trimmed");
        headers.insert("x-waygate-token", HeaderValue::from_static(" "));
        assert_eq!(token(&headers), Some("c.s"), "an empty header is absent");
        headers.insert("cookie", HeaderValue::from_static("waygate_session_x=1"));
        assert_eq!(token(&headers), None);
    }
}
