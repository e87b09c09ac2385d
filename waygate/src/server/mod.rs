//! The Waygate Server: one control plane for a fleet of services.
//!
//! A [`WaygateServer`] owns the route state of many services. It serves the admin REST API
//! and dashboard at its root (the CLI's server URL is `http://host:port`) and the endpoints
//! services attach through: `POST api/sdk/register` (routes, and the flags the service's
//! code declares: the server creates those it lacks), `GET api/sdk/events` (SSE), `POST
//! api/sdk/audit` and `POST api/sdk/flag-usage` (when the service last evaluated each flag,
//! for `GET api/flags/stale`), plus a public `GET health`. Services attach with
//! `waygate::sdk::WaygateSdk` (the `sdk` feature) — or the Python original's `WaygateSDK`, which
//! speaks the same protocol — and enforce the state from a local snapshot.
//!
//! ```rust,no_run
//! use std::time::Duration;
//! use waygate::admin::Auth;
//! use waygate::backend::MemoryBackend;
//! use waygate::server::WaygateServer;
//!
//! # async fn run() -> std::io::Result<()> {
//! let server = WaygateServer::new(MemoryBackend::new())
//!     .auth(Auth::single("admin", "secret"))
//!     .token_expiry(Duration::from_secs(3600)) // people: CLI and dashboard
//!     .sdk_token_expiry(Duration::from_secs(365 * 24 * 3600)); // services
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8001").await?;
//! // Serves until the future completes (Ctrl-C, SIGTERM: `tokio::signal`).
//! server.serve(listener, std::future::pending()).await
//! # }
//! ```
//!
//! # Any backend
//!
//! Memory (state dies with the process: services register their declared defaults again
//! when it comes back, undoing what operators set — `waygate serve` keeps a file by
//! default for that reason), file, or Redis (`rediss://` for TLS) — several server instances on one Redis behind a load
//! balancer serve one fleet: a change made on one reaches the services streaming from the
//! others, because each instance's stream reports what its engine sees, wherever the change
//! was made.
//!
//! # What it sends services
//!
//! Each service's stream carries its own routes, global maintenance and rate limit, its
//! service's maintenance and rate limit, and the per-route rate limits of its routes (with
//! the paths it serves). A service that connects — or reconnects — reads all of that first,
//! so what was set before it connected applies at once.
//!
//! Wire: `data: <one-line JSON>\n\n` frames, `{"type": "state", "payload": <RouteState>}` for
//! routes and for the global and service records (as their sentinel states, an empty
//! `reason` when a rate limit was removed), and `{"type": "rl_policy", "action": "set" |
//! "delete", "key", "policy"}` for per-route limits, as the Python original sends them; a
//! `: keepalive` comment every 15 s.
//!
//! # Security
//!
//! With [`auth`](WaygateServer::auth), every endpoint but login, logout and `health` needs a token.
//! A service needs no password: an operator makes it a **service token**
//! (`waygate token create --service payments --ttl 1y`, `POST api/tokens`, or the
//! dashboard's service panel) and the service uses it (`WaygateSdk::builder(..).token(..)`).
//! A service may also log in with `"platform": "sdk"` naming its `app_id` (in the body, or
//! the `X-Waygate-App-Id` header every SDK sends); an sdk login naming none gets `400`. Every
//! sdk token this server issues is bound to one service, and:
//!
//! * registers, streams, audits and changes routes for its own service only (`403` for
//!   another `app_id`);
//! * reads its own service's records and the fleet-wide ones an SDK needs (global
//!   maintenance, the global rate limit), never another service's routes, the audit log or
//!   the service list;
//! * cannot open the dashboard, make tokens, or change global settings.
//!
//! Audit entries a service sends get their actor, platform, time and id from the server. A
//! stream (SDK or dashboard) carries nothing once its token is revoked (`api/auth/logout`
//! with it) or expires, and ends; a reconnect with it gets `401` after a few seconds, so a
//! client that reconnects at once does not spin.
//!
//! Failed logins are throttled per (username, client) pair and per client: guesses from many
//! addresses lock those addresses, never the operator's. Texts with control characters are
//! refused (`400` naming the field); a register call takes at most 2,000 routes and a
//! service at most 5,000 (`413`). [`serve`](WaygateServer::serve) closes connections that do
//! not send a request head within 15 s and holds at most 10,000 open
//! ([`connection_limits`](WaygateServer::connection_limits)).
//!
//! # Logs
//!
//! Through `tracing`, with structured fields: every change applied (`event`, `route`,
//! `service`, `status`, `actor`, `platform`, `reason`), each SDK stream opened and closed
//! (`app_id`, `streams`), each registration (`app_id`, `routes`), backend trouble. Install a
//! subscriber to see them; `waygate serve --log-format json` writes one JSON object per line.
//!
//! # Lifecycle
//!
//! [`start`](WaygateServer::start) loads the backend (policies restored, maintenance windows armed)
//! and starts the stream; [`serve`](WaygateServer::serve) does it for you and, on its shutdown
//! signal, ends every SSE stream so the graceful shutdown completes.

mod change_log;
pub(crate) mod hub;
mod sdk;

use crate::admin::{Auth, WaygateAdmin};
use crate::backend::Backend;
use crate::serve::ConnectionLimits;
use crate::{Engine, EngineError};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use hub::Hub;
use serde_json::json;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The Waygate Server, configured (see the [module docs](self)).
#[derive(Debug, Clone)]
#[must_use = "serve it: `server.serve(listener, shutdown).await`"]
pub struct WaygateServer {
    engine: Engine,
    admin: WaygateAdmin,
    hub: Arc<Hub>,
    closing: Arc<watch::Sender<bool>>,
    started: Arc<AtomicBool>,
    limits: ConnectionLimits,
}

