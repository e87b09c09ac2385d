//! The admin REST API: route states, maintenance, audit log and rate limits over HTTP, with
//! token auth. Wire-compatible with the Python original's `WaygateAdmin`, so its `waygate`
//! CLI works against it unchanged.
//!
//! ```rust,no_run
//! use axum::Router;
//! use std::time::Duration;
//! use waygate::admin::{Auth, WaygateAdmin};
//! use waygate::prelude::*;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::from_env()?;
//! engine.start().await?;
//!
//! let admin = WaygateAdmin::new(engine.clone())
//!     .auth(Auth::single("admin", "secret"))
//!     .secret_key(std::env::var("WAYGATE_SECRET_KEY")?)
//!     .token_expiry(Duration::from_secs(8 * 3600));
//!
//! let app: Router = Router::new()
//!     // .merge(routes![..])
//!     .nest("/waygate", admin.into_router())
//!     .layer(WaygateLayer::new(engine.clone()));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! Then, with the Python CLI (`pip install "waygate[cli,admin,flags]"`):
//!
//! ```text
//! waygate config set-url http://localhost:8000/waygate
//! waygate login admin
//! waygate disable GET:/payments --reason "hotfix"
//! ```
//!
//! # Endpoints
//!
//! Paths are relative to where the router is nested. `{path_key}` is the unpadded base64url
//! of a route key (`GET:/payments` → `R0VUOi9wYXltZW50cw`); padded is accepted.
//!
//! | method and path | does |
//! |---|---|
//! | `POST api/auth/login` | `{"username", "password", "platform"?}` → `{"token", "username", "expires_at"}` |
//! | `POST api/auth/logout` | revokes the presented token → `{"ok": true}` |
//! | `GET api/auth/me` | `{"username", "platform"}` |
//! | `POST api/tokens` | `{"service", "ttl_seconds"?}` → `201 {"token", "service", "expires_at"}`: a [service token](#service-tokens), audited; `{"evaluate": true, "name"?, "ttl_seconds"?}` → an [evaluation-only key](#ofrep) |
//! | `GET api/flags/stale` | stale flags (stored, no running code declares or read them in 24 h), missing ones (declared, not stored), who declares each and when each service last read it |
//! | `POST ofrep/v1/evaluate/flags/{key}` · `POST ofrep/v1/evaluate/flags` · `GET ofrep/v1/sse` | [OFREP](#ofrep): flags evaluated for any language's OpenFeature SDK |
//! | `GET api/routes` | every route's state (`?service=` filters) |
//! | `GET api/routes/{path_key}` | one route's state; `404` for an unknown key |
//! | `POST api/routes/{path_key}/enable` · `/disable` · `/maintenance` · `/env` · `/schedule` | change the route; the new state |
//! | `DELETE api/routes/{path_key}/schedule` | cancels its maintenance window |
//! | `POST api/routes/{path_key}/rollout` | `{"percentage": 0..=100}`: serve the route to that share of clients (its `rollout_percentage`) |
//! | `POST api/bypass` | `{"ttl_seconds"?: 3600, "reason"?}` → `{"token", "expires_at", "header"}`: a [maintenance bypass token](BypassVerifier), audited |
//! | `POST api/bypass/revoke` | voids every bypass token issued so far, on every instance sharing the backend |
//! | `GET bypass/{token}` | public: sets the `waygate_bypass` cookie for a valid token and redirects to `/`; `404` otherwise |
//! | `GET api/audit` | the audit log, newest first (`?route=`, `?service=`, `?limit=` 50) |
//! | `GET api/global` · `POST api/global/enable` · `/disable` | global maintenance |
//! | `GET api/services` | the services that registered routes |
//! | `GET api/services/{service}/maintenance` · `POST ../enable` · `../disable` | one service's maintenance |
//! | `GET`, `POST api/rate-limits` | per-route rate-limit policies (`POST` answers `201`) |
//! | `DELETE api/rate-limits/{path_key}` · `DELETE api/rate-limits/{path_key}/reset` | delete a policy (key `METHOD:/path`); clear its counters (`?method=`) |
//! | `GET api/rate-limits/hits` | blocked requests, newest first (`?route=`, `?limit=`) |
//! | `GET`, `POST`, `DELETE api/global-rate-limit` · `DELETE ../reset` · `POST ../enable` · `../disable` | the global rate limit |
//! | `GET`, `POST`, `DELETE api/services/{service}/rate-limit` · `DELETE ../reset` · `POST ../enable` · `../disable` | one service's rate limit |
//!
//! Route states are answered as enforced: a maintenance window that has not started yet
//! reads `"status": "active"`, the pending `window` beside it, until `start`.
//!
//! Errors are `{"error": "<message>"}`: `400` for malformed input (the message names the
//! field; nothing is changed), `404` for an unknown route, `409` for a bare path that matches
//! several routes (with `"ambiguous_matches": [..]`) or a force-active route, `503` when the
//! backend fails. So are the errors axum answers itself under `api/`: `413` for a body over
//! axum's limit (2 MB), `405` for a wrong method (with `Allow`).
//!
//! Texts are capped: a reason, an exempt path, an environment, a route key, a service name,
//! ... takes at most 1 KB, a list at most 100 entries (`400` naming the field), so that a slip
//! cannot grow the stored state and the audit log without bound.
//!
//! # OFREP
//!
//! OpenFeature's Remote Evaluation Protocol 0.3.0, for the OFREP provider of any OpenFeature
//! SDK (Go, Java, .NET, JavaScript, Python, Rust, Swift, Kotlin), pointed at the mount
//! point (`http://host/waygate`; the Waygate Server at its root):
//!
//! * `POST ofrep/v1/evaluate/flags/{key}`, body `{"context": {"targetingKey", ..}}` (optional:
//!   `anonymous`) → `{"key", "value", "reason", "variant", "metadata"}`; `404`
//!   `FLAG_NOT_FOUND`, `400` `PARSE_ERROR` or `INVALID_CONTEXT`, as `{"key", "errorCode",
//!   "errorDetails"}`.
//! * `POST ofrep/v1/evaluate/flags`: every flag, `{"flags": [..], "metadata", "eventStreams"}`
//!   with an `ETag`; `If-None-Match` with it answers `304` until a flag or segment changes.
//! * `GET ofrep/v1/sse` (the bulk answer's `eventStreams`): `data: {"type":
//!   "refetchEvaluation", "etag"}` on every change.
//!
//! Reasons: a target or rule → `TARGETING_MATCH`, the percentage rollout → `SPLIT`, a flag
//! without targets or rules → `STATIC`, the fallthrough past them → `DEFAULT`, disabled or a
//! failed prerequisite → `DISABLED`. Floats stay floats (`1.0`).
//!
//! With auth, OFREP takes a token in `Authorization: Bearer` (or `X-API-Key`,
//! `X-Waygate-Token`; never the session cookie) and answers `401` without. Any token works;
//! an **evaluation-only key** (`waygate token create --evaluate --name web-shop`) can do
//! nothing but evaluate (`403` anywhere else), so it may ship inside a web page or an app.
//! Pages on other origins need [`ofrep_cors`](WaygateAdmin::ofrep_cors).
//!
//! # Per-IP rate limits need the peer address
//!
//! The rate limiter keys `ip` policies (the default) by the peer address, which axum records
//! only when the app is served with
//! `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())`. Served
//! with plain `axum::serve(listener, app)`, every client shares one counter (`"unknown"`):
//! setting such a policy here (`waygate rl set`, `grl set`, `srl set`) then answers with a
//! `"warning"` field saying so, beside the policy.
//!
//! # Auth
//!
//! Without [`auth`](WaygateAdmin::auth) every request is let through (open mode: the audit
//! log records the `X-Waygate-Actor` and `X-Waygate-Platform` headers, default `anonymous`
//! on `cli`) and login answers `501`. With it, every path but `api/auth/login` and
//! `api/auth/logout` needs a token — in the `X-Waygate-Token` header or the
//! `waygate_session` cookie — and answers `401` without a valid one.
//!
//! Failed logins are throttled (see [`LoginThrottle`]): after 5 failures for a username from
//! one client, or 20 from a client IP, within a minute, login answers that client `429` with
//! `Retry-After` (the right password included) until the oldest of them is a minute old. A
//! client with no failures of its own is answered at once, so guesses from many addresses
//! cannot lock an operator (or a service) out. Each failure is logged with
//! `warn!` (username and client, never the password); each lockout is audited
//! (`login_locked` on `__auth__`). The client IP is the rate limiter's (the peer, or behind a
//! [trusted proxy](crate::EngineBuilder::trusted_proxies) the address it forwards); served
//! without `ConnectInfo` every client is one, and only the per-username limit applies.
//!
//! # Service tokens
//!
//! A service needs no password: an operator creates a token for it (`waygate token create
//! --service payments --ttl 1y`, `POST api/tokens`, or the dashboard's services page) and
//! hands it to the service (`WaygateSdk::builder(..).token(..)`). Such a token — like
//! every `sdk` token this server issues, a login with `"platform": "sdk"` included — is
//! bound to one service: it registers, streams and changes that service's routes, reads its
//! own records and the fleet-wide maintenance and rate limit, and nothing else (`403`). An
//! `sdk` login that names no service (`app_id`, or the `X-Waygate-App-Id` header) gets `400`.
//!
//! A browser sends the dashboard's session cookie with every request, a cross-site form's
//! included, so a change (any method but `GET`, `HEAD`, `OPTIONS`) under `api/`
//! authenticated by the cookie alone needs the session's CSRF token in `X-CSRF-Token`, or a
//! JSON body (`Content-Type: application/json`) with an `Origin` equal to the `Host`; else
//! `403`. A token in `X-Waygate-Token` (the CLI, the SDK) needs neither. The session cookie
//! is `HttpOnly; SameSite=Strict`, and `Secure` when the login came over HTTPS (see
//! [`secure_cookie`](WaygateAdmin::secure_cookie)).
//!
//! Tokens are the Python original's (HMAC-SHA256 over a base64url JSON payload, key
//! `"{secret_key}:{credential fingerprint}"`), so instances that share a
//! [`secret_key`](WaygateAdmin::secret_key) and credentials — in either language — accept
//! each other's tokens, and changing the credentials invalidates all tokens. Signatures and
//! passwords are compared in constant time. Logout revokes the token in the engine's
//! backend, so every instance sharing the backend refuses it.

