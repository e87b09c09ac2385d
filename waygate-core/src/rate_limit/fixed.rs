//! Fixed window: a counter per window, the window opening at the key's first request.

use super::store::{Admission, Counter, Params};

/// `count` requests (refused ones included) in the window that ends at `expires`.
#[derive(Debug)]
pub(super) struct FixedWindow {
    count: u64,
    expires: u64,
}

/// The counter after a check; `count == 0` for a key with nothing counted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    allowed: bool,
    count: u64,
    expires: u64,
}

impl Counter for FixedWindow {
    type Time = u64;
    type Outcome = Outcome;

    fn time(now: u64, _p: &Params) -> u64 {
        now
    }

    fn new() -> Self {
        Self {
            count: 0,
            expires: 0,
        }
    }

    fn check(&mut self, now: u64, p: &Params) -> Outcome {
        if now >= self.expires {
            self.count = 0;
            self.expires = now.saturating_add(p.window);
        }
        // Every request counts, refused ones too; the window does not move.
        self.count = self.count.saturating_add(1);
        Outcome {
            allowed: self.count <= p.capacity,
            count: self.count,
            expires: self.expires,
        }
    }

    fn peek(&self, now: u64, p: &Params) -> Outcome {
        let count = if now >= self.expires { 0 } else { self.count };
        Outcome {
            allowed: count < p.capacity,
            count,
            expires: self.expires,
        }
    }

    fn decide(o: Outcome, now: u64, p: &Params) -> Admission {
        let reset = if o.count == 0 {
            0
        } else {
            o.expires.saturating_sub(now).min(p.window)
        };
        Admission::new(
            o.allowed,
            p.capacity,
            p.capacity.saturating_sub(o.count),
            reset,
            reset,
        )
    }

    fn is_expired(&self, now: u64, _p: &Params) -> bool {
        now >= self.expires
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
    fn window_opens_at_the_first_request() {
        let (store, t0) = store(Algorithm::FixedWindow, "2/minute", 0);
        // Not aligned to the epoch: the window is [t0+50s, t0+110s).
        let start = t0 + secs(50);
        let d = store.check(KEY, start);
        assert_eq!((d.allowed, d.remaining, d.reset_after), (true, 1, secs(60)));
        let d = store.check(KEY, start + secs(20));
        assert_eq!((d.allowed, d.remaining, d.reset_after), (true, 0, secs(40)));
        let d = store.check(KEY, start + secs(59));
        assert_eq!((d.allowed, d.remaining), (false, 0));
        assert_eq!(d.retry_after, secs(1));
        assert_eq!(d.retry_after_seconds(), 1);
        // A new window at exactly the expiry.
        let d = store.check(KEY, start + secs(60));
        assert_eq!((d.allowed, d.remaining, d.reset_after), (true, 1, secs(60)));
    }

    #[test]
    fn refused_requests_count_but_do_not_move_the_window() {
        let (store, t0) = store(Algorithm::FixedWindow, "1/minute", 0);
        assert!(store.check(KEY, t0).allowed);
        for s in [1, 10, 30, 59] {
            let d = store.check(KEY, t0 + secs(s));
            assert!(!d.allowed);
            assert_eq!(d.retry_after, secs(60 - s));
        }
        // Four refused requests were counted.
        let d = store.peek(KEY, t0 + secs(59));
        assert_eq!((d.allowed, d.remaining), (false, 0));
        assert!(store.check(KEY, t0 + secs(60)).allowed);
    }

    #[test]
    fn allows_nearly_twice_the_limit_around_a_window_boundary() {
        let (store, t0) = store(Algorithm::FixedWindow, "3/minute", 0);
        let allowed =
            |at: Duration, n| (0..n).filter(|_| store.check(KEY, t0 + at).allowed).count();
        assert_eq!(allowed(Duration::ZERO, 1), 1);
        // 5 requests within a millisecond, 6 within one period.
        assert_eq!(allowed(Duration::from_millis(59_999), 2), 2);
        assert_eq!(allowed(secs(60), 4), 3);
    }

    #[test]
    fn burst_adds_to_the_capacity() {
        let (store, t0) = store(Algorithm::FixedWindow, "2/minute", 3);
        let results: Vec<_> = (0..6).map(|_| store.check(KEY, t0)).collect();
        let remaining: Vec<_> = results.iter().map(|d| d.remaining).collect();
        assert_eq!(remaining, [4, 3, 2, 1, 0, 0]);
        assert!(results[..5].iter().all(|d| d.allowed && d.limit == 5));
        assert!(!results[5].allowed);
    }

    #[test]
    fn expired_counters_are_evicted() {
        let (store, t0) = store(Algorithm::FixedWindow, "1/minute", 0);
        store.check(KEY, t0);
        assert_eq!(store.evict_expired(t0 + Duration::from_millis(59_999)), 0);
        assert_eq!(store.evict_expired(t0 + secs(60)), 1);
        assert!(store.is_empty());
    }
}
