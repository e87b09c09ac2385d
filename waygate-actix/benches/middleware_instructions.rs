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
//! - `blocked`: `Waygate`, a request to a disabled route.
//!
//! Run under callgrind twice per variant (N=1000 and N=2000: the difference over 1,000 is the
//! per-request count, set-up excluded), as `scripts/bench-instructions` does:
//! `cargo bench -p waygate-actix --bench middleware_instructions -- allowed` runs it plainly.

use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::test::init_service;
use actix_web::App;
use waygate_actix::{Engine, Waygate};

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
            "fresh" | "bare-fresh" => (allowed, true, StatusCode::OK),
            "blocked" => (blocked, false, StatusCode::SERVICE_UNAVAILABLE),
            other => {
                panic!("unknown variant {other}: bare, noop, allowed, fresh, bare-fresh or blocked")
            }
        };
        let next = || match fresh {
            true => fresh_request(route),
            false => request(route),
        };
        macro_rules! drive {
            ($app:expr) => {{
                let app = init_service($app.configure(routes(routes_count))).await;
                if !variant.starts_with("bare") && variant != "noop" {
                    register_all(&engine, &app, &[allowed, blocked], blocked).await;
                }
                for _ in 0..n {
                    let response = app.call(next()).await.unwrap();
                    assert_eq!(response.status(), status);
                }
            }};
        }
        match variant.as_str() {
            "bare" | "bare-fresh" => drive!(App::new()),
            "noop" => drive!(App::new().wrap_fn(|request, service| service.call(request))),
            _ => drive!(App::new().wrap(Waygate::new(engine.clone()))),
        }
    });
}
