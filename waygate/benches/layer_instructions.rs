//! A driver for counting the instructions the layer adds to a request, which, unlike time,
//! does not move when other work shares the machine. It serves `N` requests (default 1,000)
//! through one variant of the `layer` bench's router of 1,000 routes:
//!
//! - `bare`: axum alone;
//! - `noop`: axum with a layer that does nothing (what any `Router::layer` costs);
//! - `floor`, `floor-blocked`: axum with the least a layer that refuses by route template
//!   does (`support/floor_layer.rs`: it reads the matched template, compares it with the one
//!   it refuses, and wraps the inner future), a request it serves and one it refuses;
//! - `allowed`: `WaygateLayer`, a request to an active route;
//! - `blocked`: `WaygateLayer`, a request to a disabled route;
//! - `bare-static`, `blocked-static`: axum alone, and `WaygateLayer` with the route
//!   disabled, for a route without parameters (whose refusal's body is made with the
//!   snapshot, whole);
//! - `bare-declared`, `declared`, `allowed-declared`: a `#[route]` handler mounted as a plain
//!   axum route, with `routes!` (its mount guard), and with `routes!` under `WaygateLayer`;
//! - `connection-` before any of these (`connection-noop`, `connection-allowed`): each
//!   request on a connection of its own, for which `axum::serve` turns every handler of a
//!   router without state into its service again, layers applied. `scripts/bench-instructions`
//!   leaves these out (each request converts 1,000 routes): count them with `N=20` and
//!   `N=40`.
//!
//! `scripts/bench-instructions` runs it under callgrind twice per variant and prints the
//! instructions per request: `cargo bench -p waygate --bench layer_instructions -- allowed`
//! runs it plainly.

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use std::time::Duration;
use waygate::{route, routes, Engine, WaygateLayer};

#[path = "support/floor_layer.rs"]
mod floor_layer;
use floor_layer::FloorLayer;

#[path = "support/layer_fixture.rs"]
mod layer_fixture;
use layer_fixture::{as_served, router};

const ALLOWED: &str = "/items501/42";
const BLOCKED: &str = "/items503/42";
const BLOCKED_TEMPLATE: &str = "/items503/{id}";
const BLOCKED_STATIC: &str = "/static/r502";
const DECLARED: &str = "/declared/42";

/// A declared route, beside the fixture's 1,000.
#[route(GET, "/declared/{id}")]
async fn declared() -> &'static str {
    "ok"
}

#[path = "support/driver.rs"]
mod driver;
use driver::{serve, variant_and_n};

fn main() {
    let (variant, n) = variant_and_n("allowed");
    let per_connection = variant.starts_with("connection-");
    let variant = variant.trim_start_matches("connection-").to_owned();
    let engine = Engine::new();
    let (unserved, uri, status): (Router, _, _) = match variant.as_str() {
        "bare" => (router(), ALLOWED, StatusCode::OK),
        "noop" => (
            router().layer(tower::util::MapRequestLayer::new(|r: Request<Body>| r)),
            ALLOWED,
            StatusCode::OK,
        ),
        "floor" => (router().layer(FloorLayer(BLOCKED_TEMPLATE)), ALLOWED, StatusCode::OK),
        "floor-blocked" => (
            router().layer(FloorLayer(BLOCKED_TEMPLATE)),
            BLOCKED,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        "allowed" => (
            router().layer(WaygateLayer::new(engine.clone())),
            ALLOWED,
            StatusCode::OK,
        ),
        "blocked" => (
            router().layer(WaygateLayer::new(engine.clone())),
            BLOCKED,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        "bare-static" => (router(), BLOCKED_STATIC, StatusCode::OK),
        "blocked-static" => (
            router().layer(WaygateLayer::new(engine.clone())),
            BLOCKED_STATIC,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        "bare-declared" => (
            router().route("/declared/{id}", get(declared)),
            DECLARED,
            StatusCode::OK,
        ),
        "declared" => (router().merge(routes![declared]), DECLARED, StatusCode::OK),
        "allowed-declared" => (
            router()
                .merge(routes![declared])
                .layer(WaygateLayer::new(engine.clone())),
            DECLARED,
            StatusCode::OK,
        ),
        other => panic!(
            "unknown variant {other}: bare, noop, floor, floor-blocked, allowed, blocked, bare-static, blocked-static, \
             bare-declared, declared or allowed-declared (each also after `connection-`)"
        ),
    };
    let app = as_served(unserved.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        engine.start().await.unwrap();
        // Let the layer register the routes, then disable the blocked one.
        for uri in [ALLOWED, BLOCKED, BLOCKED_STATIC, DECLARED] {
            serve(&app, uri).await;
        }
        let layered = ["allowed", "blocked", "blocked-static", "allowed-declared"]
            .contains(&variant.as_str());
        if layered {
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(engine
                .snapshot()
                .knows(&http::Method::GET, "/items501/{id}"));
        }
        let disabled = match variant.as_str() {
            "blocked" => Some(format!("GET:{BLOCKED_TEMPLATE}")),
            "blocked-static" => Some("GET:/static/r502".to_owned()),
            _ => None,
        };
        if let Some(route) = disabled {
            engine.disable(&route, "bench", "bench").await.unwrap();
        }
        for _ in 0..n {
            let served = match per_connection {
                true => serve(&as_served(unserved.clone()), uri).await,
                false => serve(&app, uri).await,
            };
            assert_eq!(served, status);
        }
    });
}