mod auth;
pub(crate) mod body;
mod bypass;
mod cors;
#[cfg(feature = "dashboard")]
mod dashboard;
pub(crate) mod error;
pub(crate) mod extract;
mod login;
mod ofrep;
mod routes;
mod service_tokens;
mod throttle;
mod token;

pub use auth::{Auth, AuthBackend};
pub use bypass::{BypassToken, BypassVerifier, BYPASS_COOKIE, BYPASS_HEADER, MAX_BYPASS_TTL};
pub use throttle::LoginThrottle;

use crate::Engine;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use token::Tokens;

/// The default lifetime of `cli` and `dashboard` tokens.
const TOKEN_EXPIRY: Duration = Duration::from_secs(24 * 3600);
/// The default lifetime of `sdk` tokens.
const SDK_TOKEN_EXPIRY: Duration = Duration::from_secs(365 * 24 * 3600);

/// The admin API, configured; [`into_router`](Self::into_router) makes the axum router to
/// nest in an app (see the [module docs](self)).
#[derive(Clone)]
#[must_use = "call `.into_router()` and nest the router in your app"]
pub struct WaygateAdmin {
    engine: Engine,
    auth: Option<Auth>,
    secret_key: Option<String>,
    /// The key used when none is set, drawn once per admin so that the router and the
    /// [`bypass_verifier`](Self::bypass_verifier) agree.
    random_key: Arc<str>,
    token_expiry: Duration,
    sdk_token_expiry: Duration,
    login_throttle: LoginThrottle,
    secure_cookie: bool,
    ofrep_origins: Vec<String>,
}

