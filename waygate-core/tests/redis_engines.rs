//! Engines on one Redis share what is not a route's state: delivery claims, token
//! revocations, and a pub/sub subscription kept alive while nothing changes. (Requests
//! through engines on one Redis are tested with the axum layer, `waygate/tests/redis.rs`.)
//!
//! Needs the test Redis at `WAYGATE_TEST_REDIS_URL` and `redis-server` on the `PATH`
//! (`scripts/test` checks both).

#![cfg(feature = "redis")]

#[path = "../../waygate/tests/common/redis.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_redis;

use std::time::Duration;
use test_redis::{delete_prefix, eventually, unique_prefix, url, RedisServer};
use waygate_core::backend::RedisBackend;
use waygate_core::Engine;

/// One instance: an engine on its own connection to the Redis at `url`, under `prefix`.
async fn instance(url: &str, prefix: &str) -> Engine {
    let backend = RedisBackend::new(url)
        .unwrap()
        .with_key_prefix(prefix)
        .with_response_timeout(Duration::from_millis(500));
    let engine = Engine::builder().backend(backend).build();
    engine.start().await.unwrap();
    engine
}

#[tokio::test]
async fn claims_and_revocations_are_shared() {
    let prefix = unique_prefix();
    let a = instance(&url(), &prefix).await;
    let b = instance(&url(), &prefix).await;
    let ttl = Duration::from_secs(60);
    assert!(a.backend().claim_once("delivery-1", ttl).await.unwrap());
    assert!(!b.backend().claim_once("delivery-1", ttl).await.unwrap());
    let expires = a.now() + chrono::Duration::hours(1);
    a.revoke_token("jti-1", expires).await.unwrap();
    eventually("B honours A's revocation", async || {
        b.is_token_revoked("jti-1")
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
    delete_prefix(&prefix).await;
}

#[tokio::test]
async fn the_keepalive_keeps_a_quiet_subscription() {
    let server = RedisServer::start();
    let backend = RedisBackend::new(&server.url())
        .unwrap()
        .with_keepalive(Duration::from_millis(100));
    let engine = Engine::builder().backend(backend).build();
    engine.start().await.unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let subscriptions = async |conn: &mut redis::aio::MultiplexedConnection| {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(conn)
            .await
            .unwrap();
        list.lines()
            .map(|l| {
                l.split(' ')
                    .find(|f| f.starts_with("id="))
                    .unwrap()
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    eventually("the engine subscribes", async || {
        subscriptions(&mut conn).await.len() == 1
    })
    .await;
    let first = subscriptions(&mut conn).await;
    // Many keepalive pings later, it is still the same connection.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(subscriptions(&mut conn).await, first);
    engine.shutdown().await;
}
