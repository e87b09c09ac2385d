//! Request counters that two cores counting the same route do not contend on: each route
//! has [`SHARDS`] cache lines of one counter per [`Outcome`], and a thread always counts in
//! the line its thread index picks. Reading sums the lines (a scrape, rarely).

use super::Outcome;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Cache lines per route. Threads past this many share lines (still correct, a little
/// contention); 16 covers the worker threads of most servers.
pub(super) const SHARDS: usize = 16;

/// One cache line: a counter per outcome. 64-byte aligned (128 on the CPUs whose
/// prefetcher pulls line pairs would be stricter, at twice the memory).
#[repr(align(64))]
#[derive(Default)]
struct Shard([AtomicU64; Outcome::COUNT]);

/// The counters of one route.
#[derive(Default)]
pub(super) struct RouteCounters {
    shards: [Shard; SHARDS],
}

impl RouteCounters {
    /// Counts one request. No allocation, no lock, one relaxed add on this thread's line.
    #[inline]
    pub(super) fn add(&self, outcome: Outcome) {
        self.shards[shard()].0[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The total for `outcome` across every line.
    pub(super) fn get(&self, outcome: Outcome) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.0[outcome as usize].load(Ordering::Relaxed))
            .sum()
    }
}

impl std::fmt::Debug for RouteCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for outcome in Outcome::ALL {
            map.entry(&outcome.label(), &self.get(outcome));
        }
        map.finish()
    }
}

/// This thread's line: threads are numbered in the order they first count.
#[inline]
fn shard() -> usize {
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
    fn a_line_is_a_cache_line() {
        assert_eq!(std::mem::size_of::<Shard>(), 64);
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
                        counters.add(Outcome::Allowed);
                    }
                    counters.add(Outcome::Maintenance);
                    shard()
                })
            })
            .collect();
        let mut lines: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(counters.get(Outcome::Allowed), 40_000);
        assert_eq!(counters.get(Outcome::Maintenance), 4);
        assert_eq!(counters.get(Outcome::Bypassed), 0);
        lines.sort_unstable();
        lines.dedup();
        assert_eq!(lines.len(), 4, "four threads, four lines");
    }
}
