//! Configuring an engine in code, or from the environment and a `.waygate` file.

use super::Engine;
use crate::backend::{Backend, MemoryBackend};
use crate::config::{self, BackendKind, ConfigError, Settings};
use crate::decide::ClientIpHeader;
use crate::flags::EvaluationContext;
use crate::rate_limit::IpNetList;
use std::path::PathBuf;
use std::sync::Arc;

/// Builds an [`Engine`]. Explicit settings beat `WAYGATE_*` environment variables, which beat
/// the `.waygate` file, which beats the defaults (memory backend, env `dev`).
///
/// ```
/// use waygate_core::{backend::MemoryBackend, Engine};
///
/// let engine = Engine::builder()
///     .backend(MemoryBackend::new())
///     .env("production")
///     .build();
/// assert_eq!(engine.current_env(), "production");
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct EngineBuilder {
    backend: Option<Arc<dyn Backend>>,
    settings: Settings,
    requests: RequestSettings,
    skip_declared: bool,
}

/// How the engine reads requests: set on the builder, fixed for the engine's life.
#[derive(Debug, Default)]
pub(super) struct RequestSettings {
    pub(super) trusted_proxies: IpNetList,
    pub(super) client_ip_header: ClientIpHeader,
    pub(super) fail_closed: bool,
    pub(super) flag_context: Option<FlagContextFn>,
}

/// The function that makes a request's evaluation context for `#[feature_flag]` routes.
#[derive(Clone)]
pub(crate) struct FlagContextFn(
    pub(crate) Arc<dyn Fn(&http::request::Parts) -> EvaluationContext + Send + Sync>,
);

impl std::fmt::Debug for FlagContextFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlagContextFn(..)")
    }
}

impl EngineBuilder {
    /// Stores state in `backend`.
    pub fn backend(self, backend: impl Backend) -> Self {
        self.shared_backend(Arc::new(backend))
    }

    /// Stores state in a backend shared with other engines.
    pub fn shared_backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// The environment `env_only` routes are checked against (default `dev`).
    pub fn env(mut self, env: impl Into<String>) -> Self {
        self.settings.env = Some(env.into());
        self
    }

    /// Proxies (IPs or CIDRs) whose client-IP header ([`client_ip_header`](Self::client_ip_header),
    /// `X-Forwarded-For` by default) is trusted to name the client for rate limiting. From any
    /// other peer the header is ignored: the peer address is the client.
    pub fn trusted_proxies(mut self, proxies: IpNetList) -> Self {
        self.requests.trusted_proxies = proxies;
        self
    }

    /// How a request becomes the evaluation context of the flag a `#[feature_flag]` route is
    /// served behind (the route is served when the flag is `true` for it). Default: the
    /// [`EvaluationContext`] the app put in the request's extensions, else
    /// [`Engine::evaluation_context`] (the authenticated user, else the client address).
    ///
    /// ```
    /// use waygate_core::flags::EvaluationContext;
    /// use waygate_core::Engine;
    ///
    /// // The targeting key from a `user_id` query parameter.
    /// let engine = Engine::builder()
    ///     .flag_context(|request| {
    ///         let query = request.uri.query().unwrap_or_default();
    ///         let user = query
    ///             .split('&')
    ///             .find_map(|pair| pair.strip_prefix("user_id="))
    ///             .unwrap_or("anonymous");
    ///         EvaluationContext::new(user)
    ///     })
    ///     .build();
    /// # let _ = engine;
    /// ```
    pub fn flag_context<F>(mut self, context: F) -> Self
    where
        F: Fn(&http::request::Parts) -> EvaluationContext + Send + Sync + 'static,
    {
        self.requests.flag_context = Some(FlagContextFn(Arc::new(context)));
        self
    }

