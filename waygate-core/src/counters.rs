//! What the decision did with each request, counted per route: the numbers behind
//! `waygate_requests_total{route,outcome}`.
//!
//! Two cores counting the same route do not contend: each route has [`SHARDS`] cache lines
//! of one counter per [`RequestOutcome`], and a thread always counts in the line its thread
//! index picks. A route's counters live beside its rule in the snapshot (no lookup per
//! request) and outlast snapshots; reading sums the lines (a scrape, rarely).

use rustc_hash::FxHashMap;
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// What [`Engine::decide`](crate::Engine::decide) did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestOutcome {
    /// Served (active, deprecated, force-active, or within its limits).
    Allowed = 0,
    /// Refused: the route is in maintenance.
    Maintenance = 1,
    /// Refused: the route is disabled.
    Disabled = 2,
    /// Refused: the route is not served in this environment.
    EnvGated = 3,
    /// Refused: over a rate limit.
    RateLimited = 4,
    /// Refused: global (or service) maintenance.
    GlobalMaintenance = 5,
    /// Served despite maintenance or a disabled route, for a valid bypass token.
    Bypassed = 6,
    /// Refused: the client is outside the route's rollout percentage.
    RolloutExcluded = 7,
    /// Refused: the route's feature flag is off for the request.
    FlagOff = 8,
}

impl RequestOutcome {
    /// How many outcomes there are.
    pub const COUNT: usize = 9;

    /// Every outcome, in label order.
    pub const ALL: [Self; Self::COUNT] = [
        Self::Allowed,
        Self::Maintenance,
        Self::Disabled,
        Self::EnvGated,
        Self::RateLimited,
        Self::GlobalMaintenance,
        Self::Bypassed,
        Self::RolloutExcluded,
        Self::FlagOff,
    ];

    /// The metrics label: `allowed`, `maintenance`, `disabled`, `env_gated`,
    /// `rate_limited`, `global_maintenance`, `bypassed`, `rollout_excluded`, `flag_off`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Maintenance => "maintenance",
            Self::Disabled => "disabled",
            Self::EnvGated => "env_gated",
            Self::RateLimited => "rate_limited",
            Self::GlobalMaintenance => "global_maintenance",
            Self::Bypassed => "bypassed",
            Self::RolloutExcluded => "rollout_excluded",
            Self::FlagOff => "flag_off",
        }
    }
}

/// The counters of every route the engine built a rule for, by key; survives snapshots.
#[derive(Default)]
pub(crate) struct RequestCounters {
    routes: Mutex<FxHashMap<Box<str>, Arc<RouteCounters>>>,
    /// Requests that matched no known route.
    pub(crate) unmatched: Arc<RouteCounters>,
}

impl std::fmt::Debug for RequestCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestCounters").finish_non_exhaustive()
    }
}

impl RequestCounters {
    /// The counters of `key`, created on first use (when a snapshot is built, never per
    /// request).
    pub(crate) fn route(&self, key: &str) -> Arc<RouteCounters> {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(routes.entry(key.into()).or_default())
    }

    /// Every route's totals, sorted by key; `unmatched` under `unmatched_key`.
    pub(crate) fn totals(
        &self,
        unmatched_key: &str,
    ) -> Vec<(String, [u64; RequestOutcome::COUNT])> {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut totals: Vec<_> = routes
            .iter()
            .map(|(key, counters)| (key.to_string(), counters.totals()))
            .chain(std::iter::once((
                unmatched_key.to_owned(),
                self.unmatched.totals(),
            )))
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        totals
    }
}

/// Cache lines per route. Threads past this many share lines (still correct, a little
/// contention); 16 covers the worker threads of most servers.
pub(super) const SHARDS: usize = 16;

/// A counter per outcome, on this shard's own cache lines: 64-byte aligned, two lines (the
/// ninth outcome, `flag_off`, is alone on the second; 128-byte alignment, which the CPUs
/// whose prefetcher pulls line pairs would want, is what the size gives anyway).
#[repr(align(64))]
#[derive(Default)]
struct Shard([AtomicU64; RequestOutcome::COUNT]);

/// The counters of one route.
#[derive(Default)]
pub(crate) struct RouteCounters {
    shards: [Shard; SHARDS],
    /// The route's refused requests per minute, from its first refusal on (the series the
    /// engine's traffic map holds under the route's key).
    pub(crate) traffic: OnceLock<Arc<RouteTraffic>>,
}

