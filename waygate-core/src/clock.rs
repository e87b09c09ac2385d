//! Wall-clock time anchored to tokio's clock, so that maintenance windows and their timers
//! follow tokio's paused clock in tests.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// UTC time computed as a fixed anchor plus tokio's monotonic elapsed time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    utc: DateTime<Utc>,
    at: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            utc: Utc::now(),
            at: Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.at);
        self.utc + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
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