    /// The header a trusted proxy names the client in (default `X-Forwarded-For`). Set it to
    /// what your proxy writes: a proxy that sets only `X-Real-IP` passes a client's own
    /// `X-Forwarded-For` through, and reading that header would let the client choose its
    /// rate-limit key.
    ///
    /// ```
    /// use waygate_core::rate_limit::IpNetList;
    /// use waygate_core::{ClientIpHeader, Engine};
    ///
    /// let engine = Engine::builder()
    ///     .trusted_proxies(IpNetList::parse(&["10.0.0.0/8".to_owned()]).unwrap())
    ///     .client_ip_header(ClientIpHeader::XRealIp)
    ///     .build();
    /// assert_eq!(engine.client_ip_header(), ClientIpHeader::XRealIp);
    /// ```
    pub fn client_ip_header(mut self, header: ClientIpHeader) -> Self {
        self.requests.client_ip_header = header;
        self
    }

    /// Whether a rate-limited request is refused (`true`) or let through uncounted
    /// (`false`, the default) when the backend's shared counters fail (Redis is down, say).
    /// Either way the failure is counted ([`Engine::rate_limit_storage_errors`]) and logged
    /// once per outage. Refused requests get a `429` with `Retry-After: 1`.
    pub fn rate_limit_fail_closed(mut self, fail_closed: bool) -> Self {
        self.requests.fail_closed = fail_closed;
        self
    }

    /// Ignores the routes declared with `#[route]` in this binary: the engine then knows only
    /// what its backend holds. A Waygate Server uses this: it stores the routes of the services
    /// that register with it, and must not seed the routes of the binary it runs in.
    pub fn without_declared_routes(mut self) -> Self {
        self.skip_declared = true;
        self
    }

    /// Which built-in backend [`build_from_env`](Self::build_from_env) creates.
    pub fn backend_kind(mut self, kind: BackendKind) -> Self {
        self.settings.backend = Some(kind);
        self
    }

    /// The state file of the file backend (default `waygate-state.json`).
    pub fn file_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.file_path = Some(path.into());
        self
    }

    /// The URL of the Redis backend (default `redis://localhost:6379/0`, or
    /// `WAYGATE_REDIS_URL`), when [`build_from_env`](Self::build_from_env) creates one.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.settings.redis_url = Some(url.into());
        self
    }

    /// Reads this file instead of looking for `.waygate` from the working directory upwards.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.config_file = Some(path.into());
        self
    }

    /// Builds the engine from the explicit settings only: the given backend (or a new
    /// [`MemoryBackend`]) and env (or `dev`).
    pub fn build(self) -> Engine {
        let backend = self
            .backend
            .unwrap_or_else(|| Arc::new(MemoryBackend::new()));
        let env = self
            .settings
            .env
            .unwrap_or_else(|| config::DEFAULT_ENV.to_owned());
        Engine::from_parts(backend, env, self.requests, self.skip_declared)
    }

    /// Builds the engine, filling what was not set explicitly from `WAYGATE_BACKEND`,
    /// `WAYGATE_FILE_PATH`, `WAYGATE_REDIS_URL`, `WAYGATE_ENV` and the `.waygate` file (the Python original's
    /// `make_engine`).
    pub fn build_from_env(self) -> Result<Engine, ConfigError> {
        let resolved = config::resolve(self.settings, &|name| std::env::var(name).ok())?;
        let backend = match self.backend {
            Some(backend) => backend,
            None => resolved.backend()?,
        };
        Ok(Engine::from_parts(
            backend,
            resolved.env,
            self.requests,
            self.skip_declared,
        ))
    }
}

impl Engine {
    /// An engine configured by the environment: `WAYGATE_BACKEND` (`memory` | `file` |
    /// `redis`), `WAYGATE_FILE_PATH`, `WAYGATE_REDIS_URL`, `WAYGATE_ENV`, and the `.waygate` file found in the working
    /// directory or a parent. See [`EngineBuilder::build_from_env`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::builder().build_from_env()
    }
}
