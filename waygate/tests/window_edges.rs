//! Sliding windows end at the same instant in memory and in Redis, over HTTP: the same
//! route with a `2/2 seconds` sliding-window limit, served by an app counting in memory and
//! by one counting in Redis, answers the same sequence of requests placed around a window
//! edge alike — the edges are multiples of the period since the Unix epoch in both.

mod common;

use axum::Router;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use waygate::backend::{Backend, MemoryBackend, RedisBackend};
use waygate::prelude::*;

#[route(GET, "/edge")]
#[rate_limit("2/2 seconds", algorithm = sliding_window)]
async fn edge() -> &'static str {
    "edge"
}

/// An app on `backend`, served on loopback (with the peer address); its URL.
async fn serve(backend: impl Backend) -> String {
    let engine = Engine::builder().backend(backend).build();
    engine.start().await.unwrap();
    let app: Router = Router::new()
        .merge(routes![edge])
        .layer(WaygateLayer::new(engine.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/edge", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _engine = engine;
        waygate::serve::serve(listener, app).await
    });
    url
}

/// How long until the next multiple of `period` since the Unix epoch.
fn to_edge(period: Duration) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let period = period.as_nanos();
    Duration::from_nanos((period - now % period) as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_redis_answer_alike_around_a_window_edge() {
    let prefix = common::redis::unique_prefix();
    let memory = serve(MemoryBackend::new()).await;
    let redis = serve(
        RedisBackend::new(&common::redis::url())
            .unwrap()
            .with_key_prefix(&prefix),
    )
    .await;
    let client = reqwest::Client::new();
    let status = |url: &str| {
        let request = client.get(url);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let period = Duration::from_secs(2);
    // Half a second before an edge at least a second away, then half a second after it.
    if to_edge(period) < Duration::from_secs(1) {
        tokio::time::sleep(to_edge(period)).await;
    }
    tokio::time::sleep(to_edge(period).saturating_sub(Duration::from_millis(500))).await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        answers.push((status(&memory).await, status(&redis).await));
    }
    tokio::time::sleep(to_edge(period) + Duration::from_millis(500)).await;
    for _ in 0..3 {
        answers.push((status(&memory).await, status(&redis).await));
    }
    common::redis::delete_prefix(&prefix).await;
    let (in_memory, in_redis): (Vec<u16>, Vec<u16>) = answers.into_iter().unzip();
    assert_eq!(in_memory, in_redis, "the stores disagree");
    // The two before the edge weigh 2 × 3/4 = 1.5 after it: one more fits, then none.
    assert_eq!(in_memory, [200, 200, 200, 429, 429]);
}
