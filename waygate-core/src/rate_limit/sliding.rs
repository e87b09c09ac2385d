//! Sliding window counter: the current and the previous clock-aligned window.

use super::store::{Admission, Counter, Params};

/// Counts of window number `window` (`cur`) and of the one before it (`prev`); windows are
/// numbered from the Unix epoch (or a store's explicit epoch). The counts never exceed the capacity, which the store
/// caps at `u32::MAX` for this algorithm: 16 bytes a key.
#[derive(Debug)]
pub(super) struct SlidingWindow {
    window: u64,
    prev: u32,
    cur: u32,
}

/// An instant as a window number and the time since that window opened.
#[derive(Debug, Clone, Copy)]
pub(super) struct Time {
    window: u64,
    elapsed: u64,
}

/// The counters as seen at one instant, after the request was counted if it was allowed.
#[derive(Debug, Clone, Copy)]
pub(super) struct View {
    allowed: bool,
    /// Time since the window opened.
    elapsed: u64,
    prev: u64,
    cur: u64,
}

/// `a × b / c` without overflow, `c > 0`; the result fits when `b <= c`.
fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    match a.checked_mul(b) {
        Some(product) => product / c,
        None => (u128::from(a) * u128::from(b) / u128::from(c)) as u64,
    }
}

impl View {
    /// Whether one more request fits: `floor(prev × (W − elapsed) / W) + cur < capacity`,
    /// decided without dividing (this runs under the shard's lock).
    #[inline]
    fn new(elapsed: u64, prev: u64, cur: u64, p: &Params) -> Self {
        let allowed = cur < p.capacity
            && u128::from(prev) * u128::from(p.window - elapsed)
                < u128::from(p.capacity - cur) * u128::from(p.window);
        Self {
            allowed,
            elapsed,
            prev,
            cur,
        }
    }

    /// `floor(prev × (W − elapsed) / W)`: the previous window weighted by how much of it is
    /// still within the last period.
    fn share(&self, p: &Params) -> u64 {
        if self.prev == 0 {
            return 0;
        }
        let left = p.window - self.elapsed;
        match self.prev.checked_mul(left) {
            Some(product) => p.divide(product).0,
            None => mul_div(self.prev, left, p.window),
        }
    }

    /// Until the weighted count drops by one (0 when it is 0).
    ///
    /// The Python `limits` package reports the earlier of the previous window's next drop and
    /// the end of the current window; at the latter the count does not drop (the current
    /// window becomes the previous one at full weight), so this reports the actual drop.
    fn next_drop(&self, share: u64, p: &Params) -> u64 {
        let left = p.window - self.elapsed;
        if share > 0 {
            // The first instant `e` at which `prev × (W − e) < share × W`.
            let at = mul_div(self.prev - share, p.window, self.prev).saturating_add(1);
            return if at < p.window {
                at - self.elapsed
            } else {
                // Only when `prev` exceeds the window in nanoseconds: drops at the roll.
                left
            };
        }
        if self.cur == 0 {
            return 0;
        }
        // The current window rolls over at full weight and starts fading just after.
        left.saturating_add(1)
    }
}

impl SlidingWindow {
    /// The counters at `t`, rolled over to its window, and whether a request fits.
    #[inline]
    fn view(&self, t: Time, p: &Params) -> (u64, View) {
        let (prev, cur) = (u64::from(self.prev), u64::from(self.cur));
        if t.window < self.window {
            // An instant read before another thread's, arriving after it: the stored window's
            // start.
            (self.window, View::new(0, prev, cur, p))
        } else if t.window == self.window {
            (t.window, View::new(t.elapsed, prev, cur, p))
        } else if t.window - self.window == 1 {
            (t.window, View::new(t.elapsed, cur, 0, p))
        } else {
            (t.window, View::new(t.elapsed, 0, 0, p))
        }
    }
}

impl Counter for SlidingWindow {
    type Time = Time;
    type Outcome = View;

    fn time(now: u64, p: &Params) -> Time {
        let (window, elapsed) = p.divide(now);
        Time { window, elapsed }
    }

    fn new() -> Self {
        Self {
            window: 0,
            prev: 0,
            cur: 0,
        }
    }

    fn check(&mut self, t: Time, p: &Params) -> View {
        let (window, mut view) = self.view(t, p);
        if view.allowed {
            // Only allowed requests count.
            view.cur += 1;
        }
        // Both counts are at most the capacity, itself at most `u32::MAX`.
        self.window = window;
        self.prev = u32::try_from(view.prev).unwrap_or(u32::MAX);
        self.cur = u32::try_from(view.cur).unwrap_or(u32::MAX);
        view
    }

    fn peek(&self, t: Time, p: &Params) -> View {
        self.view(t, p).1
    }

    fn decide(view: View, _t: Time, p: &Params) -> Admission {
        let share = view.share(p);
        let reset = view.next_drop(share, p);
        Admission::new(
            view.allowed,
            p.capacity,
            p.capacity.saturating_sub(view.cur.saturating_add(share)),
            reset,
            reset,
        )
    }

