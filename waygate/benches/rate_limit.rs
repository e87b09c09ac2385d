//! The cost of one rate-limit check for each of our four algorithms, side by side with
//! governor's keyed limiter on the same `IpAddr` keys, and the memory a tracked key costs.
//!
//! `cargo bench -p waygate --bench rate_limit`
//!
//! Each benchmark runs twice: with a clock read per check (ours what
//! `tokio::time::Instant::now()` is in an application, see [`production_now`]; governor its
//! default quanta clock, read inside `check_key`), and without (`.., no clock`:
//! ours one instant per batch, governor a `FakeRelativeClock`), which compares the limiters
//! alone. The `clock/..` benchmarks show what the clock reads cost.
//!
//! - `allowed/1 key`, `allowed/100k keys`: a rate nothing reaches (10^9/second), keys cycled.
//!   The moving window records every allowed request, so its store is cleared outside the
//!   timed loop every 100,000 checks (1 key) or 1,000,000 checks (100k keys).
//! - `refused/1 key`: 1/hour, every check after the first refused.
//! - `contended/2 threads`: two threads checking the same key at once; one iteration is one
//!   check on each thread (so a check costs half of it in throughput terms).
//!
//! Before the timings, a table of memory per tracked key and of memory given back after a
//! flood of 1,000,000 distinct keys is printed (counted by `stats_alloc`).

use std::alloc::System;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Barrier;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use governor::clock::FakeRelativeClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::time::Instant;
use waygate::rate_limit::{Algorithm, CounterKey, MemoryStore, Rate};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ALGORITHMS: [(Algorithm, &str); 4] = [
    (Algorithm::FixedWindow, "fixed_window"),
    (Algorithm::SlidingWindow, "sliding_window"),
    (Algorithm::MovingWindow, "moving_window"),
    (Algorithm::TokenBucket, "token_bucket"),
];

const MANY: u32 = 100_000;
const FLOOD: u32 = 1_000_000;

fn ip(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(i.wrapping_add(0x0a00_0000)))
}

fn keys(n: u32) -> Vec<IpAddr> {
    (0..n).map(ip).collect()
}

fn store(algorithm: Algorithm, rate: &str) -> MemoryStore {
    MemoryStore::new(algorithm, Rate::parse(rate).unwrap(), 0)
}

type FakeGovernor =
    RateLimiter<IpAddr, DashMapStateStore<IpAddr>, FakeRelativeClock, NoOpMiddleware<Nanos>>;

/// A keyed governor on a clock that only moves when told.
fn fake_governor(quota: Quota, clock: &FakeRelativeClock) -> FakeGovernor {
    RateLimiter::new(quota, DashMapStateStore::default(), clock.clone())
}

const HUGE: &str = "1000000000/second";

fn huge_quota() -> Quota {
    Quota::per_second(NonZeroU32::new(1_000_000_000).unwrap())
}

/// The clock read the engine does per rate-limited request, `tokio::time::Instant::now()`, as
/// an application compiles it: without tokio's `test-util` feature it is exactly this. A
/// bench gets `test-util` from waygate's dev-dependencies (the tests pause the clock), which
/// makes `Instant::now()` look for a paused clock first, a cost no application pays; the
/// `clock/..` benchmarks show both.
fn production_now() -> Instant {
    Instant::from_std(std::time::Instant::now())
}

/// Where a check's `now` comes from.
#[derive(Clone, Copy, PartialEq)]
enum Clock {
    /// Read per check: ours [`production_now`], governor its default quanta clock.
    PerCheck,
    /// Not read: ours one instant per batch, governor a `FakeRelativeClock`.
    Fixed,
}

impl Clock {
    fn label(self) -> &'static str {
        match self {
            Self::PerCheck => "",
            Self::Fixed => ", no clock",
        }
    }
}

/// Checks `iters` times cycling over `keys`; with `clear_every`, clears a moving window's store
/// every so many checks, outside the timed part.
fn timed_checks(
    store: &MemoryStore,
    keys: &[IpAddr],
    iters: u64,
    clear_every: Option<u64>,
    clock: Clock,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    let mut k = 0;
    while done < iters {
        let n = clear_every.unwrap_or(u64::MAX).min(iters - done);
        let fixed = Instant::now();
        let start = std::time::Instant::now();
        for _ in 0..n {
            let now = match clock {
                Clock::PerCheck => production_now(),
                Clock::Fixed => fixed,
            };
            black_box(store.check(CounterKey::Ip(keys[k]), now));
            k += 1;
            if k == keys.len() {
                k = 0;
            }
        }
        total += start.elapsed();
        done += n;
        if clear_every.is_some() && store.algorithm() == Algorithm::MovingWindow {
            store.reset();
        }
    }
    total
}

