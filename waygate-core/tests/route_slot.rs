//! `RouteSlot`, the decision's common case remembered per mounted route, through the public
//! API: it answers only for what it learnt from a decision, and never after a change.

use chrono::{Duration, Utc};
use http::request::Parts;
use http::Method;
use waygate_core::backend::{Backend, MemoryBackend};
use waygate_core::{
    Decision, Engine, MaintenanceWindow, PolicyChange, RouteSlot, RouteState, SkipPaths, SlotAnswer,
};

// The axum crate's tests read counts the same way.
#[path = "../../waygate/tests/common/counts.rs"]
#[allow(dead_code, unreachable_pub)]
mod counts;
use counts::allowed;

#[path = "support/request.rs"]
mod request;
use request::request;

const ITEM: &str = "/items/{id}";
const TENANT: &str = "/{tenant}/items";

/// An engine serving `GET /items/{id}` and `GET /{tenant}/items`, started.
async fn engine() -> Engine {
    let backend = MemoryBackend::new();
    for key in ["GET:/items/{id}", "GET:/{tenant}/items"] {
        backend.set_state(&RouteState::active(key)).await.unwrap();
    }
    let engine = Engine::builder().backend(backend).build();
    engine.start().await.unwrap();
    engine
}

/// What an adapter does: the slot, else the decision (the slot learning from a plain
/// serve). `true` when served.
fn serve(engine: &Engine, slot: &RouteSlot, parts: &Parts, template: &str) -> bool {
    match slot.serve(engine, &parts.method, Some(template)) {
        SlotAnswer::Served => return true,
        SlotAnswer::Gated(_) => unreachable!("no route here has a flag"),
        SlotAnswer::Decide => {}
    }
    let snapshot = engine.snapshot();
    match engine.decide(&snapshot, parts, Some(template)) {
        Decision::Serve(serve) if serve.is_plain() => {
            slot.learn(
                &snapshot,
                &SkipPaths::default(),
                &parts.method,
                Some(template),
            );
            true
        }
        Decision::Serve(_) => true,
        _ => false,
    }
}

/// Whether the slot serves a `method` request matched to `template` by itself.
fn slot_serves(engine: &Engine, slot: &RouteSlot, method: Method, template: Option<&str>) -> bool {
    matches!(slot.serve(engine, &method, template), SlotAnswer::Served)
}

#[tokio::test]
async fn a_slot_answers_for_a_plain_route_once_it_learnt_it_and_counts_each_request() {
    let engine = engine().await;
    let slot = RouteSlot::new();
    let parts = request(Method::GET, "/items/42");
    assert!(
        !slot_serves(&engine, &slot, Method::GET, Some(ITEM)),
        "it knows nothing yet"
    );
    assert!(serve(&engine, &slot, &parts, ITEM));
    assert!(slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
    assert!(slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
    assert_eq!(allowed(&engine, "GET:/items/{id}"), 3);
}

#[tokio::test]
async fn after_any_change_the_next_request_is_decided_again() {
    let engine = engine().await;
    let slot = RouteSlot::new();
    let parts = request(Method::GET, "/items/42");
    assert!(serve(&engine, &slot, &parts, ITEM));
    assert!(slot_serves(&engine, &slot, Method::GET, Some(ITEM)));

    engine.disable(ITEM, "broken", "alice").await.unwrap();
    assert!(!slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
    assert!(
        !serve(&engine, &slot, &parts, ITEM),
        "a disabled route is refused"
    );

    engine.enable(ITEM, "alice").await.unwrap();
    assert!(serve(&engine, &slot, &parts, ITEM));
    assert!(
        slot_serves(&engine, &slot, Method::GET, Some(ITEM)),
        "learnt again"
    );

    engine
        .enable_global_maintenance("deploy", Vec::new(), false, "alice")
        .await
        .unwrap();
    assert!(
        !serve(&engine, &slot, &parts, ITEM),
        "global maintenance refuses"
    );
    assert!(!serve(&engine, &slot, &parts, ITEM));
    engine.disable_global_maintenance("alice").await.unwrap();
    assert!(serve(&engine, &slot, &parts, ITEM));
    assert!(slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
}

#[tokio::test]
async fn a_slot_answers_only_for_the_method_and_template_it_learnt() {
    let engine = engine().await;
    let slot = RouteSlot::new();
    assert!(serve(
        &engine,
        &slot,
        &request(Method::GET, "/items/42"),
        ITEM
    ));
    assert!(!slot_serves(&engine, &slot, Method::HEAD, Some(ITEM)));
    assert!(!slot_serves(
        &engine,
        &slot,
        Method::GET,
        Some("/items/{id}/parts")
    ));
    assert!(!slot_serves(&engine, &slot, Method::GET, None));
    // Another template reaching the same service is decided every time, and leaves the
    // learnt one as it was.
    let other = request(Method::GET, "/acme/items");
    let snapshot = engine.snapshot();
    assert!(matches!(
        engine.decide(&snapshot, &other, Some(TENANT)),
        Decision::Serve(_)
    ));
    slot.learn(&snapshot, &SkipPaths::default(), &Method::GET, Some(TENANT));
    assert!(!slot_serves(&engine, &slot, Method::GET, Some(TENANT)));
    assert!(slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
}

#[tokio::test]
async fn a_route_with_a_window_ahead_is_served_but_never_learnt() {
    // The window's start moves no generation: a slot that learnt the route would serve it
    // through the window.
    let engine = engine().await;
    let start = Utc::now() + Duration::hours(1);
    let window = MaintenanceWindow::new(start, start + Duration::hours(1), "migration");
    engine
        .schedule_maintenance(ITEM, window, "alice")
        .await
        .unwrap();
    let slot = RouteSlot::new();
    let parts = request(Method::GET, "/items/42");
    for _ in 0..3 {
        assert!(
            serve(&engine, &slot, &parts, ITEM),
            "served until the window starts"
        );
        assert!(!slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
    }
}

#[tokio::test]
async fn a_route_with_limits_or_a_template_that_may_be_skipped_is_never_learnt() {
    let engine = engine().await;
    engine
        .set_rate_limit_policy(
            "GET:/items/{id}",
            "100/minute",
            PolicyChange::new(),
            "alice",
        )
        .await
        .unwrap();
    let slot = RouteSlot::new();
    let parts = request(Method::GET, "/items/42");
    for _ in 0..3 {
        assert!(serve(&engine, &slot, &parts, ITEM));
        assert!(!slot_serves(&engine, &slot, Method::GET, Some(ITEM)));
    }
    // `/{tenant}/items` also matches `/waygate/items`, which the adapter leaves alone: the
    // slot, which sees no paths, must not answer for it.
    let slot = RouteSlot::new();
    let tenant = request(Method::GET, "/acme/items");
    assert!(serve(&engine, &slot, &tenant, TENANT));
    assert!(!slot_serves(&engine, &slot, Method::GET, Some(TENANT)));
}
