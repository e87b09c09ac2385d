//! Fleet-wide rate limits through actix-web: two apps, each with its own engine on one Redis,
//! count in the same counters (the middleware's and the `Gate`'s shared-counter path, which
//! awaits the count before the handler runs).
//!
//! Needs the test Redis at `WAYGATE_TEST_REDIS_URL` (`scripts/test` checks it; the test
//! fails when it is unreachable).

mod harness;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

use actix_web::Responder;
use harness::{block, serve};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use waygate_actix::backend::RedisBackend;
use waygate_actix::prelude::*;

#[route(GET, "/fleet")]
#[rate_limit("3/minute", key = global)]
async fn fleet() -> &'static str {
    "fleet"
}

#[route(GET, "/fleet-gated")]
#[rate_limit("2/minute", key = global)]
async fn fleet_gated(gate: Gate) -> impl Responder {
    gate.respond("gated")
}

fn url() -> String {
    std::env::var("WAYGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test (or run) uses.
fn unique_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "waygate-actix-test:{}:{nanos}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deletes every key under `prefix`.
async fn delete_prefix(prefix: &str) {
    let client = redis::Client::open(url()).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("the test Redis is reachable");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
}

fn engine(prefix: &str) -> Engine {
    let backend = RedisBackend::new(&url())
        .unwrap()
        .with_key_prefix(prefix)
        .with_response_timeout(Duration::from_millis(2_000));
    Engine::builder().backend(backend).build()
}

fn app(engine: &Engine, middleware: bool) -> harness::Server {
    let routes = routes![fleet, fleet_gated];
    let config_engine = engine.clone();
    let middleware = middleware.then(|| Waygate::new(engine.clone()));
    serve(engine, middleware, move |cfg| {
        routes.config(&config_engine)(cfg);
    })
}

#[test]
fn two_apps_share_one_fleet_wide_limit() {
    let prefix = unique_prefix();
    let (one, two) = (engine(&prefix), engine(&prefix));
    let (a, b) = (app(&one, true), app(&two, true));

    for (app, remaining) in [(&a, "2"), (&b, "1"), (&a, "0")] {
        let reply = app.expect("/fleet", 200);
        assert_eq!(reply.body, "fleet");
        assert_eq!(reply.header("x-ratelimit-limit"), Some("3/minute"));
        assert_eq!(reply.header("x-ratelimit-remaining"), Some(remaining));
    }
    let refused = b.expect("/fleet", 429);
    assert_eq!(refused.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(refused.json()["error"]["limit"], "3/minute");
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
    assert_eq!(one.rate_limit_storage_errors(), 0);
    assert_eq!(two.rate_limit_storage_errors(), 0);

    drop((a, b));
    block(delete_prefix(&prefix));
}

#[test]
fn gates_count_in_the_shared_counters_too() {
    let prefix = unique_prefix();
    let (one, two) = (engine(&prefix), engine(&prefix));
    let (a, b) = (app(&one, false), app(&two, false));

    let first = a.expect("/fleet-gated", 200);
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    let second = b.expect("/fleet-gated", 200);
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(a.expect("/fleet-gated", 429).code(), "RATE_LIMIT_EXCEEDED");

    drop((a, b));
    block(delete_prefix(&prefix));
}
