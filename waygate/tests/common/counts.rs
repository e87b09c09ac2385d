//! An engine's request counters, as tests read them (shared with the core's tests).

use waygate_core::{Engine, RequestOutcome};

/// How many requests to `key` the engine counted as allowed (0 before any).
pub fn allowed(engine: &Engine, key: &str) -> u64 {
    engine
        .request_counts()
        .into_iter()
        .find(|(k, _)| k == key)
        .map_or(0, |(_, counts)| counts[RequestOutcome::Allowed as usize])
}
