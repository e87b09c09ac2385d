//! `Engine::decide`, the one decision every adapter calls, through the public API only: an
//! engine whose routes come from its backend, and requests as `http` parts.

use http::request::Parts;
use http::{Method, StatusCode};
use std::net::SocketAddr;
use std::time::Duration;
use waygate_core::backend::{Backend, MemoryBackend};
use waygate_core::rate_limit::{GlobalRateLimitPolicy, IpNetList, KeyStrategy};
use waygate_core::{
    BlockKind, ClientIpHeader, Decision, Engine, EngineEvent, LimitsCounted, PolicyChange, Refusal,
    RouteState,
};

#[path = "support/request.rs"]
mod request;
use request::request;

const ITEM: &str = "/items/{id}";

/// An engine serving `GET /items/{id}` and `GET /health`, started.
async fn engine_with(builder: waygate_core::EngineBuilder) -> Engine {
    let backend = MemoryBackend::new();
    for key in ["GET:/items/{id}", "GET:/health"] {
        backend.set_state(&RouteState::active(key)).await.unwrap();
    }
    let engine = builder.backend(backend).build();
    engine.start().await.unwrap();
    engine
}

async fn engine() -> Engine {
    engine_with(Engine::builder()).await
}

/// A request from `peer`, with these headers.
fn from(peer: &str, headers: &[(&'static str, &str)]) -> Parts {
    let mut parts = request(Method::GET, "/items/1");
    parts.extensions.insert(peer.parse::<SocketAddr>().unwrap());
    for (name, value) in headers {
        parts.headers.append(*name, value.parse().unwrap());
    }
    parts
}

/// The status the decision comes to: 200 when served.
fn status(engine: &Engine, parts: &Parts, template: Option<&str>) -> StatusCode {
    let snapshot = engine.snapshot();
    match engine.decide(&snapshot, parts, template) {
        Decision::Serve(_) => StatusCode::OK,
        Decision::Refuse(refusal) => refusal.status(),
        other => panic!("unexpected decision {other:?}"),
    }
}

#[tokio::test]
async fn an_active_route_is_served_with_nothing_to_add() {
    let engine = engine().await;
    let snapshot = engine.snapshot();
    let parts = request(Method::GET, "/items/42");
    match engine.decide(&snapshot, &parts, Some(ITEM)) {
        Decision::Serve(serve) => assert!(serve.is_plain(), "{serve:?}"),
        other => panic!("expected to serve, got {other:?}"),
    }
}

#[tokio::test]
async fn the_route_is_found_by_its_template_and_named_by_its_concrete_path() {
    let engine = engine().await;
    // A bare path resolves to the one method registered under it.
    engine.disable(ITEM, "broken", "alice").await.unwrap();
    let snapshot = engine.snapshot();
    let parts = request(Method::GET, "/items/42");
    let Decision::Refuse(refusal) = engine.decide(&snapshot, &parts, Some(ITEM)) else {
        panic!("a disabled route is refused");
    };
    assert_eq!(refusal.status(), StatusCode::SERVICE_UNAVAILABLE);
    let Refusal::Blocked { block, .. } = &refusal else {
        panic!("refused by the route's state, not a limit: {refusal:?}");
    };
    assert_eq!(block.kind, BlockKind::Disabled);
    let response = refusal.builtin_response(parts.uri.path());
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"]["code"], "ROUTE_DISABLED");
    assert_eq!(body["error"]["reason"], "broken");
    assert_eq!(body["error"]["path"], "/items/42");
    assert_eq!(response.headers()["content-type"], "application/json");
    // Another route under the same prefix is not affected.
    assert_eq!(
        status(&engine, &request(Method::GET, "/health"), Some("/health")),
        StatusCode::OK
    );
}

#[tokio::test]
async fn head_falls_back_to_the_get_route_and_other_methods_do_not() {
    let engine = engine().await;
    engine
        .set_maintenance("GET:/items/{id}", "migration", None, "alice")
        .await
        .unwrap();
    let head = request(Method::HEAD, "/items/1");
    assert_eq!(
        status(&engine, &head, Some(ITEM)),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let post = request(Method::POST, "/items/1");
    assert_eq!(status(&engine, &post, Some(ITEM)), StatusCode::OK);
}

#[tokio::test]
async fn global_maintenance_spares_bare_and_method_qualified_exempt_paths() {
    let engine = engine().await;
    engine
        .enable_global_maintenance("deploy", vec!["GET:/health".to_owned()], false, "alice")
        .await
        .unwrap();
    let health = request(Method::GET, "/health");
    assert_eq!(status(&engine, &health, Some("/health")), StatusCode::OK);
    let item = request(Method::GET, "/items/1");
    assert_eq!(
        status(&engine, &item, Some(ITEM)),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // A request no route matched is refused too, by its concrete path.
    let nowhere = request(Method::GET, "/nowhere");
    assert_eq!(
        status(&engine, &nowhere, None),
        StatusCode::SERVICE_UNAVAILABLE
    );
    engine
        .set_global_exempt_paths(vec!["/items/{id}".to_owned()], "alice")
        .await
        .unwrap();
    assert_eq!(status(&engine, &item, Some(ITEM)), StatusCode::OK);
    assert_eq!(
        status(&engine, &health, Some("/health")),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn an_env_gated_route_outside_its_envs_is_an_empty_404() {
    let engine = engine_with(Engine::builder().env("production")).await;
    engine
        .set_env_only("GET:/items/{id}", &["dev"], "alice")
        .await
        .unwrap();
    let parts = request(Method::GET, "/items/1");
    let snapshot = engine.snapshot();
    let Decision::Refuse(refusal) = engine.decide(&snapshot, &parts, Some(ITEM)) else {
        panic!("env-gated outside dev");
    };
    let response = refusal.builtin_response("/items/1");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.body().is_empty());
}

#[tokio::test]
async fn a_route_seen_for_the_first_time_is_registered_off_the_request_path() {
    let engine = engine().await;
    let mut events = engine.subscribe();
    let parts = request(Method::GET, "/new/7");
    assert_eq!(status(&engine, &parts, Some("/new/{id}")), StatusCode::OK);
    let registered = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match events.recv().await.unwrap() {
                EngineEvent::RouteChanged { key } if key == "GET:/new/{id}" => break,
                _ => continue,
            }
        }
    })
    .await;
    assert!(registered.is_ok(), "the unknown route was never registered");
    assert!(engine.state("GET:/new/{id}").is_some());
}

#[tokio::test]
async fn the_global_limit_is_checked_before_the_route_limit() {
    let engine = engine().await;
    engine
        .set_rate_limit_policy("GET:/items/{id}", "5/minute", PolicyChange::new(), "alice")
        .await
        .unwrap();
    engine
        .set_global_rate_limit(GlobalRateLimitPolicy::new("1/minute"), "alice")
        .await
        .unwrap();
    let parts = from("1.1.1.1:5000", &[]);
    let snapshot = engine.snapshot();
    match engine.decide(&snapshot, &parts, Some(ITEM)) {
        Decision::Serve(serve) => {
            assert!(serve.counted);
            let mut headers = http::HeaderMap::new();
            serve.apply(&mut headers);
            // The headers describe the route's own limit, not the global one.
            assert_eq!(headers["x-ratelimit-limit"], "5/minute");
            assert_eq!(headers["x-ratelimit-remaining"], "4");
        }
        other => panic!("the first request is allowed: {other:?}"),
    }
    match engine.decide(&snapshot, &parts, Some(ITEM)) {
        Decision::Refuse(Refusal::RateLimited(limited)) => {
            assert_eq!(limited.limit, "1/minute");
            // Within the global limit's minute: the sliding window is aligned to the clock's
            // minutes, so a refusal in a minute's last second waits under one (truncated to
            // 0, as the Python original does).
            assert!(limited.retry_after_seconds <= 60);
        }
        other => panic!("the global limit refuses the second: {other:?}"),
    }
}

#[tokio::test]
async fn a_request_already_counted_is_not_counted_again() {
    let engine = engine().await;
    engine
        .set_rate_limit_policy("GET:/items/{id}", "1/minute", PolicyChange::new(), "alice")
        .await
        .unwrap();
    let mut counted = from("1.1.1.1:5000", &[]);
    counted.extensions.insert(LimitsCounted);
    let snapshot = engine.snapshot();
    for _ in 0..3 {
        match engine.decide(&snapshot, &counted, Some(ITEM)) {
            Decision::Serve(serve) => assert!(!serve.counted && serve.limits.is_none()),
            other => panic!("a counted request is served as is: {other:?}"),
        }
    }
    // The counter was left untouched: the first uncounted request still passes.
    let fresh = from("1.1.1.1:5000", &[]);
    assert_eq!(status(&engine, &fresh, Some(ITEM)), StatusCode::OK);
    assert_eq!(
        status(&engine, &fresh, Some(ITEM)),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn limited_by_ip(builder: waygate_core::EngineBuilder) -> Engine {
    let engine = engine_with(builder).await;
    let change = PolicyChange::new().key_strategy(KeyStrategy::Ip);
    engine
        .set_rate_limit_policy("GET:/items/{id}", "1/minute", change, "alice")
        .await
        .unwrap();
    engine
}

#[tokio::test]
async fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
    let engine = limited_by_ip(Engine::builder()).await;
    let first = from("3.3.3.3:1", &[("x-forwarded-for", "1.1.1.1")]);
    let spoofed = from("3.3.3.3:2", &[("x-forwarded-for", "2.2.2.2")]);
    assert_eq!(status(&engine, &first, Some(ITEM)), StatusCode::OK);
    assert_eq!(
        status(&engine, &spoofed, Some(ITEM)),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_in_the_configured_header() {
    let trusted = IpNetList::parse(&["10.0.0.0/8".to_owned()]).unwrap();
    let engine = limited_by_ip(
        Engine::builder()
            .trusted_proxies(trusted)
            .client_ip_header(ClientIpHeader::XRealIp),
    )
    .await;
    let one = from(
        "10.0.0.1:1",
        &[("x-real-ip", "1.1.1.1"), ("x-forwarded-for", "9.9.9.9")],
    );
    let two = from(
        "10.0.0.1:2",
        &[("x-real-ip", "2.2.2.2"), ("x-forwarded-for", "9.9.9.9")],
    );
    // Two clients behind one proxy: a counter each, whatever X-Forwarded-For says.
    assert_eq!(status(&engine, &one, Some(ITEM)), StatusCode::OK);
    assert_eq!(status(&engine, &two, Some(ITEM)), StatusCode::OK);
    assert_eq!(
        status(&engine, &one, Some(ITEM)),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn without_a_peer_address_per_ip_limits_share_one_counter() {
    let engine = limited_by_ip(Engine::builder()).await;
    let parts = request(Method::GET, "/items/1");
    assert_eq!(status(&engine, &parts, Some(ITEM)), StatusCode::OK);
    assert_eq!(
        status(&engine, &parts, Some(ITEM)),
        StatusCode::TOO_MANY_REQUESTS
    );
}
