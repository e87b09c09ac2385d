use super::response::{BlockKind, Blocked, BoxResponseFuture, IntoFactoryResponse, RateLimited};
use super::Waygate;
use crate::Engine;
use std::fmt;
use std::sync::Arc;
use tower_layer::Layer;
use waygate_core::{ResponseDefaults, SkipPaths};

/// Enforces route state on every request of an axum [`Router`](axum::Router).
///
/// Apply it with [`Router::layer`](axum::Router::layer), after the routes are added, so that
/// it sees each request's [`MatchedPath`](axum::extract::MatchedPath) — route state is keyed by
/// path template (`GET:/items/{id}`).
///
/// ```
/// use axum::Router;
/// use waygate::prelude::*;
///
/// #[route(GET, "/payments")]
/// #[maintenance(reason = "DB migration")]
/// async fn payments() -> &'static str { "[]" }
///
/// let engine = Engine::new();
/// let app: Router = Router::new()
///     .merge(routes![payments])
///     .layer(WaygateLayer::new(engine.clone()));
/// ```
///
/// Requests under the admin path (default `/waygate`) pass untouched; change it with
/// [`admin_path`](Self::admin_path).
#[derive(Clone)]
pub struct WaygateLayer {
    /// One shared allocation, so that the per-request clone of the service is a single
    /// reference-count increment.
    pub(crate) shared: Arc<LayerConfig>,
}

#[derive(Debug, Clone)]
pub(crate) struct LayerConfig {
    pub(crate) engine: Engine,
    pub(crate) skip: SkipPaths,
    pub(crate) responses: Responses,
}

impl WaygateLayer {
    /// A layer enforcing `engine`'s state.
    pub fn new(engine: Engine) -> Self {
        Self {
            shared: Arc::new(LayerConfig {
                engine,
                skip: SkipPaths::default(),
                responses: Responses::default(),
            }),
        }
    }

    /// Where the admin API and dashboard are mounted (default `/waygate`); requests under it
    /// are never blocked.
    pub fn admin_path(mut self, path: &str) -> Self {
        Arc::make_mut(&mut self.shared).skip.set_admin_path(path);
        self
    }

    /// Another path prefix whose requests are never checked (e.g. `/docs`).
    pub fn skip_path(mut self, path: &str) -> Self {
        Arc::make_mut(&mut self.shared).skip.add(path);
        self
    }

    /// Default responses for blocked requests of routes without their own `response = ..`.
    pub fn responses(mut self, responses: Responses) -> Self {
        Arc::make_mut(&mut self.shared).responses = responses;
        self
    }

    /// The engine this layer enforces.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }
}

impl<S> Layer<S> for WaygateLayer {
    type Service = Waygate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Waygate::new(inner, self.clone())
    }
}

impl fmt::Debug for WaygateLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaygateLayer")
            .field("engine", &self.shared.engine)
            .field("skip", &self.shared.skip)
            .field("responses", &self.shared.responses)
            .finish()
    }
}

type BlockedFactory = dyn Fn(Blocked) -> BoxResponseFuture + Send + Sync;
type RateLimitedFactory = dyn Fn(RateLimited) -> BoxResponseFuture + Send + Sync;

/// Layer-wide default responses for blocked requests, by kind of block. A route's own
/// `response = ..` wins over these; without either, the built-in JSON is sent.
///
/// ```
/// use axum::response::Html;
/// use waygate::{Blocked, Responses};
///
/// let responses = Responses::new()
///     .maintenance(|blocked: Blocked| Html(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason)))
///     .disabled(|_: Blocked| async { (http::StatusCode::GONE, "gone") });
/// ```
#[derive(Clone, Default, Debug)]
pub struct Responses(pub(crate) ResponseDefaults<BlockedFactory, RateLimitedFactory>);

impl Responses {
    /// No defaults: the built-in responses.
    pub fn new() -> Self {
        Self::default()
    }

    /// The response for maintenance (route or global); sync or async.
    pub fn maintenance<F, R, M>(mut self, factory: F) -> Self
    where
        F: Fn(Blocked) -> R + Send + Sync + 'static,
        R: IntoFactoryResponse<M>,
    {
        self.0.set_blocked(BlockKind::Maintenance, erase(factory));
        self
    }

    /// The response for disabled routes; sync or async.
    pub fn disabled<F, R, M>(mut self, factory: F) -> Self
    where
        F: Fn(Blocked) -> R + Send + Sync + 'static,
        R: IntoFactoryResponse<M>,
    {
        self.0.set_blocked(BlockKind::Disabled, erase(factory));
        self
    }

    /// The response for env-gated routes outside their environments (default: empty `404`).
    pub fn env_gated<F, R, M>(mut self, factory: F) -> Self
    where
        F: Fn(Blocked) -> R + Send + Sync + 'static,
        R: IntoFactoryResponse<M>,
    {
        self.0.set_blocked(BlockKind::EnvGated, erase(factory));
        self
    }

    /// The response for requests over a rate limit (default: the built-in `429`); sync or
    /// async.
    pub fn rate_limited<F, R, M>(mut self, factory: F) -> Self
    where
        F: Fn(RateLimited) -> R + Send + Sync + 'static,
        R: IntoFactoryResponse<M>,
    {
        let factory = move |limited| factory(limited).into_future();
        self.0.set_rate_limited(Arc::new(factory));
        self
    }
}

fn erase<F, R, M>(factory: F) -> Arc<BlockedFactory>
where
    F: Fn(Blocked) -> R + Send + Sync + 'static,
    R: IntoFactoryResponse<M>,
{
    Arc::new(move |blocked| factory(blocked).into_future())
}