impl WaygateAdmin {
    /// An admin API over `engine`, open to anyone until [`auth`](Self::auth) is set.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            auth: None,
            secret_key: None,
            random_key: token::hex(&token::random::<32>()).into(),
            token_expiry: TOKEN_EXPIRY,
            sdk_token_expiry: SDK_TOKEN_EXPIRY,
            login_throttle: LoginThrottle::default(),
            secure_cookie: false,
            ofrep_origins: Vec::new(),
        }
    }

    /// Requires a token from a user of `auth` on every path but login and logout.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The key tokens (and maintenance bypass tokens) are signed with. Unset, a random one is
    /// drawn when the admin is created: tokens then die with the process and are not
    /// accepted by other instances. Set it (from a secret store) to share tokens.
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// How long `cli` and `dashboard` tokens are valid (default 24 hours).
    pub fn token_expiry(mut self, expiry: Duration) -> Self {
        self.token_expiry = expiry;
        self
    }

    /// How long `sdk` tokens (service apps logging in with `"platform": "sdk"`) are valid
    /// (default one year).
    pub fn sdk_token_expiry(mut self, expiry: Duration) -> Self {
        self.sdk_token_expiry = expiry;
        self
    }

    /// What tells whether a request carries a maintenance bypass token issued by this admin
    /// (`POST api/bypass`). [`into_router`](Self::into_router) installs it in the engine, so
    /// the layer lets such requests through maintenance, disabled routes and global
    /// maintenance; [`BypassVerifier::install`] does the same on an instance without the
    /// admin (with the same secret key).
    pub fn bypass_verifier(&self) -> BypassVerifier {
        BypassVerifier::new(self.engine.clone(), self.signing_key())
    }

    fn signing_key(&self) -> &str {
        self.secret_key.as_deref().unwrap_or(&self.random_key)
    }

    /// How many failed logins lock a username for one client, or a client IP (default: 5
    /// per username and client, 20 per IP, within a minute); locked, login answers `429` with `Retry-After`. See
    /// [`LoginThrottle`].
    pub fn login_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.login_throttle = throttle;
        self
    }

    /// Marks the dashboard's session cookie `Secure` on every login, whatever the request
    /// looks like. Without it the cookie is `Secure` when the login request came over HTTPS
    /// as the server sees it (an `https` request URI, as HTTP/2 sends it) or through a
    /// [trusted proxy](crate::EngineBuilder::trusted_proxies) that sends
    /// `X-Forwarded-Proto: https`. Turn it on when TLS ends in front of the app without such
    /// a proxy, or in this process over HTTP/1.1 (which carries no scheme).
    pub fn secure_cookie(mut self, always: bool) -> Self {
        self.secure_cookie = always;
        self
    }

    /// Lets web pages on `origins` (e.g. `https://app.example.com`, or `*` for any) call the
    /// [OFREP](self#ofrep) paths from the browser: preflights are answered and answers carry
    /// `Access-Control-Allow-Origin` (and expose `ETag`). Only the OFREP paths, and only
    /// with a token in `Authorization` — hand such pages an evaluation-only key. Default:
    /// none (same-origin only).
    ///
    /// ```
    /// use waygate::admin::WaygateAdmin;
    /// use waygate::Engine;
    ///
    /// let admin = WaygateAdmin::new(Engine::new()).ofrep_cors(["https://app.example.com"]);
    /// # let _ = admin;
    /// ```
    pub fn ofrep_cors<I, O>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<String>,
    {
        self.ofrep_origins = origins
            .into_iter()
            .map(|origin| origin.into().trim_end_matches('/').to_owned())
            .collect();
        self
    }

    /// Nests the admin in `app` at `path` (e.g. `/waygate`), and makes `{path}/` redirect to
    /// it: axum's `nest` serves the dashboard at `/waygate` only, while the address people
    /// type (and the Python original printed) is `/waygate/`.
    ///
    /// ```
    /// use waygate::admin::{Auth, WaygateAdmin};
    /// use waygate::Engine;
    ///
    /// let engine = Engine::new();
    /// let app: axum::Router = WaygateAdmin::new(engine)
    ///     .auth(Auth::single("admin", "secret"))
    ///     .nest_in(axum::Router::new(), "/waygate");
    /// ```
    pub fn nest_in<S>(self, app: Router<S>, path: &str) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let path = path.trim_end_matches('/').to_owned();
        let slashed = format!("{path}/");
        let target = path.clone();
        app.nest(&path, self.into_router()).route(
            &slashed,
            axum::routing::any(move || async move { axum::response::Redirect::permanent(&target) }),
        )
    }

    /// The router serving the API under `api/`, for any app state `S`: nest it where the
    /// CLI's server URL points (`app.nest("/waygate", admin.into_router())`).
    ///
    /// [`WaygateLayer`](crate::WaygateLayer) lets requests under its
    /// [`admin_path`](crate::WaygateLayer::admin_path) (default `/waygate`) through
    /// untouched; nest the admin there, or set the layer's admin path to match.
    pub fn into_router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.into_router_with(|_| Router::new())
    }

    /// [`into_router`](Self::into_router) with more endpoints behind the same auth (the
    /// Waygate Server's SDK endpoints).
    pub(crate) fn into_router_with<S>(
        self,
        extra: impl FnOnce(AdminState) -> Router<AdminState>,
    ) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let secret = self.signing_key().to_owned();
        let bypass = self.bypass_verifier();
        // The layer (any adapter) lets requests with this admin's bypass tokens through.
        bypass.install();
        let fingerprint = match &self.auth {
            Some(auth) => auth.fingerprint().to_owned(),
            None => auth::open_fingerprint(),
        };
        let state = AdminState(Arc::new(Shared {
            tokens: Tokens::new(
                &secret,
                &fingerprint,
                self.token_expiry,
                self.sdk_token_expiry,
            ),
            engine: self.engine,
            auth: self.auth,
            bypass,
            throttle: throttle::Throttle::new(self.login_throttle),
            secure_cookie: self.secure_cookie,
            ofrep_origins: self.ofrep_origins,
        }));
        let extra = extra(state.clone());
        routes::router(state, extra)
    }
}

impl std::fmt::Debug for WaygateAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret key.
        f.debug_struct("WaygateAdmin")
            .field("engine", &self.engine)
            .field("auth", &self.auth)
            .field("secret_key", &self.secret_key.as_ref().map(|_| ".."))
            .field("token_expiry", &self.token_expiry)
            .field("sdk_token_expiry", &self.sdk_token_expiry)
            .field("login_throttle", &self.login_throttle)
            .field("secure_cookie", &self.secure_cookie)
            .field("ofrep_origins", &self.ofrep_origins)
            .finish()
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AdminState(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) auth: Option<Auth>,
    pub(crate) tokens: Tokens,
    pub(crate) bypass: BypassVerifier,
    pub(crate) throttle: throttle::Throttle,
    /// Only the dashboard sets a cookie.
    #[cfg_attr(not(feature = "dashboard"), allow(dead_code))]
    pub(crate) secure_cookie: bool,
    /// The origins whose pages may call the OFREP paths.
    pub(crate) ofrep_origins: Vec<String>,
}

impl std::ops::Deref for AdminState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