impl WaygateServer {
    /// A server storing state in `backend`, open to anyone until [`auth`](Self::auth).
    pub fn new(backend: impl Backend) -> Self {
        Self::with_shared_backend(Arc::new(backend))
    }

    /// A server on a backend shared with other engines (another server instance, say).
    pub fn with_shared_backend(backend: Arc<dyn Backend>) -> Self {
        let engine = Engine::builder()
            .shared_backend(backend)
            .without_declared_routes()
            .build();
        Self {
            admin: WaygateAdmin::new(engine.clone()),
            hub: Hub::new(engine.clone()),
            engine,
            closing: Arc::new(watch::channel(false).0),
            started: Arc::default(),
            limits: ConnectionLimits::default(),
        }
    }

    /// Requires a token from a user of `auth` on every endpoint but login, logout and
    /// `health`.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.admin = self.admin.auth(auth);
        self
    }

    /// The key tokens are signed with; set it so tokens survive a restart and are accepted
    /// by every instance (see [`WaygateAdmin::secret_key`]).
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.admin = self.admin.secret_key(secret_key);
        self
    }

    /// How long CLI and dashboard tokens (people) are valid (default 24 hours).
    pub fn token_expiry(mut self, expiry: Duration) -> Self {
        self.admin = self.admin.token_expiry(expiry);
        self
    }

    /// How long service (`sdk`) tokens are valid (default one year).
    pub fn sdk_token_expiry(mut self, expiry: Duration) -> Self {
        self.admin = self.admin.sdk_token_expiry(expiry);
        self
    }

    /// How many failed logins lock a username for one client, or a client IP (see
    /// [`LoginThrottle`](crate::admin::LoginThrottle)).
    pub fn login_throttle(mut self, throttle: crate::admin::LoginThrottle) -> Self {
        self.admin = self.admin.login_throttle(throttle);
        self
    }

    /// Lets web pages on `origins` (or `*`) evaluate flags over OFREP from the browser (see
    /// [`WaygateAdmin::ofrep_cors`]).
    pub fn ofrep_cors<I, O>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<String>,
    {
        self.admin = self.admin.ofrep_cors(origins);
        self
    }

    /// The header-read timeout and connection cap [`serve`](Self::serve) applies (default:
    /// 15 s, 10,000 connections; see [`ConnectionLimits`]).
    pub fn connection_limits(mut self, limits: ConnectionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The engine that owns the fleet's state.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// How many SDK streams are open.
    pub fn connected_streams(&self) -> usize {
        self.hub.connections()
    }

    /// Loads the backend and starts following it and streaming to services. Calling it
    /// again does nothing. If the backend cannot be read the error is returned, and the
    /// engine retries in the background.
    pub async fn start(&self) -> Result<(), EngineError> {
        let loaded = self.engine.start().await;
        if !self.started.swap(true, Ordering::SeqCst) {
            tokio::spawn(self.hub.clone().run(self.closing.subscribe()));
            tokio::spawn(change_log::run(
                self.engine.clone(),
                self.closing.subscribe(),
            ));
        }
        loaded
    }

    /// Ends every SDK stream (services reconnect elsewhere or later, and keep enforcing
    /// their last snapshot meanwhile).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// The app: `GET health`, the admin API and dashboard at the root, the SDK endpoints.
    ///
    /// Serving it yourself, give it the peer address
    /// (`into_make_service_with_connect_info::<SocketAddr>()`): without it, the login
    /// throttle limits failures per username only, not per client, and logs show no client.
    /// [`serve`](Self::serve) does.
    pub fn router(&self) -> Router {
        let sdk_state = sdk::SdkState {
            hub: self.hub.clone(),
            closing: self.closing.subscribe(),
        };
        let api = self.admin.clone().into_router_with(move |_| {
            Router::new()
                .route("/api/sdk/register", post(sdk::register))
                .route("/api/sdk/events", get(sdk::events))
                .route("/api/sdk/audit", post(sdk::audit))
                .route("/api/sdk/flag-usage", post(sdk::flag_usage))
                .layer(Extension(sdk_state))
        });
        let engine = self.engine.clone();
        let hub = self.hub.clone();
        Router::new()
            .route(
                "/health",
                get(move || async move {
                    let states = engine.list_states();
                    let services: std::collections::BTreeSet<_> =
                        states.iter().filter_map(|s| s.service.as_deref()).collect();
                    Json(json!({
                        "status": "ok",
                        "routes": states.len(),
                        "services": services.len(),
                        "sdk_streams": hub.connections(),
                    }))
                }),
            )
            .merge(api)
    }

    /// Starts the server and serves it on `listener` until `shutdown` completes; then ends
    /// the SDK streams, lets requests in flight finish, and stops the engine. Connections
    /// get the [`connection_limits`](Self::connection_limits): a request head must arrive
    /// within 15 s (an idle keep-alive connection is closed after as long; an SSE stream
    /// never is), and at most 10,000 connections are open.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Err(error) = self.start().await {
            tracing::error!(%error, "waygate server: cannot load the backend; retrying in the background");
        }
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "waygate server: listening");
        }
        let closing = self.closing.clone();
        // With the peer address: the login throttle also counts failures per client.
        let served = crate::serve::serve(listener, self.router())
            .limits(self.limits)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("waygate server: shutting down; closing the SDK streams");
                closing.send_replace(true);
            })
            .await;
        self.engine.shutdown().await;
        served
    }
}