impl RouteCounters {
    /// Counts one request. No allocation, no lock, one relaxed add on this thread's line.
    #[inline]
    pub(crate) fn add(&self, outcome: RequestOutcome) {
        self.shards[shard()].0[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Every outcome's total.
    pub(crate) fn totals(&self) -> [u64; RequestOutcome::COUNT] {
        RequestOutcome::ALL.map(|outcome| self.get(outcome))
    }

    /// The total for `outcome` across every line.
    pub(crate) fn get(&self, outcome: RequestOutcome) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.0[outcome as usize].load(Ordering::Relaxed))
            .sum()
    }
}

impl std::fmt::Debug for RouteCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for outcome in RequestOutcome::ALL {
            map.entry(&outcome.label(), &self.get(outcome));
        }
        map.finish()
    }
}

/// Minutes of history kept.
pub const TRAFFIC_MINUTES: usize = 60;

/// Why a counted request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalKind {
    /// By route state: maintenance, disabled, env-gated, global or service maintenance,
    /// outside a rollout.
    Blocked,
    /// By a rate limit (`429`).
    RateLimited,
}

#[derive(Default)]
struct Slot {
    /// The minute (unix seconds / 60) the counts are of.
    minute: AtomicI64,
    blocked: AtomicU64,
    limited: AtomicU64,
}

/// One route's refused requests per minute: a ring of [`TRAFFIC_MINUTES`] one-minute slots
/// of two counters, a relaxed add per refusal and a compare-and-swap per new minute (a
/// refusal counted in the instant its slot is recycled may be lost, which a chart does not
/// show).
pub(crate) struct RouteTraffic {
    slots: [Slot; TRAFFIC_MINUTES],
}

impl Default for RouteTraffic {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| Slot::default()),
        }
    }
}

impl RouteTraffic {
    pub(crate) fn add(&self, minute: i64, refused: RefusalKind) {
        let slot = &self.slots[minute.rem_euclid(TRAFFIC_MINUTES as i64) as usize];
        let seen = slot.minute.load(Ordering::Acquire);
        if seen != minute
            && slot
                .minute
                .compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            slot.blocked.store(0, Ordering::Relaxed);
            slot.limited.store(0, Ordering::Relaxed);
        }
        let counter = match refused {
            RefusalKind::Blocked => &slot.blocked,
            RefusalKind::RateLimited => &slot.limited,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `(blocked, rate limited)` for each of the 60 minutes ending with `minute`, oldest first.
    pub(crate) fn series(&self, minute: i64) -> (Vec<u64>, Vec<u64>) {
        (0..TRAFFIC_MINUTES as i64)
            .map(|ago| minute - (TRAFFIC_MINUTES as i64 - 1) + ago)
            .map(|m| {
                let slot = &self.slots[m.rem_euclid(TRAFFIC_MINUTES as i64) as usize];
                if slot.minute.load(Ordering::Acquire) == m {
                    (
                        slot.blocked.load(Ordering::Relaxed),
                        slot.limited.load(Ordering::Relaxed),
                    )
                } else {
                    (0, 0)
                }
            })
            .unzip()
    }
}

/// This thread's shard, `0..SHARDS`: threads are numbered in the order they first count
/// (the route counters and the flag counters share the numbering).
#[inline]
pub(crate) fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    INDEX.with(|index| {
        let mut value = index.get();
        if value == usize::MAX {
            value = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
            index.set(value);
        }
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_shard_is_two_whole_cache_lines() {
        assert_eq!(std::mem::size_of::<Shard>(), 128);
        assert_eq!(std::mem::align_of::<Shard>(), 64);
    }

    #[test]
    fn threads_count_in_their_own_lines_and_the_sum_is_exact() {
        let counters = Arc::new(RouteCounters::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counters = Arc::clone(&counters);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        counters.add(RequestOutcome::Allowed);
                    }
                    counters.add(RequestOutcome::Maintenance);
                    shard()
                })
            })
            .collect();
        let mut lines: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(counters.get(RequestOutcome::Allowed), 40_000);
        assert_eq!(counters.get(RequestOutcome::Maintenance), 4);
        assert_eq!(counters.get(RequestOutcome::Bypassed), 0);
        lines.sort_unstable();
        lines.dedup();
        assert_eq!(lines.len(), 4, "four threads, four lines");
    }
}
