//! Routes behind a feature flag (`#[feature_flag]`) through the actix-web middleware, over
//! real HTTP: the same decision as the axum layer (served to whom the flag is on for, the
//! env-gated `404` or the route's factory to the rest).

// The axum crate's tests read counts the same way.
#[path = "../../waygate/tests/common/counts.rs"]
#[allow(dead_code, unreachable_pub)]
mod counts;
mod harness;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

use actix_web::HttpResponse;
use counts::{counted, evaluated};
use harness::{block, serve};
use serde_json::json;
use waygate_actix::flags::{BoolFlag, EvaluationContext, FeatureFlag};
use waygate_actix::model::Actor;
use waygate_actix::prelude::*;
use waygate_actix::{Blocked, RequestOutcome, Waygate};

#[flag(key = "new-checkout", default = false)]
static NEW_CHECKOUT: BoolFlag;

#[route(GET, "/checkout/v2")]
#[feature_flag(NEW_CHECKOUT)]
async fn checkout_v2() -> &'static str {
    "v2"
}

fn later(_: Blocked) -> HttpResponse {
    HttpResponse::Forbidden().body("not yet")
}

#[route(GET, "/search/beta")]
#[feature_flag("beta-search", response = later)]
async fn beta_search() -> &'static str {
    "beta"
}

/// The targeting key from the `x-user` header.
fn user_of(request: &http::request::Parts) -> EvaluationContext {
    let user = request.headers.get("x-user").and_then(|v| v.to_str().ok());
    EvaluationContext::new(user.unwrap_or("anonymous"))
}

#[test]
fn a_route_behind_a_flag_is_served_to_whom_the_flag_is_on_for() {
    let engine = Engine::builder().flag_context(user_of).build();
    let routes = routes![checkout_v2, beta_search];
    let config_engine = engine.clone();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), move |cfg| {
        routes.config(&config_engine)(cfg);
    });
    let as_user = |path: &str, user: &str| app.send("GET", path, &[("x-user", user)], None);
    assert_eq!(as_user("/checkout/v2", "ada").status, 404);
    let mut flag = engine.flags().flag("new-checkout").unwrap().clone();
    flag.targets = vec![("on".to_owned(), vec!["ada".to_owned()])];
    block(engine.save_flag(flag, "operator")).unwrap();
    let served = as_user("/checkout/v2", "ada");
    assert_eq!((served.status, served.body.as_str()), (200, "v2"));
    let refused = as_user("/checkout/v2", "bob");
    assert_eq!((refused.status, refused.body.as_str()), (404, ""));

    let refused = as_user("/search/beta", "ada");
    assert_eq!((refused.status, refused.body.as_str()), (403, "not yet"));
    let beta: FeatureFlag = serde_json::from_value(json!({
        "key": "beta-search", "name": "Beta search", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "on"
    }))
    .unwrap();
    block(engine.save_flag(beta, "operator")).unwrap();
    assert_eq!(as_user("/search/beta", "ada").status, 200);
}

#[test]
fn a_route_served_many_times_evaluates_its_flag_once_per_request() {
    // After the first request the flag serves, the worker's slot for the template answers,
    // evaluating the flag itself; a request the flag is off for is refused without a second
    // evaluation.
    let engine = Engine::builder().flag_context(user_of).build();
    let routes = routes![checkout_v2];
    let config_engine = engine.clone();
    let app = serve(&engine, Some(Waygate::new(engine.clone())), move |cfg| {
        routes.config(&config_engine)(cfg);
    });
    let mut flag = engine.flags().flag("new-checkout").unwrap().clone();
    flag.targets = vec![("on".to_owned(), vec!["ada".to_owned()])];
    block(engine.save_flag(flag, "operator")).unwrap();
    let status = |user: &str| {
        app.send("GET", "/checkout/v2", &[("x-user", user)], None)
            .status
    };
    let key = "GET:/checkout/v2";
    let outcomes = || {
        let allowed = counted(&engine, key, RequestOutcome::Allowed);
        (allowed, counted(&engine, key, RequestOutcome::FlagOff))
    };
    let evaluations = || {
        let on = evaluated(&engine, "new-checkout", "on");
        (on, evaluated(&engine, "new-checkout", "off"))
    };
    for round in 1..=4 {
        assert_eq!((status("ada"), status("bob")), (200, 404), "round {round}");
        assert_eq!(outcomes(), (round, round), "each request counted once");
        assert_eq!(evaluations(), (round, round), "each request evaluated once");
    }
    // Changes reach the next request: the route's, then the flag's.
    block(engine.disable("GET:/checkout/v2", "pulled", "operator")).unwrap();
    assert_eq!(status("ada"), 503);
    block(engine.enable("GET:/checkout/v2", "operator")).unwrap();
    assert_eq!((status("ada"), status("ada")), (200, 200));
    let off = engine.set_flag_enabled("new-checkout", false, Actor::new("operator"));
    block(off).unwrap();
    assert_eq!(status("ada"), 404);
    assert_eq!(outcomes(), (6, 5));
}
