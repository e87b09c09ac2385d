//! Routes behind a feature flag (`#[feature_flag]`) through the axum layer: served to the
//! requests the flag is on for, the env-gated `404` (or the route's factory) to the rest,
//! and following changes to the flag at runtime.

mod common;

use axum::Router;
use common::counts::{counted, evaluated};
use common::get;
use http::StatusCode;
use serde_json::json;
use waygate::flags::{BoolFlag, EvaluationContext, FeatureFlag};
use waygate::model::Actor;
use waygate::prelude::*;
use waygate::{Identity, RequestOutcome};

#[flag(key = "new-checkout", default = false)]
static NEW_CHECKOUT: BoolFlag;

#[route(GET, "/checkout/v2")]
#[feature_flag(NEW_CHECKOUT)]
async fn checkout_v2() -> &'static str {
    "v2"
}

#[feature_flag("beta-search", response = |_: waygate::Blocked| (StatusCode::FORBIDDEN, "not yet"))]
#[route(GET, "/search/beta")]
async fn beta_search() -> &'static str {
    "beta"
}

/// The targeting key from `?user_id=`.
fn user_of(request: &http::request::Parts) -> EvaluationContext {
    let user = request
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("user_id="))
        .unwrap_or("anonymous");
    EvaluationContext::new(user)
}

/// A started engine whose `new-checkout` is the declared one changed by `change`.
async fn engine_with(change: impl FnOnce(&mut FeatureFlag)) -> Engine {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let mut flag = engine.flags().flag("new-checkout").unwrap().clone();
    change(&mut flag);
    engine.save_flag(flag, "operator").await.unwrap();
    engine
}

/// `/checkout/v2` behind the layer of `engine`.
fn checkout_v2_behind_the_layer(engine: &Engine) -> Router {
    Router::new()
        .merge(routes![checkout_v2])
        .layer(WaygateLayer::new(engine.clone()))
}

/// The status of `GET /checkout/v2` with `headers`.
async fn checkout_v2_status(app: &Router, headers: &[(&str, &str)]) -> StatusCode {
    let mut request = http::Request::get("/checkout/v2");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(axum::body::Body::empty()).unwrap();
    tower::ServiceExt::oneshot(app.clone(), request)
        .await
        .unwrap()
        .status()
}

/// Turns `new-checkout` on or off for everyone (its kill switch).
async fn switch_new_checkout(engine: &Engine, enabled: bool) {
    engine
        .set_flag_enabled("new-checkout", enabled, Actor::new("operator"))
        .await
        .unwrap();
}

/// The status of `GET /checkout/v2?user_id=<user>`.
async fn checkout_v2_for(app: &Router, user: &str) -> StatusCode {
    get(app, &format!("/checkout/v2?user_id={user}"))
        .await
        .status
}

#[tokio::test]
async fn a_route_behind_a_flag_is_served_to_whom_the_flag_is_on_for() {
    let engine = Engine::builder().flag_context(user_of).build();
    engine.start().await.unwrap();
    let app: Router = Router::new()
        .merge(routes![checkout_v2, beta_search])
        .layer(WaygateLayer::new(engine.clone()));

    // Declared default: off for everyone.
    assert_eq!(checkout_v2_for(&app, "ada").await, StatusCode::NOT_FOUND);
    let mut flag = engine.flags().flag("new-checkout").unwrap().clone();
    flag.targets = vec![("on".to_owned(), vec!["ada".to_owned()])];
    engine.save_flag(flag, "operator").await.unwrap();
    let served = get(&app, "/checkout/v2?user_id=ada").await;
    assert_eq!(
        (served.status, served.body.as_str()),
        (StatusCode::OK, "v2")
    );
    // The env-gated answer: as if the route did not exist.
    let refused = get(&app, "/checkout/v2?user_id=bob").await;
    let unknown = get(&app, "/no/such/route").await;
    assert_eq!(
        (refused.status, &refused.body),
        (StatusCode::NOT_FOUND, &unknown.body)
    );

    // A kill switch: off for everyone, the target included.
    switch_new_checkout(&engine, false).await;
    assert_eq!(checkout_v2_for(&app, "ada").await, StatusCode::NOT_FOUND);

    // A flag known by key only: absent, it is off (the route's own response); created on, served.
    let refused = get(&app, "/search/beta?user_id=ada").await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (StatusCode::FORBIDDEN, "not yet")
    );
    let beta: FeatureFlag = serde_json::from_value(json!({
        "key": "beta-search", "name": "Beta search", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "on"
    }))
    .unwrap();
    engine.save_flag(beta, "operator").await.unwrap();
    assert_eq!(
        get(&app, "/search/beta?user_id=ada").await.status,
        StatusCode::OK
    );

    // Counted as refused by a flag.
    assert_eq!(checkout_v2_counts(&engine), (1, 3));
}

/// The requests to `/checkout/v2` counted as allowed and as refused by its flag.
fn checkout_v2_counts(engine: &Engine) -> (u64, u64) {
    let key = "GET:/checkout/v2";
    (
        counted(engine, key, RequestOutcome::Allowed),
        counted(engine, key, RequestOutcome::FlagOff),
    )
}

/// How many times `new-checkout` was evaluated on and off.
fn new_checkout_evaluations(engine: &Engine) -> (u64, u64) {
    (
        evaluated(engine, "new-checkout", "on"),
        evaluated(engine, "new-checkout", "off"),
    )
}

