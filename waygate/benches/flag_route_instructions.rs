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

use axum::body::Body;
use axum::Router;
use http::{Request, StatusCode};
use serde_json::json;
use std::hint::black_box;
use tower::ServiceExt;
use waygate::flags::{BoolFlag, EvaluationContext, FeatureFlag};
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
static NEW_CHECKOUT: BoolFlag;

// The plain route's path is as long as the flagged one's: the router does the same work
// for both, and the difference is the gate's.
#[route(GET, "/checkout/v1")]
async fn checkout() -> &'static str {
    "v1"
}

#[route(GET, "/checkout/v2")]
#[feature_flag(NEW_CHECKOUT)]
async fn checkout_v2() -> &'static str {
    "v2"
}

/// The flags bench's flag (two targets, two rules, a 20 % rollout), with the gate's
/// context key (`anonymous`) among the targets of `on`.
fn flag() -> FeatureFlag {
    serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "targets": {"on": ["anonymous"]},
        "rules": [
            {"clauses": [{"attribute": "plan", "operator": "is", "values": ["enterprise"]}], "variation": "on"},
            {"clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@example.com"]}], "variation": "off"}
        ],
        "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}]
    }))
    .expect("a valid flag")
}

async fn serve(app: &Router, uri: &str) -> StatusCode {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

fn main() {
    let variant = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "flagged".to_owned());
    let n: usize = std::env::var("N").map_or(1_000, |n| n.parse().expect("N is a number"));
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
        engine.save_flag(flag(), "bench").await.unwrap();
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
