//! An engine's request counters and flag evaluations, as tests read them (shared with the
//! core's and the actix-web crate's tests).

use waygate_core::{Engine, RequestOutcome};

/// How many requests to `key` the engine counted as `outcome` (0 before any).
pub fn counted(engine: &Engine, key: &str, outcome: RequestOutcome) -> u64 {
    engine
        .request_counts()
        .into_iter()
        .find(|(k, _)| k == key)
        .map_or(0, |(_, counts)| counts[outcome as usize])
}

/// How many requests to `key` the engine counted as allowed (0 before any).
pub fn allowed(engine: &Engine, key: &str) -> u64 {
    counted(engine, key, RequestOutcome::Allowed)
}

/// How many times flag `flag` was evaluated to `variation`, for any reason.
pub fn evaluated(engine: &Engine, flag: &str, variation: &str) -> u64 {
    let counts = engine.flag_telemetry().evaluations();
    counts
        .iter()
        .filter(|count| count.flag == flag && count.variation == variation)
        .map(|count| count.count)
        .sum()
}