#[tokio::test]
async fn a_route_served_many_times_evaluates_its_flag_once_per_request() {
    // A finalized router, as `axum::serve` makes one for a connection: after the first
    // request the flag serves, the route's slot answers, evaluating the flag itself.
    let engine = Engine::builder().flag_context(user_of).build();
    engine.start().await.unwrap();
    let mut flag = engine.flags().flag("new-checkout").unwrap().clone();
    flag.targets = vec![("on".to_owned(), vec!["ada".to_owned()])];
    engine.save_flag(flag, "operator").await.unwrap();
    let app = checkout_v2_behind_the_layer(&engine).with_state(());
    for round in 1..=4 {
        assert_eq!(checkout_v2_for(&app, "ada").await, StatusCode::OK);
        let refused = get(&app, "/checkout/v2?user_id=bob").await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "round {round}");
        let once = (round, round);
        assert_eq!(
            checkout_v2_counts(&engine),
            once,
            "each request counted once"
        );
        assert_eq!(new_checkout_evaluations(&engine), once, "evaluated once");
    }

    // A change to the flag reaches the next request, the slot's included.
    switch_new_checkout(&engine, false).await;
    assert_eq!(checkout_v2_for(&app, "ada").await, StatusCode::NOT_FOUND);
    // And a change to the route.
    switch_new_checkout(&engine, true).await;
    engine
        .disable("GET:/checkout/v2", "pulled", "operator")
        .await
        .unwrap();
    assert_eq!(
        checkout_v2_for(&app, "ada").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    engine.enable("GET:/checkout/v2", "operator").await.unwrap();
    for _ in 0..2 {
        assert_eq!(checkout_v2_for(&app, "ada").await, StatusCode::OK);
    }
    assert_eq!(checkout_v2_counts(&engine), (6, 5));
}

#[tokio::test]
async fn without_a_context_function_the_apps_context_then_the_client_decides() {
    let engine = engine_with(|flag| {
        flag.targets = vec![("on".to_owned(), vec!["grace".to_owned()])];
    })
    .await;
    let app = checkout_v2_behind_the_layer(&engine)
        // What an app's authentication middleware does: the context, in the extensions.
        .layer(axum::middleware::from_fn(
            |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
                let user = request
                    .headers()
                    .get("x-user")
                    .and_then(|v| v.to_str().ok());
                if let Some(user) = user.map(str::to_owned) {
                    request
                        .extensions_mut()
                        .insert(EvaluationContext::new(user));
                }
                next.run(request).await
            },
        ));
    for (user, expected) in [("grace", StatusCode::OK), ("linus", StatusCode::NOT_FOUND)] {
        let status = checkout_v2_status(&app, &[("x-user", user)]).await;
        assert_eq!(status, expected, "{user}");
    }
    // No context and no peer address: `anonymous`, not targeted.
    assert_eq!(
        get(&app, "/checkout/v2").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_default_context_follows_each_request_s_user_and_address() {
    let engine = engine_with(|flag| {
        flag.targets = vec![(
            "on".to_owned(),
            vec!["grace".to_owned(), "10.0.0.7".to_owned()],
        )];
        flag.rules = serde_json::from_value(json!([{
            "clauses": [{"attribute": "plan", "operator": "is", "values": ["enterprise"]}],
            "variation": "on"
        }]))
        .unwrap();
    })
    .await;
    let app = checkout_v2_behind_the_layer(&engine)
        // An app's authentication (`x-user`, `x-plan`) and the peer address axum's
        // `ConnectInfo` would carry (`x-peer` here).
        .layer(axum::middleware::from_fn(
            |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
                let headers = request.headers();
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let (user, plan, peer) = (header("x-user"), header("x-plan"), header("x-peer"));
                if let Some(user) = user {
                    let identity = match plan {
                        Some(plan) => Identity::user(user).plan(plan),
                        None => Identity::user(user),
                    };
                    request.extensions_mut().insert(identity);
                }
                if let Some(peer) = peer {
                    let addr: std::net::SocketAddr = format!("{peer}:4000").parse().unwrap();
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(addr));
                }
                next.run(request).await
            },
        ));
    // One thread serves them all, in this order: each answer is the request's own.
    let cases: [(&[(&str, &str)], StatusCode); 10] = [
        (&[("x-user", "grace")], StatusCode::OK),
        (&[("x-user", "grace")], StatusCode::OK),
        (&[("x-user", "linus")], StatusCode::NOT_FOUND),
        (
            &[("x-user", "linus"), ("x-plan", "enterprise")],
            StatusCode::OK,
        ),
        (&[("x-user", "linus")], StatusCode::NOT_FOUND),
        (&[("x-peer", "10.0.0.7")], StatusCode::OK),
        (&[("x-peer", "10.0.0.8")], StatusCode::NOT_FOUND),
        (&[("x-peer", "10.0.0.7")], StatusCode::OK),
        (
            &[("x-peer", "10.0.0.7"), ("x-user", "linus")],
            StatusCode::NOT_FOUND,
        ),
        (&[], StatusCode::NOT_FOUND),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            checkout_v2_status(&app, headers).await,
            expected,
            "{headers:?}"
        );
    }
}
