//! Token bucket as GCRA: one theoretical arrival time per key.

use super::store::{Counter, Decision, Params};

/// The theoretical arrival time: the bucket is full again at `tat`.
#[derive(Debug)]
pub(super) struct Gcra {
    tat: u64,
}

/// Whether the request fits, and the debt it leaves: how far `tat` is ahead of now.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    allowed: bool,
    debt: u64,
}

impl Gcra {
    /// The debt at `now`, and whether one more request fits in the tolerance
    /// `capacity × interval`.
    fn debt(&self, now: u64, p: &Params) -> Outcome {
        let debt = self.tat.max(now) - now;
        let allowed = debt.saturating_add(p.interval) <= p.capacity.saturating_mul(p.interval);
        Outcome { allowed, debt }
    }
}

impl Counter for Gcra {
    type Time = u64;
    type Outcome = Outcome;

    fn time(now: u64, _p: &Params) -> u64 {
        now
    }

    fn new() -> Self {
        Self { tat: 0 }
    }

    fn check(&mut self, now: u64, p: &Params) -> Outcome {
        let mut o = self.debt(now, p);
        // A refused request takes no token.
        if o.allowed {
            o.debt = o.debt.saturating_add(p.interval);
            self.tat = now.saturating_add(o.debt);
        }
        o
    }

    fn peek(&self, now: u64, p: &Params) -> Outcome {
        self.debt(now, p)
    }

    fn decide(o: Outcome, _now: u64, p: &Params) -> Decision {
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
        Decision::new(o.allowed, p.capacity, remaining, reset, reset)
    }

    fn is_expired(&self, now: u64, _p: &Params) -> bool {
        self.tat <= now
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
}
