//! Token bucket as GCRA: one theoretical arrival time per key.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::store::{Admission, Counter, Params};

/// The theoretical arrival time: the bucket is full again at `tat`. One atomic word, so a
/// key is checked under its shard's read lock (a compare-and-swap on `tat`).
#[derive(Debug)]
pub(super) struct Gcra {
    tat: AtomicU64,
}

/// Whether the request fits, and the debt it leaves: how far `tat` is ahead of now.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    allowed: bool,
    debt: u64,
}

/// The debt at `now` of a bucket full again at `tat`, and whether one more request fits in
/// the tolerance `capacity × interval`.
fn debt(tat: u64, now: u64, p: &Params) -> Outcome {
    let debt = tat.max(now) - now;
    let allowed = debt.saturating_add(p.interval) <= p.capacity.saturating_mul(p.interval);
    Outcome { allowed, debt }
}

/// What a request at `now` leaves of a bucket full again at `tat`: the outcome, and the new
/// `tat` if the request is allowed (a refused request takes no token).
fn take(tat: u64, now: u64, p: &Params) -> (Outcome, Option<u64>) {
    let mut o = debt(tat, now, p);
    if !o.allowed {
        return (o, None);
    }
    o.debt = o.debt.saturating_add(p.interval);
    (o, Some(now.saturating_add(o.debt)))
}

impl Counter for Gcra {
    type Time = u64;
    type Outcome = Outcome;

    fn time(now: u64, _p: &Params) -> u64 {
        now
    }

    fn new() -> Self {
        Self {
            tat: AtomicU64::new(0),
        }
    }

    fn check(&mut self, now: u64, p: &Params) -> Outcome {
        let tat = self.tat.get_mut();
        let (o, next) = take(*tat, now, p);
        if let Some(next) = next {
            *tat = next;
        }
        o
    }

    const SHARED_CHECK: bool = true;

    fn check_shared(&self, now: u64, p: &Params) -> Option<Outcome> {
        // `tat` is the only state: relaxed ordering suffices, nothing else is published.
        let mut tat = self.tat.load(Relaxed);
        loop {
            let (o, next) = take(tat, now, p);
            let Some(next) = next else {
                return Some(o);
            };
            match self.tat.compare_exchange_weak(tat, next, Relaxed, Relaxed) {
                Ok(_) => return Some(o),
                Err(current) => tat = current,
            }
        }
    }

    fn peek(&self, now: u64, p: &Params) -> Outcome {
        debt(self.tat.load(Relaxed), now, p)
    }

    fn decide(o: Outcome, _now: u64, p: &Params) -> Admission {
        let limit = p.capacity.saturating_mul(p.interval);
        let remaining = limit.saturating_sub(o.debt) / p.interval;
        // The next token is back when the debt falls to `limit - (remaining + 1) × interval`.
        let reset = if o.debt == 0 {
            0
        } else {
            o.debt
                .saturating_add(remaining.saturating_add(1).saturating_mul(p.interval))
                .saturating_sub(limit)
        };
        Admission::new(o.allowed, p.capacity, remaining, reset, reset)
    }

    fn is_expired(&self, now: u64, _p: &Params) -> bool {
        self.tat.load(Relaxed) <= now
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::rate_limit::store::tests::store;
    use crate::rate_limit::{Algorithm, CounterKey};

    const KEY: CounterKey<'static> = CounterKey::Global;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn allows_the_capacity_at_once_then_one_per_interval() {
        // 10/minute: a token every 6 s; burst 2: 12 at once.
        let (store, t0) = store(Algorithm::TokenBucket, "10/minute", 2);
        for n in (0..12).rev() {
            let d = store.check(KEY, t0);
            assert!(d.allowed);
            assert_eq!(d.remaining, n);
            assert_eq!(d.reset_after, secs(6), "a token is back 6 s later");
        }
        let d = store.check(KEY, t0 + secs(1));
        assert_eq!((d.allowed, d.remaining), (false, 0));
        assert_eq!(d.retry_after, secs(5));
        assert_eq!(d.reset_after, secs(5));
        // Refill: one token after 6 s, and refused requests took none.
        assert!(store.check(KEY, t0 + secs(6)).allowed);
        assert!(!store.check(KEY, t0 + secs(6)).allowed);
        let d = store.check(KEY, t0 + secs(30));
        assert_eq!((d.allowed, d.remaining), (true, 3));
    }

    #[test]
    fn refills_to_the_capacity_and_no_more() {
        let (store, t0) = store(Algorithm::TokenBucket, "2/second", 0);
        assert!(store.check(KEY, t0).allowed);
        assert!(store.check(KEY, t0).allowed);
        assert!(!store.check(KEY, t0).allowed);
        let later = t0 + secs(3600);
        let d = store.peek(KEY, later);
        assert_eq!(
            (d.allowed, d.remaining, d.reset_after),
            (true, 2, Duration::ZERO)
        );
        assert!(store.check(KEY, later).allowed);
        assert!(store.check(KEY, later).allowed);
        let d = store.check(KEY, later);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Duration::from_millis(500));
    }

    #[test]
    fn spaced_requests_at_the_rate_are_all_allowed() {
        let (store, t0) = store(Algorithm::TokenBucket, "4/second", 0);
        for i in 0..100 {
            let d = store.check(KEY, t0 + Duration::from_millis(250 * i));
            assert!(d.allowed);
            assert_eq!(d.remaining, 3);
        }
    }

    #[test]
    fn partial_refill_reports_the_next_token() {
        let (store, t0) = store(Algorithm::TokenBucket, "1/10 seconds", 2);
        for _ in 0..3 {
            assert!(store.check(KEY, t0).allowed);
        }
        // 14 s later one token is back and the next comes at 20 s.
        let d = store.peek(KEY, t0 + secs(14));
        assert_eq!((d.allowed, d.remaining, d.reset_after), (true, 1, secs(6)));
        let d = store.check(KEY, t0 + secs(14));
        assert_eq!((d.allowed, d.remaining, d.reset_after), (true, 0, secs(6)));
        let d = store.check(KEY, t0 + secs(15));
        assert_eq!((d.allowed, d.retry_after), (false, secs(5)));
    }

    #[test]
    fn expired_when_the_bucket_is_full_again() {
        let (store, t0) = store(Algorithm::TokenBucket, "2/second", 0);
        store.check(KEY, t0);
        store.check(KEY, t0);
        assert_eq!(store.evict_expired(t0 + Duration::from_millis(999)), 0);
        assert_eq!(store.evict_expired(t0 + secs(1)), 1);
    }

    #[test]
    fn threads_checking_one_key_share_its_tokens_exactly() {
        // The first check of each key is counted under the write lock, every later one by a
        // compare-and-swap under the read lock: 4 threads race on an IP key and on the
        // global key, and exactly the capacity (25 + burst 5) gets through for each.
        let (store, t0) = store(Algorithm::TokenBucket, "25/hour", 5);
        let ip = CounterKey::Ip(std::net::Ipv4Addr::new(10, 0, 0, 7).into());
        let allowed = std::sync::atomic::AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    barrier.wait();
                    for _ in 0..1_000 {
                        for key in [ip, KEY] {
                            if store.check(key, t0).allowed {
                                allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(allowed.into_inner(), 2 * 30);
        assert_eq!(store.peek(ip, t0).remaining, 0);
        assert_eq!(store.peek(KEY, t0).remaining, 0);
    }
}