    fn is_expired(&self, now: u64, p: &Params) -> bool {
        match p.divide(now).0.saturating_sub(self.window) {
            0 => self.prev == 0 && self.cur == 0,
            1 => self.cur == 0,
            _ => true,
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

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn no_burst_at_a_window_boundary() {
        let (store, t0) = store(Algorithm::SlidingWindow, "3/minute", 0);
        let allowed =
            |at: Duration, n| (0..n).filter(|_| store.check(KEY, t0 + at).allowed).count();
        assert_eq!(allowed(ms(59_000), 3), 3);
        // At the boundary the previous window still weighs fully.
        assert_eq!(allowed(secs(60), 3), 0);
        // A third of the way in, a third of it has faded: floor(3 × 2/3) = 2, one slot.
        assert_eq!(allowed(secs(80), 3), 1);
    }

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        let (store, t0) = store(Algorithm::SlidingWindow, "2/minute", 0);
        // Window [0, 60): a request at 50 s; at 70 s it weighs (60 − 10)/60 → floor(0.83) = 0.
        assert!(store.check(KEY, t0 + secs(50)).allowed);
        let d = store.check(KEY, t0 + secs(59));
        assert_eq!((d.allowed, d.remaining), (true, 0));
        let d = store.peek(KEY, t0 + secs(70));
        // weighted = 2 × 50/60 = 1.67 → 1.
        assert_eq!((d.allowed, d.remaining), (true, 1));
        // It drops to 0 just after 2 × (60 − e)/60 < 1, i.e. e > 30 s.
        assert_eq!(d.reset_after, secs(20) + Duration::from_nanos(1));
    }

    #[test]
    fn refused_requests_do_not_count() {
        let (store, t0) = store(Algorithm::SlidingWindow, "2/minute", 0);
        assert!(store.check(KEY, t0).allowed);
        assert!(store.check(KEY, t0).allowed);
        for s in [1, 20, 59] {
            assert!(!store.check(KEY, t0 + secs(s)).allowed);
        }
        // Next window: weighted = 2 × (60 − e)/60, allowed once it is below 2.
        assert!(!store.check(KEY, t0 + secs(60)).allowed);
        let d = store.check(KEY, t0 + secs(61));
        assert_eq!((d.allowed, d.remaining), (true, 0));
        // Had the refused requests counted, the previous window would hold 5.
    }

    #[test]
    fn retry_after_is_when_a_request_would_be_allowed() {
        let (store, t0) = store(Algorithm::SlidingWindow, "10/minute", 0);
        for _ in 0..10 {
            assert!(store.check(KEY, t0 + secs(10)).allowed);
        }
        // Full in the current window: the count drops only after the roll, just after 60 s.
        let d = store.check(KEY, t0 + secs(30));
        assert!(!d.allowed);
        assert_eq!(d.retry_after, secs(30) + Duration::from_nanos(1));
        assert!(!store.check(KEY, t0 + secs(60)).allowed);
        assert!(
            store
                .check(KEY, t0 + secs(60) + Duration::from_nanos(1))
                .allowed
        );
        // Now 9 (previous, weight ~1) + 1: refused until the previous share drops to 8,
        // i.e. 10 × (60 − e)/60 < 9 ⇔ e > 6 s.
        let d = store.check(KEY, t0 + secs(61));
        assert!(!d.allowed);
        assert_eq!(d.retry_after, secs(5) + Duration::from_nanos(1));
        assert!(!store.check(KEY, t0 + secs(66)).allowed);
        assert!(
            store
                .check(KEY, t0 + secs(66) + Duration::from_nanos(1))
                .allowed
        );
    }

    #[test]
    fn burst_adds_to_the_capacity() {
        let (store, t0) = store(Algorithm::SlidingWindow, "2/minute", 2);
        let remaining: Vec<_> = (0..5).map(|_| store.check(KEY, t0).remaining).collect();
        assert_eq!(remaining, [3, 2, 1, 0, 0]);
        assert_eq!(store.check(KEY, t0).limit, 4);
    }

    #[test]
    fn counters_live_for_two_windows() {
        let (store, t0) = store(Algorithm::SlidingWindow, "1/minute", 0);
        store.check(KEY, t0 + secs(30));
        assert_eq!(store.evict_expired(t0 + ms(119_999)), 0);
        assert_eq!(store.evict_expired(t0 + secs(120)), 1);
    }

    #[test]
    fn an_instant_from_before_the_last_window_counts_at_its_start() {
        let (store, t0) = store(Algorithm::SlidingWindow, "1/minute", 0);
        assert!(store.check(KEY, t0 + secs(61)).allowed);
        // Read before the previous request, counted after it.
        let d = store.check(KEY, t0 + secs(59));
        assert!(!d.allowed);
        assert!(d.reset_after <= secs(60) + Duration::from_nanos(1));
    }
}