/// Times `iters` calls of `check` cycling over `keys`.
fn timed_governor(keys: &[IpAddr], iters: u64, check: impl Fn(&IpAddr) -> bool) -> Duration {
    let mut k = 0;
    let start = std::time::Instant::now();
    for _ in 0..iters {
        black_box(check(&keys[k]));
        k += 1;
        if k == keys.len() {
            k = 0;
        }
    }
    start.elapsed()
}

fn bench_keys(c: &mut Criterion, name: &str, n: u32, chunk: u64, clock: Clock) {
    let keys = keys(n);
    let mut group = c.benchmark_group(format!("{name}{}", clock.label()));
    for (algorithm, label) in ALGORITHMS {
        let store = store(algorithm, HUGE);
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| timed_checks(&store, &keys, iters, Some(chunk), clock));
        });
    }
    group.bench_function(BenchmarkId::from_parameter("governor"), |b| match clock {
        Clock::PerCheck => {
            let governor = RateLimiter::keyed(huge_quota());
            b.iter_custom(|iters| timed_governor(&keys, iters, |k| governor.check_key(k).is_ok()));
        }
        Clock::Fixed => {
            let fake = FakeRelativeClock::default();
            let governor = fake_governor(huge_quota(), &fake);
            b.iter_custom(|iters| {
                // Refill between batches, as the real clock would.
                fake.advance(Duration::from_secs(1));
                timed_governor(&keys, iters, |k| governor.check_key(k).is_ok())
            });
        }
    });
    group.finish();
}

fn bench_refused(c: &mut Criterion, clock: Clock) {
    let key = ip(1);
    let mut group = c.benchmark_group(format!("refused/1 key{}", clock.label()));
    for (algorithm, label) in ALGORITHMS {
        let store = store(algorithm, "1/hour");
        store.check(CounterKey::Ip(key), Instant::now());
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| timed_checks(&store, &[key], iters, None, clock));
        });
    }
    let quota = Quota::per_hour(NonZeroU32::new(1).unwrap());
    group.bench_function(BenchmarkId::from_parameter("governor"), |b| match clock {
        Clock::PerCheck => {
            let governor = RateLimiter::keyed(quota);
            let _ = governor.check_key(&key);
            b.iter_custom(|iters| timed_governor(&[key], iters, |k| governor.check_key(k).is_ok()));
        }
        Clock::Fixed => {
            let governor = fake_governor(quota, &FakeRelativeClock::default());
            let _ = governor.check_key(&key);
            b.iter_custom(|iters| timed_governor(&[key], iters, |k| governor.check_key(k).is_ok()));
        }
    });
    group.finish();
}

/// Runs `check` `iters` times on each of two threads started together; the wall time of the
/// slower thread.
fn two_threads(iters: u64, check: &(dyn Fn() + Sync)) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let run = || {
            barrier.wait();
            let start = std::time::Instant::now();
            for _ in 0..iters {
                check();
            }
            start.elapsed()
        };
        let other = s.spawn(run);
        let mine = run();
        mine.max(other.join().unwrap())
    })
}

fn bench_contended(c: &mut Criterion, clock: Clock) {
    let key = ip(1);
    let mut group = c.benchmark_group(format!("contended/2 threads{}", clock.label()));
    for (algorithm, label) in ALGORITHMS {
        let store = store(algorithm, HUGE);
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| {
                store.reset();
                let fixed = Instant::now();
                two_threads(iters, &|| {
                    let now = match clock {
                        Clock::PerCheck => production_now(),
                        Clock::Fixed => fixed,
                    };
                    black_box(store.check(CounterKey::Ip(key), now));
                })
            });
        });
    }
    group.bench_function(BenchmarkId::from_parameter("governor"), |b| match clock {
        Clock::PerCheck => {
            let governor = RateLimiter::keyed(huge_quota());
            b.iter_custom(|iters| {
                two_threads(iters, &|| {
                    black_box(governor.check_key(&key).is_ok());
                })
            });
        }
        Clock::Fixed => {
            let fake = FakeRelativeClock::default();
            let governor = fake_governor(huge_quota(), &fake);
            b.iter_custom(|iters| {
                fake.advance(Duration::from_secs(1));
                two_threads(iters, &|| {
                    black_box(governor.check_key(&key).is_ok());
                })
            });
        }
    });
    group.finish();
}

