//! An OpenAPI document that follows live route state, and Swagger UI with maintenance
//! banners (feature `openapi`).
//!
//! Build your document with [utoipa](https://docs.rs/utoipa) as usual and hand it to
//! [`WaygateOpenApi`]; its [`router`](WaygateOpenApi::router) serves `/openapi.json` and the
//! docs UI at `/docs`:
//!
//! ```rust,no_run
//! use axum::Router;
//! use utoipa::OpenApi;
//! use waygate::openapi::WaygateOpenApi;
//! use waygate::prelude::*;
//!
//! /// Lists the payments.
//! #[route] // reads the method and path of `#[utoipa::path]`
//! #[utoipa::path(get, path = "/payments", responses((status = 200, description = "Payments")))]
//! #[maintenance(reason = "DB migration")]
//! async fn payments() -> &'static str { "[]" }
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(payments))]
//! struct ApiDoc;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new();
//! engine.start().await?;
//! let docs = WaygateOpenApi::new(engine.clone(), ApiDoc::openapi());
//! let app = Router::new()
//!     .merge(routes![payments])
//!     .layer(WaygateLayer::new(engine.clone()))
//!     // After the layer: the docs are served whatever the routes' state.
//!     .merge(docs.router());
//! # let _: Router = app;
//! # Ok(())
//! # }
//! ```
//!
//! What the served document shows, as in the Python original:
//!
//! | route state | in `/openapi.json` |
//! |---|---|
//! | disabled | removed (a path with no operation left is removed) |
//! | env-gated, other env | removed |
//! | deprecated | `deprecated: true`, `x-waygate-sunset`, `x-waygate-successor` |
//! | maintenance (route or global) | `x-waygate-status: "maintenance"`, `x-waygate-reason`, a banner before the description, `🔧` before the summary |
//! | behind a flag (`#[feature_flag]`) | `x-waygate-feature-flag: "<key>"` (shown to everyone: the document is not evaluated per reader) |
//! | force-active, under global maintenance | unchanged (it is still served), unless the maintenance includes force-active routes |
//!
//! and `info.x-waygate-global-maintenance` is `{"enabled": false}` or `{"enabled": true,
//! "reason": .., "exempt_paths": [..]}`. Operations are looked up by their `METHOD:path`
//! key, then by the bare path; operations waygate has no state for are left alone.
//!
//! The filtered document is rebuilt only when the engine's snapshot generation moves (any
//! change, local or from another instance, and the start of a maintenance window); between
//! changes, serving it is an atomic load and a reference-counted copy of the bytes. It is
//! served with an `ETag`, and answers `If-None-Match` with `304`.
//!
//! # The docs UI
//!
//! `/docs` serves Swagger UI from the binary (no CDN) with a script that polls
//! `/openapi.json` (every 5 s by default, [`poll_interval`](WaygateOpenApi::poll_interval);
//! a conditional request, so an unchanged document costs a `304` with no body) and, when
//! the document changes, re-renders the operations and shows a site-wide maintenance banner
//! with the reason and exempt paths, or an "All systems operational" chip, and marks
//! operations in maintenance with a badge. Polling rather than SSE: the docs page is read by
//! API consumers, possibly many, and a conditional GET every few seconds holds no
//! connection or task on the server per open tab and passes through any proxy or CDN.

mod docs;
mod filter;

use crate::Engine;
use arc_swap::{ArcSwap, Guard};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get_service;
use axum::Router;
use bytes::Bytes;
use serde_json::Value;
use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tower_service::Service;

/// The default interval at which the docs page checks for changes.
const DEFAULT_POLL: Duration = Duration::from_secs(5);

/// A utoipa OpenAPI document filtered by live route state, and the router that serves it
/// with the docs UI. Cheap to clone: clones share one cache.
#[derive(Clone)]
pub struct WaygateOpenApi {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    base: Arc<filter::Prepared>,
    settings: Settings,
    cache: ArcSwap<Document>,
    rebuild: Mutex<()>,
    /// The docs page, rendered on first request.
    page: OnceLock<Bytes>,
}

#[derive(Debug, Clone)]
struct Settings {
    openapi_path: String,
    docs_path: Option<String>,
    title: String,
    poll: Duration,
}

impl Inner {
    fn new(engine: Engine, base: Arc<filter::Prepared>, settings: Settings) -> Self {
        Self {
            engine,
            base,
            settings,
            cache: ArcSwap::from_pointee(Document {
                generation: 0,
                body: Bytes::new(),
                etag: HeaderValue::from_static("\"\""),
            }),
            rebuild: Mutex::new(()),
            page: OnceLock::new(),
        }
    }
}

/// One build of the filtered document.
#[derive(Debug)]
struct Document {
    /// The snapshot generation it was built for (`0`: never built).
    generation: u64,
    body: Bytes,
    etag: HeaderValue,
}

impl WaygateOpenApi {
    /// Filters `openapi` (a utoipa document) by `engine`'s route state.
    pub fn new(engine: Engine, openapi: utoipa::openapi::OpenApi) -> Self {
        // A utoipa document is plain data: serialising it to JSON cannot fail.
        let base = serde_json::to_value(&openapi).unwrap_or_default();
        Self::from_json(engine, base)
    }

