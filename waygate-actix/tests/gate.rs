//! The `Gate` extractor over real HTTP on loopback, in apps without the middleware (and one
//! with it): the same refusals, headers and counters.

mod harness;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

use actix_web::{web, HttpResponse, Responder};
use harness::{block, serve};
use waygate_actix::prelude::*;
use waygate_actix::Blocked;

#[route(GET, "/gated/payments")]
#[maintenance(reason = "DB migration")]
async fn payments(gate: Gate) -> impl Responder {
    gate.respond("[]")
}

fn page(blocked: Blocked) -> HttpResponse {
    HttpResponse::ServiceUnavailable().body(format!("page: {}", blocked.reason))
}

#[route(GET, "/gated/page")]
#[disabled(reason = "rebuild", response = page)]
async fn custom(gate: Gate) -> impl Responder {
    gate.respond("page")
}

#[route(GET, "/gated/v1")]
#[deprecated_route(sunset = "Fri, 01 Jan 2027 00:00:00 GMT", use_instead = "/gated/v2")]
async fn v1(gate: Gate) -> impl Responder {
    assert!(gate.is_deprecated());
    gate.respond("v1")
}

#[route(GET, "/gated/limited")]
#[rate_limit("2/minute")]
async fn limited(gate: Gate) -> impl Responder {
    gate.respond("limited")
}

#[route(GET, "/gated/items/{id}")]
#[maintenance(reason = "reindex")]
async fn item(gate: Gate, id: web::Path<u32>) -> impl Responder {
    gate.respond(format!("item {id}"))
}

#[route(GET, "/gated/plain")]
async fn plain(gate: Gate) -> impl Responder {
    assert!(!gate.is_deprecated());
    gate.respond("plain")
}

fn app(engine: &Engine, middleware: bool) -> harness::Server {
    let routes = routes![payments, custom, v1, limited, plain, item];
    let config_engine = engine.clone();
    let middleware = middleware.then(|| Waygate::new(engine.clone()));
    serve(engine, middleware, move |cfg| {
        routes.config(&config_engine)(cfg);
    })
}

#[test]
fn a_gate_refuses_as_the_middleware_would() {
    let engine = Engine::new();
    let app = app(&engine, false);
    let reply = app.expect("/gated/payments", 503);
    assert_eq!(reply.code(), "MAINTENANCE_MODE");
    assert_eq!(reply.json()["error"]["path"], "/gated/payments");
    assert_eq!(app.expect("/gated/page", 503).body, "page: rebuild");
    assert_eq!(app.expect("/gated/plain", 200).body, "plain");

    block(engine.enable("GET:/gated/payments", "test")).unwrap();
    assert_eq!(app.expect("/gated/payments", 200).body, "[]");
}

#[test]
fn a_gate_finds_the_template_of_paths_it_has_not_seen() {
    let engine = Engine::new();
    let app = app(&engine, false);
    for id in 0..20 {
        let reply = app.expect(&format!("/gated/items/{id}"), 503);
        assert_eq!(reply.json()["error"]["reason"], "reindex");
    }
    block(engine.enable("GET:/gated/items/{id}", "test")).unwrap();
    for id in 20..40 {
        assert_eq!(
            app.expect(&format!("/gated/items/{id}"), 200).body,
            format!("item {id}")
        );
    }
}

#[test]
fn a_gate_adds_the_deprecation_and_rate_limit_headers() {
    let engine = Engine::new();
    let app = app(&engine, false);
    let reply = app.expect("/gated/v1", 200);
    assert_eq!(reply.header("deprecation"), Some("true"));
    assert_eq!(
        reply.header("sunset"),
        Some("Fri, 01 Jan 2027 00:00:00 GMT")
    );
    assert_eq!(
        reply.header("link"),
        Some("</gated/v2>; rel=\"successor-version\"")
    );

    let first = app.expect("/gated/limited", 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("2/minute"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    app.expect("/gated/limited", 200);
    let refused = app.expect("/gated/limited", 429);
    assert_eq!(refused.code(), "RATE_LIMIT_EXCEEDED");
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
}

#[test]
fn a_gate_behind_the_middleware_does_not_count_twice() {
    let engine = Engine::new();
    let app = app(&engine, true);
    let first = app.expect("/gated/limited", 200);
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    let second = app.expect("/gated/limited", 200);
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));
    app.expect("/gated/limited", 429);
}

#[test]
fn a_gate_without_an_engine_says_what_is_missing() {
    let engine = Engine::new();
    let app = harness::serve_without_engine(&engine, |cfg| {
        cfg.route(
            "/g",
            web::get().to(|gate: Gate| async move { gate.respond("g") }),
        );
    });
    let reply = app.expect("/g", 500);
    assert!(reply.body.contains("app_data(engine.clone())"), "{reply:?}");
}