fn bench_clock(c: &mut Criterion) {
    let mut group = c.benchmark_group("clock");
    group.bench_function("tokio Instant::now (test-util)", |b| b.iter(Instant::now));
    group.bench_function("tokio Instant::now (as applications build it)", |b| {
        b.iter(production_now);
    });
    group.bench_function("std Instant::now", |b| b.iter(std::time::Instant::now));
    let quanta = governor::clock::QuantaClock::default();
    group.bench_function("governor QuantaClock::now", |b| {
        b.iter(|| governor::clock::Clock::now(&quanta));
    });
    group.finish();
}

/// Bytes allocated and not freed while `f` ran.
fn retained<T>(f: impl FnOnce() -> T) -> (T, i64) {
    let region = Region::new(GLOBAL);
    let value = f();
    let stats = region.change();
    let net = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
        + stats.bytes_reallocated as i64;
    (value, net)
}

fn memory_report() {
    let t0 = Instant::now();
    eprintln!();
    eprintln!(
        "memory per tracked key: {MANY} distinct IPv4 keys, one check each (checks of tracked \
         keys allocate nothing: asserted)"
    );
    eprintln!(
        "{:<16} {:>12} {:>16} {:>14}",
        "algorithm", "empty store", "100k keys", "per key"
    );
    for (algorithm, label) in ALGORITHMS {
        let (store, empty) = retained(|| store(algorithm, "10/minute"));
        let ((), bytes) = retained(|| {
            for i in 0..MANY {
                store.check(CounterKey::Ip(ip(i)), t0);
            }
        });
        assert_eq!(store.len(), MANY as usize);
        // Checks of tracked keys allocate nothing.
        let region = Region::new(GLOBAL);
        for i in 0..MANY {
            store.check(CounterKey::Ip(ip(i)), t0);
        }
        assert_eq!(region.change().allocations, 0, "{label}: a check allocated");
        eprintln!(
            "{label:<16} {empty:>10} B {bytes:>14} B {:>12.1} B",
            bytes as f64 / f64::from(MANY)
        );
    }
    let (governor, empty) =
        retained(|| RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(10).unwrap())));
    let ((), bytes) = retained(|| {
        for i in 0..MANY {
            let _ = governor.check_key(&ip(i));
        }
    });
    eprintln!(
        "{:<16} {empty:>10} B {bytes:>14} B {:>12.1} B",
        "governor",
        bytes as f64 / f64::from(MANY)
    );

    eprintln!();
    eprintln!(
        "memory after a flood: {FLOOD} distinct keys at 1/second, one check each, 10 µs apart \
         (synthetic clock, 10 s in all); eviction only amortised inside check, then \
         evict_expired 2 s after the last"
    );
    eprintln!(
        "{:<16} {:>12} {:>16} {:>12} {:>16} {:>12} {:>8}",
        "algorithm", "before", "after flood", "tracked", "after eviction", "tracked", "vs before"
    );
    for (algorithm, label) in ALGORITHMS {
        let (store, before) = retained(|| store(algorithm, "1/second"));
        let ((), flood) = retained(|| {
            for i in 0..FLOOD {
                let now = t0 + Duration::from_micros(10 * u64::from(i));
                store.check(CounterKey::Ip(ip(i)), now);
            }
        });
        let tracked = store.len();
        let end = t0 + Duration::from_micros(10 * u64::from(FLOOD)) + Duration::from_secs(2);
        let ((), evicted) = retained(|| {
            store.evict_expired(end);
        });
        let after = before + flood + evicted;
        eprintln!(
            "{label:<16} {before:>10} B {:>14} B {tracked:>12} {after:>14} B {:>12} {:>+7.1}%",
            before + flood,
            store.len(),
            (after - before) as f64 * 100.0 / before as f64,
        );
    }
    eprintln!();
}

fn main() {
    memory_report();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_clock(&mut c);
    for clock in [Clock::PerCheck, Clock::Fixed] {
        bench_keys(&mut c, "allowed/1 key", 1, 100_000, clock);
        bench_keys(&mut c, "allowed/100k keys", MANY, 1_000_000, clock);
        bench_refused(&mut c, clock);
        bench_contended(&mut c, clock);
    }
    c.final_summary();
}
