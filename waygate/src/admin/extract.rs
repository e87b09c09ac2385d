//! Who is calling, and the parts of a request the handlers read: the route key in the path,
//! a service name, the query string.

use super::body::capped;
use super::error::ApiError;
use super::token::{Claims, B64U};
use super::AdminState;
use crate::model::Actor;
use crate::stored::RouteKey;
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

/// The platform of an evaluation-only key: it may call the OFREP paths and nothing else.
pub(crate) const EVALUATE_PLATFORM: &str = "evaluate";
/// What an evaluation-only key gets anywhere but OFREP, with `403`.
const EVALUATE_ONLY: &str =
    "an evaluation-only key can only evaluate flags (ofrep/v1/...); log in as a user (platform cli)";

/// The SDK stream's path.
const STREAM_PATH: &str = "/api/sdk/events";
/// How long a refused stream request waits for its `401`.
const REFUSED_STREAM_DELAY: std::time::Duration = std::time::Duration::from_secs(3);

/// Who is calling: the token's user and platform, or in open mode the `X-Waygate-Actor` and
/// `X-Waygate-Platform` headers (default `anonymous` on `cli`). Recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) name: String,
    pub(crate) platform: String,
    /// The service an `sdk` token was issued to: the caller acts for that service only.
    pub(crate) app: Option<String>,
    /// The token's id and expiry (none in open mode): a stream opened with it ends when it
    /// is revoked or expires.
    pub(crate) session: Option<Session>,
}

/// The token a caller presented: its id (for revocation) and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) jti: String,
    pub(crate) expires_at: chrono::DateTime<chrono::Utc>,
}

impl Caller {
    fn anonymous() -> Self {
        Self {
            name: "anonymous".to_owned(),
            platform: "anonymous".to_owned(),
            app: None,
            session: None,
        }
    }

    /// Whether the caller may register or change the routes of service `app_id`: anyone but
    /// an `sdk` token issued to another service.
    #[cfg(feature = "server")]
    pub(crate) fn may_act_for(&self, app_id: &str) -> bool {
        self.app.as_deref().is_none_or(|app| app == app_id)
    }

    /// Whether the token this caller presented still holds: not expired, not revoked (here
    /// or on an instance sharing the backend). Open mode has no token: always.
    fn still_valid(&self, engine: &crate::Engine) -> bool {
        self.session.as_ref().is_none_or(|session| {
            session.expires_at >= engine.now() && !engine.is_token_revoked(&session.jti)
        })
    }

    /// `stream` for as long as the caller's token holds: an item is let through only while
    /// it does, and the stream ends within a second of a revocation or the expiry even when
    /// nothing is sent (revocations are in memory: a map lookup). Open mode: `stream` as it
    /// is.
    pub(crate) fn while_token_holds<S: futures_util::Stream>(
        self,
        engine: crate::Engine,
        stream: S,
    ) -> impl futures_util::Stream<Item = S::Item> {
        use futures_util::StreamExt as _;
        let (checked, watched) = (self.clone(), engine.clone());
        let ended = async move {
            if self.session.is_none() {
                return std::future::pending().await;
            }
            let mut check = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                check.tick().await;
                if !self.still_valid(&watched) {
                    tracing::info!(user = %self.name, app_id = ?self.app, "waygate admin: stream closed, its token was revoked or expired");
                    return;
                }
            }
        };
        stream
            .take_while(move |_| std::future::ready(checked.still_valid(&engine)))
            .take_until(ended)
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
    let path = request.uri().path();
    let ofrep = path.starts_with(super::ofrep::PREFIX);
    let caller = if is_public(path) {
        Caller::anonymous()
    } else if ofrep {
        // Evaluation clients: a token in a header, never the session cookie.
        match admin.ofrep_caller(request.headers()) {
            Some(caller) => caller,
            None => return ApiError::unauthorized().into_response(),
        }
    } else {
        match admin.caller(request.headers()) {
            Some(caller) => caller,
            #[cfg(feature = "dashboard")]
            None if !is_api(request.uri().path()) => {
                return super::dashboard::to_login(&request);
            }
            None if request.uri().path() == STREAM_PATH => {
                // A stream client reconnects the moment it is refused (the Python SDK 0.2.0
                // does, in a tight loop): its 401 waits, so it never spins.
                tokio::time::sleep(REFUSED_STREAM_DELAY).await;
                return ApiError::unauthorized().into_response();
            }
            None => return ApiError::unauthorized().into_response(),
        }
    };
    if caller.platform == EVALUATE_PLATFORM && !ofrep {
        return ApiError::new(StatusCode::FORBIDDEN, EVALUATE_ONLY).into_response();
    }
    if admin.auth.is_some()
        && caller.platform == "sdk"
        && !ofrep
        && !is_public(request.uri().path())
    {
        if let Err(refusal) = sdk_may(&caller, &mut request) {
            return refusal.into_response();
        }
    }
    // Login and logout act on what they are sent, not on the cookie's authority.
    let path = request.uri().path();
    if !ofrep && !is_public(path) && is_api(path) && !admin.cookie_request_allowed(&request) {
        return ApiError::new(StatusCode::FORBIDDEN, COOKIE_CSRF).into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// What a service's (`sdk`-platform) token may do. It is bound to one service (an sdk
/// token naming none — which this server never issues — may do nothing but say who it
/// is), and it may:
///
/// * use the SDK endpoints (whose handlers check the service);
/// * read its own service's records and the fleet-wide ones an SDK needs: its routes
///   (`api/routes`, narrowed to the service when no `service` is asked for), its per-route
///   rate limits, its service's maintenance and rate limit, global maintenance and the
///   global rate limit;
/// * change its own service's routes and settings.
///
/// Never the dashboard, the service list, the audit log, the rate-limit hits, global
/// settings or another service: a service token lives a year in a service's environment,
/// so a leaked one must not reach the rest of the fleet.
fn sdk_may(caller: &Caller, request: &mut Request) -> Result<(), ApiError> {
    let forbidden = |what: String| {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("a service (sdk) token cannot {what}; log in as a user (platform cli)"),
        ))
    };
    let path = request.uri().path().to_owned();
    if path == "/api/auth/me" {
        return Ok(());
    }
    let Some(app) = caller.app.clone() else {
        return forbidden(
            "act without naming its service (log in with app_id or X-Waygate-App-Id)".into(),
        );
    };
    if !is_api(&path) {
        return forbidden("open the dashboard".into());
    }
    if path.starts_with("/api/sdk/") {
        return Ok(());
    }
    let own_key = |raw: &str| {
        decode_key(raw).is_ok_and(|key| RouteKey::parse_in_service(&key, &app).is_some())
    };
    let read = request.method() == Method::GET || request.method() == Method::HEAD;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (read, segments.as_slice()) {
        (true, ["api", "global" | "global-rate-limit"]) => Ok(()),
        // Flags and segments are the fleet's: a service reads them to evaluate.
        (true, ["api", "flags" | "segments", ..]) => Ok(()),
        (true, ["api", "routes" | "rate-limits"]) => narrow_to_service(request, &app),
        (_, ["api", "routes", key, ..]) if own_key(key) => Ok(()),
        (_, ["api", "routes", _, ..]) => {
            forbidden(format!("read or change routes outside its service `{app}`"))
        }
        (_, ["api", "services", service, "maintenance" | "rate-limit", ..]) if *service == app => {
            Ok(())
        }
        (true, _) => forbidden(format!(
            "read the service list, the audit log or another service (it reads `{app}`'s \
             records and the fleet-wide maintenance and rate limit)"
        )),
        (false, _) => forbidden("change global settings, rate limits or other services".into()),
    }
}

