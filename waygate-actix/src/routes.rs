//! Mounting handlers declared with `#[route]` into an actix-web app: [`Routes`], what
//! `routes![..]` returns, and the guard on each declared resource that refuses, loudly,
//! requests reaching it under a path waygate was not told about (e.g. inside a
//! `web::scope` the routes were not [nested](Routes::nest) under), which would otherwise
//! bypass the route's state.

use crate::future::ResponseFuture;
use crate::pattern::{GateTemplates, PatternCache, Seen};
use crate::template::to_actix;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::Method;
use actix_web::web::{self, ServiceConfig};
use actix_web::{guard, Error, FromRequest, Handler, Responder};
use std::fmt;
use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use waygate_core::registry::RouteMeta;
use waygate_core::{join_path, Engine, MountCheck};

/// Builds a declared handler's actix-web route (once per worker).
type MakeRoute = Arc<dyn Fn() -> actix_web::Route + Send + Sync>;

/// The method a declared route answers, as the macros name it (`MethodFilter::GET`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct MethodFilter(&'static str);

#[doc(hidden)]
impl MethodFilter {
    pub const GET: Self = Self("GET");
    pub const POST: Self = Self("POST");
    pub const PUT: Self = Self("PUT");
    pub const DELETE: Self = Self("DELETE");
    pub const PATCH: Self = Self("PATCH");
    pub const HEAD: Self = Self("HEAD");
    pub const OPTIONS: Self = Self("OPTIONS");
    pub const TRACE: Self = Self("TRACE");
    pub const CONNECT: Self = Self("CONNECT");

    /// `route` answering this method; a `GET` route answers `HEAD` too, as in axum.
    fn apply(self, route: actix_web::Route) -> actix_web::Route {
        match self.0 {
            "GET" => route.guard(guard::Any(guard::Get()).or(guard::Head())),
            method => route.method(Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET)),
        }
    }
}

/// The route factory of one declared handler, as `routes![..]` writes it.
#[doc(hidden)]
pub fn route<F, Args>(filter: MethodFilter, handler: F) -> MakeRoute
where
    F: Handler<Args> + Send + Sync,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Arc::new(move || filter.apply(web::route()).to(handler.clone()))
}

/// Declared routes, as `routes![..]` returns them: mount them with
/// [`App::configure`](actix_web::App::configure) and [`config`](Self::config), which
/// registers each route with the engine under its full key.
///
/// Cheap to clone (the server factory runs once per worker): build them once, outside
/// `HttpServer::new`.
///
/// ```
/// use actix_web::App;
/// use waygate_actix::prelude::*;
///
/// #[route(GET, "/items/{id}")]
/// #[disabled(reason = "use /v2")]
/// async fn get_item() -> &'static str { "item" }
///
/// let engine = Engine::new();
/// let api = routes![get_item].nest("/api");
/// let app = App::new()
///     .wrap(Waygate::new(engine.clone()))
///     .configure(api.config(&engine));
/// # let _ = app;
/// assert!(engine.state("GET:/api/items/{id}").is_some());
/// ```
#[derive(Clone)]
#[must_use]
pub struct Routes {
    entries: Vec<Entry>,
    registered: Arc<AtomicBool>,
}

#[derive(Clone)]
struct Entry {
    meta: &'static RouteMeta,
    /// The full path template, nest and scope prefixes included (waygate's syntax): the
    /// route's key, and the pattern its requests match.
    path: String,
    /// The path its resource is registered at, in the `ServiceConfig` it is mounted in.
    mount: String,
    make: MakeRoute,
}

impl Routes {
    #[doc(hidden)]
    pub fn __new() -> Self {
        Self {
            entries: Vec::new(),
            registered: Arc::default(),
        }
    }

    #[doc(hidden)]
    pub fn __route(mut self, meta: &'static RouteMeta, make: MakeRoute) -> Self {
        self.entries.push(Entry {
            meta,
            path: meta.path.to_owned(),
            mount: meta.path.to_owned(),
            make,
        });
        self
    }

    /// The routes' declarations.
    pub fn declared(&self) -> impl Iterator<Item = &'static RouteMeta> + '_ {
        self.entries.iter().map(|entry| entry.meta)
    }

    /// Serves the routes under `prefix`: a route declared as `/items/{id}` and nested under
    /// `/api` is served at `/api/items/{id}` and known to the engine as
    /// `GET:/api/items/{id}`, the path operators see.
    pub fn nest(mut self, prefix: &str) -> Self {
        for entry in &mut self.entries {
            entry.path = join_path(prefix, &entry.path);
            entry.mount = join_path(prefix, &entry.mount);
        }
        self
    }

