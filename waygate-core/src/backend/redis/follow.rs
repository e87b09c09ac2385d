//! Following the backend's channels on a dedicated pub/sub connection: every message moves
//! the `watch` counter, and so does every (re)subscription, so that the engine reloads
//! everything after a lost connection and misses nothing.

use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::watch;

/// The first wait before resubscribing; it doubles on every failed attempt.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a quiet subscription is pinged, to notice a connection that died silently.
pub(super) const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(10);
/// How long a connection attempt or a keepalive ping may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// Subscribes to `channels` and moves `changes` on every message and every subscription,
/// until the task is aborted (by the backend's `shutdown` or drop).
pub(super) async fn follow(
    client: redis::Client,
    channels: Vec<String>,
    changes: watch::Sender<u64>,
    keepalive: Duration,
) {
    let mut backoff = MIN_BACKOFF;
    let mut lost = false;
    loop {
        match tokio::time::timeout(ATTEMPT_TIMEOUT, subscribe(&client, &channels)).await {
            Ok(Ok(pubsub)) => {
                if lost {
                    tracing::info!("waygate: redis subscription restored; reloading everything");
                }
                backoff = MIN_BACKOFF;
                // Whatever changed while we were not subscribed is reloaded now.
                changes.send_modify(|n| *n += 1);
                let reason = listen(pubsub, &changes, keepalive).await;
                tracing::warn!(%reason, "waygate: redis subscription lost; serving the last snapshot and resubscribing");
                lost = true;
            }
            Ok(Err(error)) if !lost => {
                tracing::warn!(%error, "waygate: cannot subscribe to redis; serving the last snapshot and retrying");
                lost = true;
            }
            Err(_) if !lost => {
                tracing::warn!("waygate: subscribing to redis timed out; serving the last snapshot and retrying");
                lost = true;
            }
            _ => {}
        }
        tokio::time::sleep(jitter(backoff)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(
    client: &redis::Client,
    channels: &[String],
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channels).await?;
    Ok(pubsub)
}

/// Moves `changes` on every message until the connection is lost; returns why it ended.
async fn listen(
    pubsub: redis::aio::PubSub,
    changes: &watch::Sender<u64>,
    every: Duration,
) -> String {
    let (mut sink, mut stream) = pubsub.split();
    let mut keepalive = tokio::time::interval(every);
    keepalive.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(_) => changes.send_modify(|n| *n += 1),
                None => return "connection closed".to_owned(),
            },
            _ = keepalive.tick() => {
                // In subscribed mode the answer is `["pong", ""]`, not a string.
                match tokio::time::timeout(ATTEMPT_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return error.to_string(),
                    Err(_) => return "ping timed out".to_owned(),
                }
            }
        }
    }
}

/// `wait` scaled by a factor in [0.5, 1.5), so that instances that lost Redis together do
/// not all come back in the same instant.
fn jitter(wait: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let factor = 0.5 + f64::from(nanos % 1000) / 1000.0;
    wait.mul_f64(factor)
}
