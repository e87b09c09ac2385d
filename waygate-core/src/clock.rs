//! Wall-clock time anchored to tokio's clock, so that maintenance windows and their timers
//! follow tokio's paused clock in tests.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// UTC time computed as a fixed anchor plus tokio's monotonic elapsed time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    utc: DateTime<Utc>,
    at: Instant,
    /// `utc` as whole seconds since the Unix epoch and the nanoseconds past them, worked
    /// out once (chrono derives them from the date on every call).
    unix_seconds: i64,
    unix_nanos: u32,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let utc = Utc::now();
        Self {
            utc,
            at: Instant::now(),
            unix_seconds: utc.timestamp(),
            unix_nanos: utc.timestamp_subsec_nanos(),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.at);
        self.utc + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }

    /// The current minute since the Unix epoch (seconds / 60), without building a date:
    /// what the per-minute traffic counts key by.
    pub(crate) fn unix_minute(&self) -> i64 {
        let elapsed = Instant::now().saturating_duration_since(self.at);
        let nanos = u64::from(self.unix_nanos) + u64::from(elapsed.subsec_nanos());
        let whole = i64::try_from(elapsed.as_secs() + nanos / 1_000_000_000).unwrap_or(i64::MAX);
        self.unix_seconds.saturating_add(whole).div_euclid(60)
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
}