    /// Says that the routes are mounted inside `web::scope(prefix)` (their resources keep
    /// their declared paths, the scope adds the prefix): a route declared as `/items/{id}` is
    /// known to the engine as `GET:/api/items/{id}`.
    ///
    /// ```
    /// use actix_web::{web, App};
    /// use waygate_actix::prelude::*;
    ///
    /// #[route(GET, "/orders/{id}")]
    /// async fn order() -> &'static str { "order" }
    ///
    /// let engine = Engine::new();
    /// let api = routes![order].under("/api");
    /// let app = App::new()
    ///     .wrap(Waygate::new(engine.clone()))
    ///     .service(web::scope("/api").configure(api.config(&engine)));
    /// # let _ = app;
    /// assert!(engine.state("GET:/api/orders/{id}").is_some());
    /// ```
    pub fn under(mut self, scope: &str) -> Self {
        for entry in &mut self.entries {
            entry.path = join_path(scope, &entry.path);
        }
        self
    }

    /// Adds other declared routes (with their own prefixes).
    pub fn merge(mut self, other: Routes) -> Self {
        self.entries.extend(other.entries);
        self
    }

    /// Records every route's full key with `engine` (once, whichever clone asks first; the
    /// later calls do nothing). [`config`](Self::config) calls it.
    pub fn register(&self, engine: &Engine) {
        if self.registered.swap(true, Ordering::AcqRel) {
            return;
        }
        let mounts = self
            .entries
            .iter()
            .map(|entry| (format!("{}:{}", entry.meta.method, entry.path), entry.meta))
            .collect();
        engine.register_mounts(mounts);
    }

    /// What [`App::configure`](actix_web::App::configure) (or `Scope::configure`, for a
    /// scope at the root) takes: the routes, one resource per path, each registered with
    /// `engine` under its full key. Mount them at the app's root, or in the
    /// `web::scope` named with [`under`](Self::under): a scope waygate was not told about
    /// would move them away from the keys it knows, and their guard then answers `500`
    /// `WAYGATE_UNKNOWN_MOUNT` rather than let their state be bypassed.
    pub fn config(&self, engine: &Engine) -> impl FnOnce(&mut ServiceConfig) + 'static {
        self.register(engine);
        // The guards name a path's template from the engine's snapshots (no walk).
        engine.match_paths();
        let engine = engine.clone();
        let entries = self.entries.clone();
        move |config: &mut ServiceConfig| {
            // Where a `Gate` in these routes' handlers finds their templates (this app's, on
            // this worker: `config` runs once per worker).
            config.app_data(GateTemplates::default());
            // One resource per path: actix-web picks the first resource whose path matches,
            // so the methods of one path must share it.
            let mut paths: Vec<(&str, &str)> = Vec::new();
            for entry in &entries {
                let pair = (entry.mount.as_str(), entry.path.as_str());
                if !paths.contains(&pair) {
                    paths.push(pair);
                }
            }
            for (mount, path) in paths {
                let on_path: Vec<&Entry> = entries
                    .iter()
                    .filter(|e| e.mount == mount && e.path == path)
                    .collect();
                let metas = on_path.iter().map(|e| e.meta).collect();
                let guard = MountGuard::new(&engine, path, metas);
                let mut resource = web::resource(to_actix(mount).as_ref());
                for entry in on_path {
                    resource = resource.route((entry.make)());
                }
                config.service(resource.wrap(guard));
            }
        }
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|entry| format!("{}:{}", entry.meta.method, entry.path)),
            )
            .finish()
    }
}

/// Refuses requests to a declared resource that arrive under an unexpected pattern.
#[derive(Clone)]
struct MountGuard {
    check: Rc<MountCheck>,
    engine: Engine,
}

impl MountGuard {
    fn new(engine: &Engine, expected: &str, metas: Vec<&'static RouteMeta>) -> Self {
        let advice = "Mount it at the app's root with `Routes::nest`, or name its scope with \
                      `Routes::under`";
        Self {
            check: Rc::new(MountCheck::new(expected, metas, advice)),
            engine: engine.clone(),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for MountGuard
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = MountGuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(MountGuardService {
            service,
            check: Rc::clone(&self.check),
            engine: self.engine.clone(),
            templates: PatternCache::default(),
        }))
    }
}

pub(crate) struct MountGuardService<S> {
    service: S,
    check: Rc<MountCheck>,
    engine: Engine,
    templates: PatternCache,
}

impl<S> fmt::Debug for MountGuardService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountGuardService")
            .field("expected", &self.check.expected())
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for MountGuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let path = request.path();
        // A path the engine's templates say is the expected one's needs no walk (see
        // `pattern.rs`; actix-web decodes percent-encoded paths, the matcher does not).
        let expected = self.check.expected();
        if !path.contains('%') && self.engine.snapshot().match_path(path) == Some(expected) {
            return ResponseFuture::plain(self.service.call(request));
        }
        let matched = (self.templates).routed(None, request.request(), path);
        match self.check.check(matched.as_deref().map(Seen::template)) {
            Some(refused) => {
                let response = crate::convert::response(refused);
                let (request, _payload) = request.into_parts();
                ResponseFuture::ready(ServiceResponse::new(request, response).map_into_right_body())
            }
            None => ResponseFuture::plain(self.service.call(request)),
        }
    }
}
