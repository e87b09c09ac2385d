//! Sliding windows open at multiples of the period since the Unix epoch in every store: the
//! memory store (which reads the wall clock once) and the Redis store (which reads Redis's
//! clock) agree where a window ends, so the same client gets the same answers from both —
//! and from two instances.

#[cfg(feature = "redis")]
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use waygate_core::rate_limit::{Algorithm, CounterKey, MemoryStore, Rate};

/// Nanoseconds since the Unix epoch, now.
fn wall_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn memory_windows_end_on_multiples_of_the_period_since_the_unix_epoch() {
    for rate in ["3/hour", "2/minute", "5/day"] {
        let rate = Rate::parse(rate).unwrap();
        let period = rate.period().as_nanos();
        let store = MemoryStore::new(Algorithm::SlidingWindow, rate.clone(), 0);
        let key = CounterKey::Ip("10.0.0.1".parse().unwrap());
        let now = Instant::now();
        let wall = wall_nanos();
        for _ in 0..rate.amount() {
            assert!(store.check(key, now).allowed);
        }
        // Full, with nothing in the previous window: the next request fits just after the
        // current window ends.
        let refused = store.check(key, now);
        assert!(!refused.allowed);
        let window_end = wall + refused.retry_after.as_nanos();
        let off_edge = window_end % period;
        let distance = off_edge.min(period - off_edge);
        // The instant and the wall clock were read a moment apart: allow a second.
        assert!(
            distance < 1_000_000_000,
            "{rate:?}: the window ends {distance} ns away from a multiple of the period"
        );
    }
}

#[cfg(feature = "redis")]
#[path = "../../waygate/tests/common/redis.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_redis;

/// A sequence of requests placed around a window edge: two just before it, then as many as
/// are allowed just after. Aligned windows allow one after the edge (the two before it weigh
/// 2 × 3/4 = 1.5, and 1 + 1 ≤ 2); misaligned ones would allow none or two.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_redis_stores_refuse_the_same_request_around_an_edge() {
    use waygate_core::backend::{Backend, RedisBackend};
    use waygate_core::rate_limit::CounterRequest;

    let prefix = test_redis::unique_prefix();
    let redis = RedisBackend::new(&test_redis::url())
        .unwrap()
        .with_key_prefix(&prefix);
    let counters = redis.rate_limit_counters().expect("Redis counts requests");
    let period = Duration::from_secs(2);
    let rate = Rate::parse("2/2 seconds").unwrap();
    assert_eq!(rate.period(), period);
    let memory = MemoryStore::new(Algorithm::SlidingWindow, rate, 0);
    let key = CounterKey::Ip("10.0.0.9".parse().unwrap());
    let request = CounterRequest::new("GET:/edge", "10.0.0.9", Algorithm::SlidingWindow, 2, period);

    // Half a second before the next edge (at least a second away, so the two requests
    // before it are really before it).
    let period_ns = period.as_nanos();
    let to_edge = |wall: u128| period_ns - wall % period_ns;
    if to_edge(wall_nanos()) < 1_000_000_000 {
        tokio::time::sleep(Duration::from_nanos(to_edge(wall_nanos()) as u64)).await;
    }
    let edge_in = Duration::from_nanos(to_edge(wall_nanos()) as u64);
    tokio::time::sleep(edge_in.saturating_sub(Duration::from_millis(500))).await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let shared = counters.hit(&request).await.unwrap().allowed;
        answers.push((memory.check(key, Instant::now()).allowed, shared));
    }
    // Half a second after the edge.
    tokio::time::sleep(
        Duration::from_nanos(to_edge(wall_nanos()) as u64) + Duration::from_millis(500),
    )
    .await;
    for _ in 0..3 {
        let shared = counters.hit(&request).await.unwrap().allowed;
        answers.push((memory.check(key, Instant::now()).allowed, shared));
    }
    test_redis::delete_prefix(&prefix).await;
    let memory_answers: Vec<bool> = answers.iter().map(|(m, _)| *m).collect();
    let redis_answers: Vec<bool> = answers.iter().map(|(_, r)| *r).collect();
    assert_eq!(memory_answers, redis_answers, "the stores disagree");
    assert_eq!(memory_answers, [true, true, true, false, false]);
}
