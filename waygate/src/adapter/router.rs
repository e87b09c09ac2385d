use super::mount::Guarded;
use crate::registry::RouteMeta;
use crate::Engine;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use std::fmt;
use waygate_core::join_path;

/// Declared routes, as `routes![..]` returns them: merge them into an
/// [`axum::Router`] (they convert into one) or hand them to a [`WaygateRouter`].
#[must_use]
pub struct Routes<S = ()> {
    entries: Vec<(&'static RouteMeta, Mount<S>)>,
}

/// How a declared route's handler becomes its method router, once the template it is mounted
/// at is known (its guard checks requests against it).
type Mount<S> = Box<dyn FnOnce(&'static RouteMeta, &str) -> MethodRouter<S> + Send + Sync>;

impl<S> Routes<S>
where
    S: Clone + Send + Sync + 'static,
{
    #[doc(hidden)]
    pub fn __new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    #[doc(hidden)]
    pub fn __route<H, T>(
        mut self,
        meta: &'static RouteMeta,
        methods: MethodFilter,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let mount: Mount<S> = Box::new(move |meta, path| {
            axum::routing::on(methods, Guarded::new(handler, meta, path))
        });
        self.entries.push((meta, mount));
        self
    }

    /// The routes' declarations.
    pub fn declared(&self) -> impl Iterator<Item = &'static RouteMeta> + '_ {
        self.entries.iter().map(|(meta, _)| *meta)
    }

    /// An axum router serving the routes under `prefix`, recording each route's full key.
    fn build(
        self,
        prefix: &str,
        mounts: &mut Vec<(String, &'static RouteMeta)>,
    ) -> axum::Router<S> {
        let mut router = axum::Router::new();
        for (meta, mount) in self.entries {
            let path = join_path(prefix, meta.path);
            mounts.push((format!("{}:{path}", meta.method), meta));
            router = router.route(&path, mount(meta, &path));
        }
        router
    }
}

impl<S> From<Routes<S>> for axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn from(routes: Routes<S>) -> Self {
        routes.build("", &mut Vec::new())
    }
}

impl<S> fmt::Debug for Routes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(meta, _)| meta.key))
            .finish()
    }
}

/// An axum router builder that keeps route keys right under `nest`: a route declared as
/// `/items/{id}` and nested under `/api` is known to the engine as `GET:/api/items/{id}`,
/// the path operators see.
///
/// ```
/// use waygate::prelude::*;
///
/// #[route(GET, "/items/{id}")]
/// #[disabled(reason = "use /v2")]
/// async fn get_item() -> &'static str { "item" }
///
/// let engine = Engine::new();
/// let app: axum::Router = WaygateRouter::new(&engine)
///     .nest("/api", WaygateRouter::new(&engine).routes(routes![get_item]))
///     .into_router()
///     .layer(WaygateLayer::new(engine.clone()));
/// assert!(engine.state("GET:/api/items/{id}").is_some());
/// ```
#[must_use]
pub struct WaygateRouter<S = ()> {
    engine: Engine,
    router: axum::Router<S>,
    pending: Vec<(String, Routes<S>)>,
}

impl<S> WaygateRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    /// An empty router whose declared routes are registered with `engine`.
    pub fn new(engine: &Engine) -> Self {
        Self {
            engine: engine.clone(),
            router: axum::Router::new(),
            pending: Vec::new(),
        }
    }

    /// Adds declared routes (from `routes![..]`).
    pub fn routes(mut self, routes: Routes<S>) -> Self {
        self.pending.push((String::new(), routes));
        self
    }

    /// Adds a plain axum route (its state is registered the first time it is requested).
    pub fn route(mut self, path: &str, handler: MethodRouter<S>) -> Self {
        self.router = self.router.route(path, handler);
        self
    }

    /// Merges a plain axum router.
    pub fn merge(mut self, other: impl Into<axum::Router<S>>) -> Self {
        self.router = self.router.merge(other);
        self
    }

    /// Nests another `WaygateRouter` under `prefix`; its declared routes are keyed by their
    /// full paths.
    pub fn nest(mut self, prefix: &str, other: WaygateRouter<S>) -> Self {
        for (inner, routes) in other.pending {
            self.pending.push((join_path(prefix, &inner), routes));
        }
        if other.router.has_routes() {
            self.router = self.router.nest(prefix, other.router);
        }
        self
    }

    /// The axum router, with every declared route registered under its full key.
    pub fn into_router(self) -> axum::Router<S> {
        let mut mounts = Vec::new();
        let mut router = self.router;
        for (prefix, routes) in self.pending {
            router = router.merge(routes.build(&prefix, &mut mounts));
        }
        self.engine.register_mounts(mounts);
        router
    }
}

impl<S> From<WaygateRouter<S>> for axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn from(router: WaygateRouter<S>) -> Self {
        router.into_router()
    }
}

impl<S> fmt::Debug for WaygateRouter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaygateRouter")
            .field("engine", &self.engine)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}
