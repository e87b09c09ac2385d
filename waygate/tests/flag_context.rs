//! `FlagContext`: the evaluation context a handler gets — the one the app put in the
//! request, else the authenticated user, else the client's address — and a flag evaluated
//! with it.

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::routing::get;
use axum::Router;
use http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use std::net::SocketAddr;
use tower::ServiceExt;
use waygate::flags::{EvaluationContext, FeatureFlag};
use waygate::{Engine, FlagContext, Identity};

async fn whoami(State(engine): State<Engine>, ctx: FlagContext) -> String {
    let beta = engine.flags().bool("beta", &ctx, false);
    format!(
        "{} {} {beta}",
        ctx.key(),
        ctx.ip.as_deref().unwrap_or_default()
    )
}

async fn call(app: &Router, request: Request<Body>) -> String {
    let response = app.clone().oneshot(request).await.unwrap();
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

fn from(peer: &str) -> http::request::Builder {
    let addr: SocketAddr = peer.parse().unwrap();
    let mut request = Request::get("/whoami");
    request.extensions_mut().unwrap().insert(ConnectInfo(addr));
    request
}

#[tokio::test]
async fn a_handler_gets_the_app_s_context_else_the_user_else_the_client_address() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    let flag: FeatureFlag = serde_json::from_value(json!({
        "key": "beta", "name": "Beta", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "off",
        "targets": {"on": ["ada", "203.0.113.7"]}
    }))
    .unwrap();
    engine.save_flag(flag, "ops").await.unwrap();
    let app = Router::new()
        .route("/whoami", get(whoami))
        .with_state(engine);

    let anonymous = call(&app, from("198.51.100.1:5000").body(Body::empty()).unwrap()).await;
    assert_eq!(anonymous, "198.51.100.1 198.51.100.1 false");
    let targeted = call(&app, from("203.0.113.7:5000").body(Body::empty()).unwrap()).await;
    assert_eq!(
        targeted, "203.0.113.7 203.0.113.7 true",
        "the address is the key"
    );

    let mut request = from("198.51.100.1:5000").body(Body::empty()).unwrap();
    request.extensions_mut().insert(Identity::user("ada"));
    assert_eq!(
        call(&app, request).await,
        "ada 198.51.100.1 true",
        "the user is the key"
    );

    let mut request = from("198.51.100.1:5000").body(Body::empty()).unwrap();
    request.extensions_mut().insert(Identity::user("ada"));
    request
        .extensions_mut()
        .insert(EvaluationContext::new("bob").ip("10.0.0.1"));
    assert_eq!(
        call(&app, request).await,
        "bob 10.0.0.1 false",
        "the app's own context wins"
    );

    let no_peer = call(&app, Request::get("/whoami").body(Body::empty()).unwrap()).await;
    assert_eq!(no_peer, "anonymous  false");
}
