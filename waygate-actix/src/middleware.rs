//! The middleware users wrap an app in: [`Waygate`], its configuration, and the default
//! responses it sends for refused requests ([`Responses`]).

use crate::response::{BlockKind, Blocked, BoxResponseFuture, IntoFactoryResponse, RateLimited};
use crate::service::WaygateService;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use std::fmt;
use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;
use waygate_core::{Engine, ResponseDefaults, SkipPaths};

/// Enforces route state on every request of an actix-web [`App`](actix_web::App) (or
/// [`Scope`](actix_web::Scope)): the middleware, as a [`Transform`].
///
/// Route state is keyed by path template (`GET:/items/{id}`): the middleware finds the
/// pattern the request matches (scope prefixes included) among the templates the engine
/// knows, or asks actix-web (`HttpRequest::match_pattern`) when they cannot say, so it may
/// wrap the whole app.
///
/// ```
/// use actix_web::App;
/// use waygate_actix::prelude::*;
///
/// #[route(GET, "/payments")]
/// #[maintenance(reason = "DB migration")]
/// async fn payments() -> &'static str { "[]" }
///
/// let engine = Engine::new();
/// let routes = routes![payments];
/// let app = App::new()
///     .wrap(Waygate::new(engine.clone()))
///     .configure(routes.config(&engine));
/// # let _ = app;
/// ```
///
/// Requests under the admin path (default `/waygate`) pass untouched; change it with
/// [`admin_path`](Self::admin_path).
#[derive(Clone)]
pub struct Waygate {
    /// One shared allocation: the middleware is built once per worker.
    pub(crate) shared: Arc<Config>,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) engine: Engine,
    pub(crate) skip: SkipPaths,
    pub(crate) responses: Responses,
}

impl Waygate {
    /// A middleware enforcing `engine`'s state.
    pub fn new(engine: Engine) -> Self {
        // actix-web cannot tell a middleware the matched pattern cheaply: the engine's
        // snapshots name it instead.
        engine.match_paths();
        Self {
            shared: Arc::new(Config {
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

    /// The engine this middleware enforces.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }
}

#[cfg(feature = "admin")]
pub(crate) fn normalise(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.starts_with('/') {
        true => trimmed.to_owned(),
        false => format!("/{trimmed}"),
    }
}

impl<S, B> Transform<S, ServiceRequest> for Waygate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<actix_web::body::EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = WaygateService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WaygateService::new(
            Rc::new(service),
            Arc::clone(&self.shared),
        )))
    }
}

impl fmt::Debug for Waygate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waygate")
            .field("engine", &self.shared.engine)
            .field("skip", &self.shared.skip)
            .field("responses", &self.shared.responses)
            .finish()
    }
}

type BlockedFactory = dyn Fn(Blocked) -> BoxResponseFuture + Send + Sync;
type RateLimitedFactory = dyn Fn(RateLimited) -> BoxResponseFuture + Send + Sync;

/// Middleware-wide default responses for blocked requests, by kind of block. A route's own
/// `response = ..` wins over these; without either, the built-in JSON is sent.
///
/// ```
/// use actix_web::{http::StatusCode, HttpResponse};
/// use waygate_actix::{Blocked, Responses};
///
/// let responses = Responses::new()
///     .maintenance(|blocked: Blocked| {
///         HttpResponse::ServiceUnavailable().body(format!("<h1>Back soon</h1><p>{}</p>", blocked.reason))
///     })
///     .disabled(|_: Blocked| async { ("gone", StatusCode::GONE) });
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
        self.0
            .set_rate_limited(Arc::new(move |limited: RateLimited| {
                let request = limited.request.clone();
                factory(limited).into_future(request)
            }));
        self
    }
}

fn erase<F, R, M>(factory: F) -> Arc<BlockedFactory>
where
    F: Fn(Blocked) -> R + Send + Sync + 'static,
    R: IntoFactoryResponse<M>,
{
    Arc::new(move |blocked: Blocked| {
        let request = blocked.request.clone();
        factory(blocked).into_future(request)
    })
}
