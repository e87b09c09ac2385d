//! Rate-limit counters in Redis: one server-side script call per check, on Redis's clock.

use super::keys::glob_escape;
use super::{unavailable, Shared};
use crate::backend::BackendError;
use crate::rate_limit::{Admission, Algorithm, CounterRequest, SharedCounters};
use async_trait::async_trait;
use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The check, for every algorithm (`counter.lua`). `invoke_async` sends `EVALSHA` and loads
/// the script only when the server does not have it yet.
static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("counter.lua")));

/// How many keys one `SCAN` step looks at when a reset clears counters.
const SCAN_COUNT: usize = 1000;

/// The backend's counters (what [`rate_limit_counters`](crate::backend::Backend::rate_limit_counters)
/// hands the engine).
pub(super) struct Handle {
    pub(super) backend: Arc<Shared>,
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::FixedWindow => "fixed",
        Algorithm::SlidingWindow => "sliding",
        Algorithm::MovingWindow => "moving",
        Algorithm::TokenBucket => "gcra",
    }
}

#[async_trait]
impl SharedCounters for Handle {
    async fn hit(&self, request: &CounterRequest<'_>) -> Result<Admission, BackendError> {
        let mut conn = self.backend.connection().await?;
        let period = u64::try_from(request.period.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let algorithm = algorithm_name(request.algorithm);
        // The rate is part of the key, so a changed policy starts fresh counters (as the
        // Python original's `limits` keys do).
        let key = format!(
            "{}{algorithm}|{}|{period}|{}",
            self.backend.keys.counters_of(request.namespace),
            request.capacity,
            request.key
        );
        let (allowed, remaining, reset, retry): (i64, i64, i64, i64) = SCRIPT
            .key(key)
            .arg(algorithm)
            .arg(request.capacity)
            .arg(period)
            .arg(request.amount.max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        Ok(Admission::counted(
            allowed == 1,
            request.capacity,
            u64::try_from(remaining).unwrap_or(0),
            micros(reset),
            micros(retry),
        ))
    }

    async fn reset(&self, namespace: &str) -> Result<(), BackendError> {
        let mut conn = self.backend.connection().await?;
        let pattern = format!(
            "{}*",
            glob_escape(&self.backend.keys.counters_of(namespace))
        );
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if !keys.is_empty() {
                redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(unavailable)?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCounters")
            .field("key_prefix", &self.backend.keys.prefix())
            .finish()
    }
}