    /// Filters a document given as JSON (one built by another tool, or read from a file).
    pub fn from_json(engine: Engine, document: Value) -> Self {
        let title = document
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or("API")
            .to_owned();
        let settings = Settings {
            openapi_path: "/openapi.json".to_owned(),
            docs_path: Some("/docs".to_owned()),
            title,
            poll: DEFAULT_POLL,
        };
        Self {
            inner: Arc::new(Inner::new(
                engine,
                Arc::new(filter::Prepared::new(&document)),
                settings,
            )),
        }
    }

    /// Where the document is served (default `/openapi.json`). Call before [`router`](Self::router).
    pub fn openapi_path(mut self, path: &str) -> Self {
        self.configure(|s| s.openapi_path = normalise(path));
        self
    }

    /// Where the docs UI is served (default `/docs`); `None` serves no UI.
    pub fn docs_path(mut self, path: Option<&str>) -> Self {
        self.configure(|s| s.docs_path = path.map(normalise));
        self
    }

    /// How often the docs page checks the document for changes (default 5 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.configure(|s| s.poll = interval.max(Duration::from_millis(100)));
        self
    }

    fn configure(&mut self, change: impl FnOnce(&mut Settings)) {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => change(&mut inner.settings),
            None => {
                // Shared already: configure a copy, with a cache of its own.
                let mut settings = self.inner.settings.clone();
                change(&mut settings);
                let (engine, base) = (self.inner.engine.clone(), self.inner.base.clone());
                self.inner = Arc::new(Inner::new(engine, base, settings));
            }
        }
    }

    /// The filtered document as JSON bytes, rebuilt if the route state changed since the last
    /// call.
    pub fn json(&self) -> Bytes {
        self.current().body.clone()
    }

    /// The filtered document, parsed.
    pub fn document(&self) -> Value {
        serde_json::from_slice(&self.json()).unwrap_or_default()
    }

    /// The engine whose state the document follows.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// A router serving the document (`GET /openapi.json`) and the docs UI (`GET /docs`).
    /// Merge it after your `WaygateLayer` so the docs are served in every state.
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let router = Router::new().route(
            &self.inner.settings.openapi_path,
            get_service(ServeJson(self.clone())),
        );
        let router = match &self.inner.settings.docs_path {
            Some(path) => docs::routes(router, path),
            None => router,
        };
        router.with_state(self.clone())
    }

    /// The current build, rebuilding it when the snapshot generation moved. Between changes:
    /// two atomic reads, and no reference count touched.
    fn current(&self) -> Guard<Arc<Document>> {
        let generation = self.inner.engine.generation();
        let cached = self.inner.cache.load();
        if cached.generation == generation {
            return cached;
        }
        drop(cached);
        // One rebuild at a time; whoever waited finds it done.
        let _rebuild = self.inner.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        let cached = self.inner.cache.load();
        if cached.generation == generation {
            return cached;
        }
        drop(cached);
        self.inner.cache.store(Arc::new(self.build(generation)));
        self.inner.cache.load()
    }

    /// Filters the document for the engine's current state. The generation is read before
    /// the state, so a change racing the build only causes one more rebuild.
    fn build(&self, generation: u64) -> Document {
        let engine = &self.inner.engine;
        let states = engine.list_states();
        let global = engine.global_maintenance();
        let mut context =
            filter::Context::new(&states, &global, engine.current_env(), engine.now());
        context.flags = engine
            .declared_routes()
            .into_iter()
            .filter_map(|(key, meta)| Some((key, meta.feature_flag?.key)))
            .collect();
        let body = Bytes::from(self.inner.base.render(&context));
        let mut hasher = foldhash::fast::FixedState::with_seed(0x5741_5947).build_hasher();
        hasher.write(&body);
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
            .unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        Document {
            generation,
            body,
            etag,
        }
    }
}

impl fmt::Debug for WaygateOpenApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaygateOpenApi")
            .field("openapi_path", &self.inner.settings.openapi_path)
            .field("docs_path", &self.inner.settings.docs_path)
            .field("generation", &self.inner.cache.load().generation)
            .finish_non_exhaustive()
    }
}

/// `GET /openapi.json`: a service rather than a handler, so its future is a ready response
/// and the request is never moved into one.
#[derive(Clone)]
struct ServeJson(WaygateOpenApi);

impl Service<Request> for ServeJson {
    type Response = Response;
    type Error = Infallible;
    type Future = Ready<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        ready(Ok(serve_json(&self.0, request.headers())))
    }
}

fn serve_json(docs: &WaygateOpenApi, headers: &HeaderMap) -> Response {
    let document = docs.current();
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tag| tag == document.etag);
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let etag = (header::ETAG, document.etag.clone());
    if not_modified {
        return (StatusCode::NOT_MODIFIED, [cache, etag]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            cache,
            etag,
        ],
        document.body.clone(),
    )
        .into_response()
}

fn normalise(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    match trimmed.starts_with('/') {
        true => trimmed.to_owned(),
        false => format!("/{trimmed}"),
    }
}
