//! Wall-clock time anchored to tokio's clock, so that maintenance windows and their timers
//! follow tokio's paused clock in tests.

use chrono::{DateTime, Utc};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// UTC time computed as a fixed anchor plus tokio's monotonic elapsed time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    utc: DateTime<Utc>,
    at: Instant,
    /// `utc` as whole seconds since the Unix epoch and the nanoseconds past them, worked
    /// out once (chrono derives them from the date on every call).
    unix_seconds: i64,
    unix_nanos: u32,
    /// Tells this clock's minutes from another's in a thread's [`unix_minute`](Self::unix_minute) cache.
    id: u64,
}

/// The minute a thread last read from a clock: the clock's id, the minute, and the
/// instants it starts and ends at.
type LastMinute = Option<(u64, i64, Instant, Instant)>;

impl Clock {
    pub(crate) fn new() -> Self {
        let utc = Utc::now();
        Self {
            utc,
            at: Instant::now(),
            unix_seconds: utc.timestamp(),
            unix_nanos: utc.timestamp_subsec_nanos(),
            id: {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                NEXT.fetch_add(1, Ordering::Relaxed)
            },
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.at);
        self.utc + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }

    /// The current minute since the Unix epoch (seconds / 60), without building a date:
    /// what the per-minute traffic counts key by. Each thread remembers the last minute it
    /// read and when that minute ends, so that most reads are a clock read and a comparison.
    pub(crate) fn unix_minute(&self) -> i64 {
        thread_local! {
            static LAST: Cell<LastMinute> = const { Cell::new(None) };
        }
        let now = Instant::now();
        LAST.with(|last| match last.get() {
            Some((id, minute, starts, ends)) if id == self.id && starts <= now && now < ends => {
                minute
            }
            _ => {
                let (minute, starts, ends) = self.minute_at(now);
                last.set(Some((self.id, minute, starts, ends)));
                minute
            }
        })
    }

    /// The minute since the Unix epoch that `now` falls in, and the instants it starts and
    /// ends at.
    fn minute_at(&self, now: Instant) -> (i64, Instant, Instant) {
        let elapsed = now.saturating_duration_since(self.at);
        let nanos = u64::from(self.unix_nanos) + u64::from(elapsed.subsec_nanos());
        let whole = i64::try_from(elapsed.as_secs() + nanos / NANOS_PER_SECOND).unwrap_or(i64::MAX);
        let seconds = self.unix_seconds.saturating_add(whole);
        let into = Duration::new(
            seconds.rem_euclid(60).unsigned_abs(),
            u32::try_from(nanos % NANOS_PER_SECOND).unwrap_or_default(),
        );
        let starts = now.checked_sub(into).unwrap_or(now);
        (
            seconds.div_euclid(60),
            starts,
            starts + Duration::from_secs(60),
        )
    }

    /// The tokio instant at which the clock reads `at` (now, if `at` has passed).
    pub(crate) fn instant_at(&self, at: DateTime<Utc>) -> Instant {
        let now = Instant::now();
        match (at - self.now()).to_std() {
            Ok(wait) => now + wait,
            Err(_) => now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_unix_minute_is_the_minute_of_now() {
        let clock = Clock::new();
        for _ in 0..200 {
            assert_eq!(clock.unix_minute(), clock.now().timestamp().div_euclid(60));
            tokio::time::advance(Duration::from_millis(1_700)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn two_clocks_read_on_one_thread_keep_their_own_minutes() {
        let one = Clock::new();
        // Another start: another anchor, as a second engine has.
        tokio::time::advance(Duration::from_millis(29_300)).await;
        let mut two = Clock::new();
        // Its wall time half a minute off `one`'s, so that their minutes change apart.
        two.utc += chrono::Duration::seconds(30);
        two.unix_seconds += 30;
        for _ in 0..150 {
            for clock in [&one, &two, &one] {
                assert_eq!(clock.unix_minute(), clock.now().timestamp().div_euclid(60));
            }
            tokio::time::advance(Duration::from_millis(900)).await;
        }
    }
}
