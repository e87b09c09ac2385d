//! A driver for counting the instructions the middleware adds to a request, which, unlike
//! time, does not move when other work shares the machine. It serves `N` requests (default
//! 1,000) through one variant of the `middleware` bench's app of 1,000 routes (`ROUTES`):
//!
//! - `bare`: actix-web alone;
//! - `noop`: actix-web with a middleware that does nothing (`wrap_fn`);
//! - `allowed`: `Waygate`, a request to an active route (a path the worker has seen);
//! - `fresh`: `Waygate`, requests to an active route with a new id each (the template is
//!   named by the snapshot's path matcher, not remembered by path);
//! - `bare-fresh`: actix-web alone, the same requests;
//! - `routes-fresh`: `Waygate`, requests with a new id each to a route mounted with
//!   `routes!` (its mount guard checks every request's template too), after the others;
//! - `bare-routes-fresh`: actix-web alone, the same route and requests;
//! - `gate-fresh`: no middleware, a route like it whose handler takes a `Gate`;
//! - `bare-gate-fresh`: actix-web alone, that route and its requests;
//! - `blocked`: `Waygate`, a request to a disabled route.
//!
//! Run under callgrind twice per variant (N=1000 and N=2000: the difference over 1,000 is the
//! per-request count, set-up excluded), as `scripts/bench-instructions` does:
//! `cargo bench -p waygate-actix --bench middleware_instructions -- allowed` runs it plainly.

use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::test::init_service;
use actix_web::App;
use waygate_actix::prelude::*;
use waygate_actix::{Engine, Waygate};

/// A declared route, mounted with `routes!` beside the bench's 1,000 plain ones.
#[route(GET, "/declared/{id}")]
async fn declared() -> &'static str {
    "ok"
}

/// A route like it, enforced by a `Gate` in the handler.
#[route(GET, "/gated/{id}")]
async fn gated(gate: Gate) -> impl actix_web::Responder {
    gate.respond("ok")
}

/// `{prefix}/{id}` with an id no request had before.
fn fresh_declared(prefix: &str) -> actix_http::Request {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    actix_web::test::TestRequest::get()
        .uri(&format!("{prefix}/{id}"))
        .to_request()
}

#[path = "support/fixture.rs"]
mod fixture;
use fixture::{fresh_request, register_all, request, routes};

fn main() {
    let variant = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "allowed".to_owned());
    let n: usize = std::env::var("N").map_or(1_000, |n| n.parse().expect("N is a number"));
    // `ROUTES=10` for a small app; the requested routes sit in the middle, parameterised.
    let routes_count: usize =
        std::env::var("ROUTES").map_or(1_000, |n| n.parse().expect("ROUTES is a number"));
    let allowed = (routes_count / 2) | 1;
    let blocked = allowed + 2;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let engine = Engine::new();
        engine.start().await.unwrap();
        let (route, fresh, status) = match variant.as_str() {
            "bare" | "noop" | "allowed" => (allowed, false, StatusCode::OK),
            "fresh" | "bare-fresh" | "routes-fresh" | "bare-routes-fresh" | "gate-fresh"
            | "bare-gate-fresh" => (allowed, true, StatusCode::OK),
            "blocked" => (blocked, false, StatusCode::SERVICE_UNAVAILABLE),
            other => {
                panic!(
                    "unknown variant {other}: bare, noop, allowed, fresh, bare-fresh, \
                     routes-fresh, bare-routes-fresh, gate-fresh, bare-gate-fresh or blocked"
                )
            }
        };
        let next = || match (fresh, variant.as_str()) {
            (true, "routes-fresh" | "bare-routes-fresh") => fresh_declared("/declared"),
            (true, "gate-fresh" | "bare-gate-fresh") => fresh_declared("/gated"),
            (true, _) => fresh_request(route),
            (false, _) => request(route),
        };
        macro_rules! drive {
            ($app:expr) => {{
                let app = init_service($app).await;
                if !variant.starts_with("bare") && variant != "noop" && variant != "gate-fresh" {
                    register_all(&engine, &app, &[allowed, blocked], blocked).await;
                }
                for _ in 0..n {
                    let response = app.call(next()).await.unwrap();
                    assert_eq!(response.status(), status);
                }
            }};
        }
        match variant.as_str() {
            "bare" | "bare-fresh" => drive!(App::new().configure(routes(routes_count))),
            "noop" => drive!(App::new()
                .wrap_fn(|request, service| service.call(request))
                .configure(routes(routes_count))),
            "bare-routes-fresh" => drive!(App::new()
                .configure(routes(routes_count))
                .route("/declared/{id}", actix_web::web::get().to(declared))),
            "bare-gate-fresh" => drive!(App::new()
                .configure(routes(routes_count))
                .route("/gated/{id}", actix_web::web::get().to(declared))),
            "gate-fresh" => drive!(App::new().app_data(engine.clone()).configure(
                |config: &mut actix_web::web::ServiceConfig| {
                    routes(routes_count)(config);
                    routes![gated].config(&engine)(config);
                }
            )),
            // The declared route after the 1,000 others: actix-web walks past them all.
            "routes-fresh" => drive!(App::new().wrap(Waygate::new(engine.clone())).configure(
                |config: &mut actix_web::web::ServiceConfig| {
                    routes(routes_count)(config);
                    routes![declared].config(&engine)(config);
                }
            )),
            _ => drive!(App::new()
                .wrap(Waygate::new(engine.clone()))
                .configure(routes(routes_count))),
        }
    });
}
