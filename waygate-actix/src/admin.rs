//! The admin REST API (and, with the `dashboard` feature, the web dashboard) for actix-web
//! apps, served by the app itself at its admin path (default `/waygate`).
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use waygate_actix::admin::{AdminService, Auth, WaygateAdmin};
//! use waygate_actix::{Engine, Waygate};
//!
//! # async fn run() -> std::io::Result<()> {
//! let engine = Engine::new();
//! // Built once: every worker serves the same admin (one token key, one set of sessions).
//! let admin = AdminService::new(
//!     WaygateAdmin::new(engine.clone()).auth(Auth::single("admin", "secret")),
//!     "/waygate",
//! );
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(Waygate::new(engine.clone()))
//!         .configure(admin.config())
//! })
//! .bind(("127.0.0.1", 8000))?
//! .run()
//! .await
//! # }
//! ```
//!
//! # Why through actix-web, and how
//!
//! The admin is `waygate`'s: the same endpoints, token format, audit entries and dashboard
//! the Python CLI and `waygate-cli` are tested against. Rather than write it a second time
//! for actix-web (two implementations of one wire protocol drift apart), or make the app
//! open a second port for it (a second address to secure, proxy and document, and a CLI URL
//! that is not the app's), [`AdminService`] serves it inside the actix-web app: each request
//! under the admin path is handed, as an `http` 1 request with its body, to the admin's axum
//! router, and the router's response is streamed back (the dashboard's live updates are
//! server-sent events). The cost is paid by admin requests only: the
//! [`Waygate`](crate::Waygate) middleware lets them through untouched, and no other request
//! goes near the bridge.

use crate::head::method;
use crate::middleware::normalise;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use axum::body::HttpBody;
use std::fmt;
pub use waygate::admin::{Auth, AuthBackend, WaygateAdmin};

/// The admin API (and dashboard), mounted in an actix-web app at its path. Cheap to clone:
/// build it once, outside `HttpServer::new`, and hand each worker's app its
/// [`config`](Self::config).
#[derive(Clone)]
pub struct AdminService {
    router: axum::Router,
    path: String,
}

impl AdminService {
    /// Serves `admin` at `path` (e.g. `/waygate`: the CLI's server URL is the app's address
    /// followed by it). Set the middleware's [`admin_path`](crate::Waygate::admin_path) to
    /// the same path when it is not the default.
    pub fn new(admin: WaygateAdmin, path: &str) -> Self {
        let path = normalise(path);
        Self {
            router: admin.nest_in(axum::Router::new(), &path),
            path,
        }
    }

    /// Where the admin is served.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What [`App::configure`](actix_web::App::configure) takes: a scope at the admin path
    /// whose every request the admin answers.
    pub fn config(&self) -> impl FnOnce(&mut ServiceConfig) + 'static {
        let router = self.router.clone();
        let path = self.path.clone();
        move |config: &mut ServiceConfig| {
            config.service(web::scope(&path).default_service(web::to(
                move |request: HttpRequest, body: Bytes| bridge(router.clone(), request, body),
            )));
        }
    }
}

impl fmt::Debug for AdminService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminService")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// One admin request: actix-web's request to the axum router, and its response back.
async fn bridge(mut router: axum::Router, request: HttpRequest, body: Bytes) -> HttpResponse {
    let mut builder = http::Request::builder()
        .method(method(request.method()))
        .uri(request.uri().to_string());
    for (name, value) in request.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let mut forwarded = match builder.body(axum::body::Body::from(body)) {
        Ok(forwarded) => forwarded,
        Err(error) => {
            return HttpResponse::BadRequest().json(serde_json::json!({
                "error": {"code": "BAD_REQUEST", "message": error.to_string()}
            }))
        }
    };
    if let Some(peer) = request.peer_addr() {
        forwarded
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
    }
    let response = {
        use tower_service::Service;
        // The router is always ready.
        let _ = std::future::poll_fn(|cx| {
            Service::<http::Request<axum::body::Body>>::poll_ready(&mut router, cx)
        })
        .await;
        match router.call(forwarded).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    };
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        // actix-web frames the body itself.
        if name == http::header::CONTENT_LENGTH || name == http::header::TRANSFER_ENCODING {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append_header((name, value));
        }
    }
    // A body of known size (every API answer) is sent whole; the rest (the dashboard's
    // server-sent events) is streamed.
    match HttpBody::size_hint(&body).exact() {
        Some(0) => out.finish(),
        Some(size) => match axum::body::to_bytes(body, size as usize).await {
            Ok(bytes) => out.body(bytes),
            Err(_) => HttpResponse::InternalServerError().finish(),
        },
        None => out.streaming(body.into_data_stream()),
    }
}
