//! A driver for counting what a route behind a flag adds to a request, in instructions
//! (which, unlike time, do not move when other work shares the machine). It runs `N` times
//! (default 1,000) one of:
//!
//! - `plain`: a request to a plain route (`/checkout/v1`) through `WaygateLayer`;
//! - `flagged`: a request to a route behind a flag (`/checkout/v2`,
//!   `#[feature_flag(NEW_CHECKOUT)]`, the flag on for the request), through the same layer;
//! - `evaluation`: one evaluation of that flag, `engine.flags().bool(..)`, with the context
//!   the gate builds for the request (key `anonymous`: the request has no peer address),
//!   built once beforehand;
//! - `request-evaluation`: what a handler that reads the flag itself does per request: the
//!   request's context (`engine.evaluation_context(&parts)`, as the `FlagContext` extractor
//!   builds it), then that evaluation.
//!
//! `scripts/bench-instructions` runs each variant under callgrind twice and prints the
//! instructions per request: `flagged` over `plain` is what the gate costs, to set beside
//! `evaluation`. `cargo bench -p waygate --bench flag_route_instructions -- flagged` runs it
//! plainly.

use axum::Router;
use http::{Request, StatusCode};
use std::hint::black_box;
use waygate::flags::EvaluationContext;
use waygate::prelude::*;

#[path = "support/checkout_flag.rs"]
mod checkout_flag;
use checkout_flag::{checkout, checkout_v2, flag};

#[path = "support/driver.rs"]
mod driver;
use driver::{serve, variant_and_n};

fn main() {
    let (variant, n) = variant_and_n("flagged");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = Engine::new();
    let app: Router = Router::new()
        .merge(routes![checkout, checkout_v2])
        .layer(WaygateLayer::new(engine.clone()))
        .with_state(());
    runtime.block_on(async {
        engine.start().await.unwrap();
        engine
            .save_flag(flag(&["anonymous"]), "bench")
            .await
            .unwrap();
        for uri in ["/checkout/v1", "/checkout/v2"] {
            assert_eq!(serve(&app, uri).await, StatusCode::OK, "{uri}");
        }
        let anonymous = EvaluationContext::new("anonymous");
        match variant.as_str() {
            "plain" | "flagged" => {
                let uri = match variant.as_str() {
                    "plain" => "/checkout/v1",
                    _ => "/checkout/v2",
                };
                for _ in 0..n {
                    assert_eq!(serve(&app, uri).await, StatusCode::OK);
                }
            }
            "evaluation" => {
                for _ in 0..n {
                    let on = engine.flags().bool(
                        black_box("new-checkout"),
                        black_box(&anonymous),
                        false,
                    );
                    assert!(on);
                }
            }
            "request-evaluation" => {
                let (parts, ()) = Request::get("/checkout/v2").body(()).unwrap().into_parts();
                for _ in 0..n {
                    let ctx = engine.evaluation_context(black_box(&parts));
                    assert!(engine.flags().bool(black_box("new-checkout"), &ctx, false));
                }
            }
            other => {
                panic!("unknown variant {other}: plain, flagged, evaluation or request-evaluation")
            }
        }
    });
}