/// A list read by a service token: its own service's entries. A `service` parameter (or
/// an `X-Waygate-App-Id` header, which `api/rate-limits` reads) naming another service is
/// refused; naming none, the request is narrowed to the token's service.
fn narrow_to_service(request: &mut Request, app: &str) -> Result<(), ApiError> {
    let forbidden = |named: &str| {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this token was issued to service `{app}` and cannot read `{named}`"),
        ))
    };
    let query = request.uri().query().unwrap_or_default().to_owned();
    let asked: Vec<String> = url_params(&query)
        .filter(|(name, _)| name == "service")
        .map(|(_, value)| value)
        .collect();
    if let Some(other) = asked.iter().find(|named| named.as_str() != app) {
        return forbidden(other);
    }
    if let Some(named) = header(request.headers(), "x-waygate-app-id") {
        if named != app {
            return forbidden(named);
        }
    }
    if asked.is_empty() {
        let narrowed = match query.is_empty() {
            true => format!("service={}", encode_param(app)),
            false => format!("{query}&service={}", encode_param(app)),
        };
        let mut parts = request.uri().clone().into_parts();
        let path_and_query = format!("{}?{narrowed}", request.uri().path());
        parts.path_and_query = path_and_query.parse().ok();
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    Ok(())
}

/// The `name=value` pairs of a query string, decoded.
fn url_params(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
}

/// `value` encoded for a query string.
fn encode_param(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
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
                session: None,
            });
        }
        self.verified(headers).map(caller_of)
    }

    /// The caller of an OFREP request, or `None` to refuse it: in open mode anyone, else
    /// the holder of a valid token in `Authorization: Bearer`, `X-API-Key` or
    /// `X-Waygate-Token` (not the session cookie: a cross-site page could not read the
    /// answer, but it need not be able to ask either).
    fn ofrep_caller(&self, headers: &HeaderMap) -> Option<Caller> {
        if self.auth.is_none() {
            return self.caller(headers);
        }
        let token = header(headers, "authorization")
            .and_then(|value| {
                value
                    .split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim())
            })
            .or_else(|| header(headers, "x-api-key"))
            .or_else(|| header(headers, TOKEN_HEADER))?;
        let claims = self.tokens.verify(token, self.engine.now())?;
        if self.engine.is_token_revoked(&claims.jti) {
            return None;
        }
        Some(caller_of(claims))
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

/// The caller a valid token names.
fn caller_of(claims: Claims) -> Caller {
    Caller {
        session: Some(Session {
            expires_at: claims.expires_at(),
            jti: claims.jti,
        }),
        app: claims.app.filter(|_| claims.plat == "sdk"),
        name: claims.sub,
        platform: claims.plat,
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
