//! Attach a service to a Waygate Server: its routes are registered there, managed from the
//! server's dashboard and CLI, and enforced here from a local snapshot. Framework-free: the
//! axum adapter offers it as `waygate::sdk` and the actix-web adapter as
//! `waygate_actix::sdk` (feature `sdk` of each).
//!
//! ```rust,no_run
//! use waygate_sdk::WaygateSdk;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sdk = WaygateSdk::builder("http://127.0.0.1:8001", "payments-service")
//!     // A service token (`waygate token create --service payments-service`), bound to
//!     // this service; or `.login(user, password)`, or nothing for an open server.
//!     .token(std::env::var("WAYGATE_TOKEN")?)
//!     .build()?;
//! sdk.start().await?;
//! // Enforce with the adapter's middleware on this engine, e.g. with axum:
//! // `.layer(WaygateLayer::new(sdk.engine().clone()))`; with actix-web:
//! // `.wrap(Waygate::new(sdk.engine().clone()))`.
//! let engine = sdk.engine();
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```
//!
//! The engine is an ordinary [`Engine`] whose backend is the server: every adapter's
//! middleware and extractor (axum's `WaygateLayer` and `Gate`, actix-web's `Waygate` and
//! `Gate`), the OpenAPI filter and the docs banner work on it, and a request costs what it
//! costs embedded — one snapshot load, no network call.
//!
//! # What it follows
//!
//! Everything set on the server for this service: route states, global maintenance, the
//! service's maintenance, global, per-service and per-route rate limits. On every connect
//! and reconnect it reads all of it again and **replaces** its picture (nothing stale
//! survives a server restart), registers its declared routes again (a server restarted on
//! an empty backend gets them back), then follows the server's SSE stream.
//!
//! # When the server is away
//!
//! It fails open on what it knew: at startup with the declared states, later with the last
//! snapshot. It says so once in the log, reconnects with exponential backoff and jitter
//! (0.5 s doubling to 30 s; never a tight loop), and says so again when it is back.
//!
//! # Changes made inside the service
//!
//! `engine.disable(..)` and the other route mutations, and the service's own maintenance,
//! are sent to the server (the change then reaches every instance of the service); they
//! fail when the server cannot be reached. What only a user may change — global
//! maintenance and rate limits — is changed on the server. The server audits what it is
//! sent; entries the engine writes locally are not sent again.
//!
//! # Wire
//!
//! The Python original's protocol (its `WaygateSDK` and `WaygateServer` interoperate with
//! ours both ways): `X-Waygate-App-Id` and `X-Waygate-Token` on every request, an
//! `sdk`-platform login, routes stored on the server as `"{app_id}:{METHOD}:{path}"`, and the
//! resync made of the server's plain REST endpoints (`api/routes?service=`, `api/global`,
//! `api/services/{app_id}/maintenance`, `api/global-rate-limit`,
//! `api/services/{app_id}/rate-limit`, `api/rate-limits`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod connection;
mod events;
mod forward;
mod http;
mod shared;
mod sse;
mod sync;
mod usage;

pub use backend::SdkBackend;

use std::sync::Arc;
use std::time::Duration;
use waygate_core::rate_limit::IpNetList;
use waygate_core::stored::RouteKey;
use waygate_core::{Engine, EngineError};

/// A service attached to a Waygate Server; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct WaygateSdk {
    engine: Engine,
    backend: Arc<SdkBackend>,
    flag_usage_every: Duration,
    usage: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

/// An SDK that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The server URL is not an `http(s)://` URL.
    #[error("invalid server URL `{0}`: expected http://host:port[/prefix]")]
    InvalidUrl(String),
    /// The app id is empty or not usable in a key.
    #[error("invalid app_id `{0}`: give a non-empty name without `:`, `/` or spaces, not all capitals, e.g. payments-service")]
    InvalidAppId(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// How the SDK authenticates to the server.
#[derive(Clone, Default)]
pub(crate) enum Credentials {
    /// An open server.
    #[default]
    None,
    /// A token issued beforehand (`waygate login`, or an `sdk` login).
    Token(String),
    /// A user: the SDK logs in with `"platform": "sdk"` and gets its own long-lived token.
    Login { username: String, password: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        match self {
            Self::None => f.write_str("None"),
            Self::Token(_) => f.write_str("Token(..)"),
            Self::Login { username, .. } => write!(f, "Login({username}, ..)"),
        }
    }
}

/// Configures a [`WaygateSdk`].
#[derive(Debug)]
#[must_use]
pub struct WaygateSdkBuilder {
    server_url: String,
    app_id: String,
    credentials: Credentials,
    env: Option<String>,
    trusted_proxies: IpNetList,
    backoff: (Duration, Duration),
    startup_wait: Duration,
    mounted_only: bool,
    flag_usage_every: Duration,
}

impl WaygateSdk {
    /// An SDK for service `app_id` of the server at `server_url` (its admin root, e.g.
    /// `http://waygate-server:8001`, or `http://app/waygate` for an admin nested there).
    pub fn builder(server_url: impl Into<String>, app_id: impl Into<String>) -> WaygateSdkBuilder {
        WaygateSdkBuilder {
            server_url: server_url.into(),
            app_id: app_id.into(),
            credentials: Credentials::None,
            env: None,
            trusted_proxies: IpNetList::default(),
            backoff: (Duration::from_millis(500), Duration::from_secs(30)),
            startup_wait: Duration::from_secs(5),
            mounted_only: false,
            flag_usage_every: Duration::from_secs(10),
        }
    }

    /// The engine to put behind the adapter's middleware (axum's `WaygateLayer`,
    /// actix-web's `Waygate`).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The backend: the service's picture of the server.
    pub fn backend(&self) -> &Arc<SdkBackend> {
        &self.backend
    }

    /// Connects (waiting for the first synchronisation at most the
    /// [startup wait](WaygateSdkBuilder::startup_wait)), registers the declared routes and
    /// starts following the server. When the server cannot be reached the engine enforces
    /// the declared states and connects in the background; only a backend error the engine
    /// cannot recover from is returned.
    ///
    /// From then on it reports to the server, every
    /// [`flag_usage_every`](WaygateSdkBuilder::flag_usage_every), when it last evaluated
    /// each flag (what the server's stale-flag report reads).
    pub async fn start(&self) -> Result<(), EngineError> {
        let started = self.engine.start().await;
        self.backend.declare(self.engine.declared_states());
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        if usage.is_none() {
            *usage = Some(tokio::spawn(usage::report(
                self.backend.shared().clone(),
                self.engine.clone(),
                self.flag_usage_every,
            )));
        }
        started
    }

    /// Stops following the server. The engine keeps enforcing its last snapshot.
    pub async fn shutdown(&self) {
        if let Some(task) = self.usage.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
        self.engine.shutdown().await;
    }
}

impl WaygateSdkBuilder {
    /// Logs in as this user (`"platform": "sdk"`): the server issues the service its own
    /// long-lived token, bound to the service. The SDK logs in again when the token stops
    /// being accepted (a restarted server with a new secret, say).
    pub fn login(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Credentials::Login {
            username: username.into(),
            password: password.into(),
        };
        self
    }

    /// Authenticates with a token issued beforehand.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::Token(token.into());
        self
    }

    /// The environment `env_only` routes are checked against (default `dev`).
    pub fn env(mut self, env: impl Into<String>) -> Self {
        self.env = Some(env.into());
        self
    }

    /// Proxies whose `X-Forwarded-For` names the client (see
    /// [`EngineBuilder::trusted_proxies`](waygate_core::EngineBuilder::trusted_proxies)).
    pub fn trusted_proxies(mut self, proxies: IpNetList) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// The first and the longest delay between reconnection attempts (default 0.5 s and
    /// 30 s); each failed attempt doubles it, with random jitter of up to half.
    pub fn reconnect_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = (first, max.max(first));
        self
    }

    /// How long [`WaygateSdk::start`] waits for the first synchronisation before serving
    /// the declared states (default 5 s).
    pub fn startup_wait(mut self, wait: Duration) -> Self {
        self.startup_wait = wait;
        self
    }

    /// Registers only the routes mounted on this engine (through axum's `WaygateRouter`, or
    /// actix-web's `routes!`), not every `#[route]` of the binary: for a binary that runs several
    /// services (each mounts its own routes), or serves routes it does not want managed.
    pub fn only_mounted_routes(mut self) -> Self {
        self.mounted_only = true;
        self
    }

    /// How often the service tells the server when it last evaluated each flag (default
    /// 10 s; only what changed is sent).
    pub fn flag_usage_every(mut self, every: Duration) -> Self {
        self.flag_usage_every = every.max(Duration::from_millis(100));
        self
    }

    /// Builds the SDK (nothing is sent until [`WaygateSdk::start`]).
    pub fn build(self) -> Result<WaygateSdk, SdkError> {
        let url = self.server_url.trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.split("://").nth(1).is_none_or(str::is_empty)
        {
            return Err(SdkError::InvalidUrl(self.server_url));
        }
        if !RouteKey::is_service_name(&self.app_id) {
            return Err(SdkError::InvalidAppId(self.app_id));
        }
        let backend = Arc::new(SdkBackend::new(shared::Config {
            base: url,
            app_id: self.app_id,
            credentials: self.credentials,
            backoff: self.backoff,
            startup_wait: self.startup_wait,
        })?);
        let mut engine = Engine::builder()
            .shared_backend(backend.clone())
            .trusted_proxies(self.trusted_proxies);
        if let Some(env) = self.env {
            engine = engine.env(env);
        }
        if self.mounted_only {
            engine = engine.without_declared_routes();
        }
        Ok(WaygateSdk {
            engine: engine.build(),
            backend,
            flag_usage_every: self.flag_usage_every,
            usage: Arc::default(),
        })
    }
}
