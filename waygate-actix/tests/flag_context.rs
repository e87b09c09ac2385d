//! `FlagContext` on actix-web: the app's own context, else the authenticated user, else the
//! client's address, and a flag evaluated with it.

use actix_web::{test, web, App, HttpMessage, HttpResponse};
use serde_json::json;
use waygate_actix::flags::{EvaluationContext, FeatureFlag};
use waygate_actix::{Engine, FlagContext, Identity};

async fn whoami(engine: web::Data<Engine>, ctx: FlagContext) -> HttpResponse {
    let beta = engine.flags().bool("beta", &ctx, false);
    HttpResponse::Ok().body(format!("{} {beta}", ctx.key()))
}

#[actix_web::test]
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
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(engine))
            .route("/whoami", web::get().to(whoami)),
    )
    .await;
    let call = |peer: &str| {
        test::TestRequest::get()
            .uri("/whoami")
            .peer_addr(peer.parse().unwrap())
            .to_request()
    };
    let body = test::call_and_read_body(&app, call("203.0.113.7:5000")).await;
    assert_eq!(body, "203.0.113.7 true", "the address is the key");
    let body = test::call_and_read_body(&app, call("198.51.100.1:5000")).await;
    assert_eq!(body, "198.51.100.1 false");
    let request = call("198.51.100.1:5000");
    request.extensions_mut().insert(Identity::user("ada"));
    assert_eq!(test::call_and_read_body(&app, request).await, "ada true");
    let request = call("203.0.113.7:5000");
    request
        .extensions_mut()
        .insert(EvaluationContext::new("bob"));
    assert_eq!(
        test::call_and_read_body(&app, request).await,
        "bob false",
        "the app's own context wins"
    );
}
