//! Moving window: the time of every allowed request in the last period.

use std::collections::VecDeque;

use super::store::{Admission, Counter, Params};

/// Times of allowed requests, oldest first; some may have left the window already.
#[derive(Debug)]
pub(super) struct MovingWindow {
    hits: VecDeque<u64>,
}

/// How many requests are in the window and when the oldest (and the one whose leaving
/// would let a refused request through) leave, in nanoseconds from now.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    allowed: bool,
    live: u64,
    reset: u64,
    retry: u64,
}

impl MovingWindow {
    /// The index of the first request still in the window at `now`: one at `t` leaves at
    /// `t + W`.
    fn first_live(&self, now: u64, p: &Params) -> usize {
        self.hits
            .partition_point(|&t| t.saturating_add(p.window) <= now)
    }

    /// The outcome for the requests from index `first` on.
    fn outcome(&self, allowed: bool, first: usize, now: u64, p: &Params) -> Outcome {
        let live = self.hits.len() - first;
        let leaves = |i: usize| {
            self.hits
                .get(i)
                .map_or(0, |&t| t.saturating_add(p.window).saturating_sub(now))
        };
        let reset = if live == 0 { 0 } else { leaves(first) };
        // Refused: `live - capacity + 1` requests must leave first.
        let retry = usize::try_from(p.capacity)
            .ok()
            .and_then(|c| live.checked_sub(c))
            .map_or(reset, |over| leaves(first + over));
        Outcome {
            allowed,
            live: live as u64,
            reset,
            retry,
        }
    }
}

impl Counter for MovingWindow {
    type Time = u64;
    type Outcome = Outcome;

    fn time(now: u64, _p: &Params) -> u64 {
        now
    }

    fn new() -> Self {
        Self {
            hits: VecDeque::new(),
        }
    }

    fn check(&mut self, now: u64, p: &Params) -> Outcome {
        // Keep the log ordered when an earlier instant arrives late.
        let now = self.hits.back().map_or(now, |&last| now.max(last));
        while self
            .hits
            .front()
            .is_some_and(|&t| t.saturating_add(p.window) <= now)
        {
            self.hits.pop_front();
        }
        let allowed = (self.hits.len() as u64) < p.capacity;
        if allowed {
            self.hits.push_back(now);
        }
        self.outcome(allowed, 0, now, p)
    }

    fn peek(&self, now: u64, p: &Params) -> Outcome {
        let first = self.first_live(now, p);
        let allowed = ((self.hits.len() - first) as u64) < p.capacity;
        self.outcome(allowed, first, now, p)
    }

    fn decide(o: Outcome, _now: u64, p: &Params) -> Admission {
        Admission::new(
            o.allowed,
            p.capacity,
            p.capacity.saturating_sub(o.live),
            o.reset,
            o.retry,
        )
    }

    fn is_expired(&self, now: u64, p: &Params) -> bool {
        self.hits
            .back()
            .is_none_or(|&t| t.saturating_add(p.window) <= now)
    }

    fn compact(&mut self, now: u64, p: &Params) {
        let first = self.first_live(now, p);
        self.hits.drain(..first);
        if self.hits.capacity() > 2 * self.hits.len() + 4 {
            self.hits.shrink_to_fit();
        }
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
    fn exact_count_over_the_last_period() {
        let (store, t0) = store(Algorithm::MovingWindow, "3/minute", 0);
        for s in [0, 20, 40] {
            assert!(store.check(KEY, t0 + secs(s)).allowed);
        }
        let d = store.check(KEY, t0 + secs(50));
        assert_eq!((d.allowed, d.remaining), (false, 0));
        assert_eq!(d.retry_after, secs(10), "the request at 0 s leaves at 60 s");
        assert!(
            !store
                .check(KEY, t0 + secs(60) - Duration::from_nanos(1))
                .allowed
        );
        let d = store.check(KEY, t0 + secs(60));
        assert_eq!((d.allowed, d.remaining), (true, 0));
        assert_eq!(
            d.reset_after,
            secs(20),
            "the request at 20 s leaves at 80 s"
        );
        assert!(!store.check(KEY, t0 + secs(79)).allowed);
        assert!(store.check(KEY, t0 + secs(80)).allowed);
    }

    #[test]
    fn no_burst_at_any_boundary() {
        let (store, t0) = store(Algorithm::MovingWindow, "3/minute", 0);
        let allowed =
            |at: Duration, n| (0..n).filter(|_| store.check(KEY, t0 + at).allowed).count();
        assert_eq!(allowed(secs(59), 3), 3);
        assert_eq!(allowed(secs(60), 3), 0);
        assert_eq!(allowed(secs(118), 3), 0);
        assert_eq!(allowed(secs(119), 3), 3);
    }

    #[test]
    fn refused_requests_leave_no_trace() {
        let (store, t0) = store(Algorithm::MovingWindow, "1/minute", 0);
        assert!(store.check(KEY, t0).allowed);
        for s in 1..60 {
            assert!(!store.check(KEY, t0 + secs(s)).allowed);
        }
        assert!(store.check(KEY, t0 + secs(60)).allowed);
    }

    #[test]
    fn burst_adds_to_the_capacity() {
        let (store, t0) = store(Algorithm::MovingWindow, "2/minute", 1);
        let d: Vec<_> = (0..4).map(|i| store.check(KEY, t0 + secs(i))).collect();
        assert_eq!(
            d.iter().map(|d| d.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert!(!d[3].allowed);
        assert_eq!(d[3].retry_after, secs(57));
        assert_eq!(d[2].reset_after, secs(58));
    }

    #[test]
    fn peek_skips_requests_that_left() {
        let (store, t0) = store(Algorithm::MovingWindow, "2/minute", 0);
        store.check(KEY, t0);
        store.check(KEY, t0 + secs(30));
        let d = store.peek(KEY, t0 + secs(70));
        assert_eq!((d.allowed, d.remaining, d.reset_after), (true, 1, secs(20)));
        let d = store.peek(KEY, t0 + secs(45));
        assert_eq!(
            (d.allowed, d.remaining, d.retry_after),
            (false, 0, secs(15))
        );
    }

    #[test]
    fn expired_when_the_newest_request_left() {
        let (store, t0) = store(Algorithm::MovingWindow, "5/minute", 0);
        store.check(KEY, t0);
        store.check(KEY, t0 + secs(30));
        assert_eq!(store.evict_expired(t0 + secs(60)), 0);
        assert_eq!(store.evict_expired(t0 + secs(90)), 1);
    }
}
