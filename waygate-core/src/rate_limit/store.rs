//! In-memory counters of one policy, sharded by key.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use tokio::time::Instant;

use super::fixed::FixedWindow;
use super::gcra::Gcra;
use super::moving::MovingWindow;
use super::sliding::SlidingWindow;
use super::{Algorithm, Rate};

/// Shards per store: two threads on different keys meet on one lock 1 time in 64.
const SHARDS: usize = 64;
/// A shard is picked by these hash bits: neither the low bits the table indexes buckets with
/// nor the top 7 it keeps as tags.
const SHARD_SHIFT: u32 = 40;
/// Tables with less room than this are neither swept before they grow nor shrunk.
const MIN_CAPACITY: usize = 16;

/// What a counter is kept under: the client IP, a text key (user id, API key, URL, ...), or
/// one counter for everyone.
///
/// Looking a key up does not allocate; the text is copied once, when the key is first counted.
/// An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is the same key as the IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CounterKey<'a> {
    /// A client IP address.
    Ip(IpAddr),
    /// Any text: a user id, an API key, a URL path, a custom key.
    Text(&'a str),
    /// The one counter of the store.
    Global,
}

impl From<IpAddr> for CounterKey<'_> {
    fn from(ip: IpAddr) -> Self {
        Self::Ip(ip)
    }
}

impl<'a> From<&'a str> for CounterKey<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

/// A key as compared and hashed. Counters are stored per kind of key, so an IPv4 key costs
/// 4 bytes and no text is kept for it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyRef<'a> {
    Ip4(u32),
    Ip6([u8; 16]),
    Text(&'a str),
    Global,
}

impl<'a> From<CounterKey<'a>> for KeyRef<'a> {
    fn from(key: CounterKey<'a>) -> Self {
        match key {
            CounterKey::Ip(ip) => match ip.to_canonical() {
                IpAddr::V4(v4) => Self::Ip4(u32::from(v4)),
                IpAddr::V6(v6) => Self::Ip6(v6.octets()),
            },
            CounterKey::Text(text) => Self::Text(text),
            CounterKey::Global => Self::Global,
        }
    }
}

fn hash_key(hasher: &RandomState, key: KeyRef<'_>) -> u64 {
    let mut h = hasher.build_hasher();
    match key {
        KeyRef::Ip4(ip) => h.write_u32(ip),
        KeyRef::Ip6(ip) => h.write_u128(u128::from_ne_bytes(ip)),
        KeyRef::Text(text) => h.write(text.as_bytes()),
        KeyRef::Global => h.write_u8(0),
    }
    h.finish()
}

/// A key as stored in its kind's table.
trait StoredKey: Send {
    fn key_ref(&self) -> KeyRef<'_>;
}

impl StoredKey for u32 {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Ip4(*self)
    }
}

impl StoredKey for [u8; 16] {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Ip6(*self)
    }
}

/// Text keys are boxed without spare capacity.
impl StoredKey for Box<str> {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::Text(self)
    }
}

/// The outcome of one request against a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Admission {
    /// Whether the request may go through.
    pub allowed: bool,
    /// The capacity: the rate's amount plus the burst.
    pub limit: u64,
    /// How many more requests would be allowed right now.
    pub remaining: u64,
    /// Until one more request becomes available (`remaining` grows): the end of a fixed
    /// window, the moment the oldest request leaves a moving window or the weighted count of a
    /// sliding window drops, the next token of a token bucket. Zero when nothing is counted.
    /// `X-RateLimit-Reset` is now plus this.
    pub reset_after: Duration,
    /// Zero when allowed; otherwise the time until a request would be allowed.
    pub retry_after: Duration,
}

impl Admission {
    /// `allowed`, `limit` and `remaining` as given; times in nanoseconds.
    pub(super) fn new(
        allowed: bool,
        limit: u64,
        remaining: u64,
        reset_after: u64,
        retry_after: u64,
    ) -> Self {
        Self {
            allowed,
            limit,
            remaining,
            reset_after: Duration::from_nanos(reset_after),
            retry_after: if allowed {
                Duration::ZERO
            } else {
                Duration::from_nanos(retry_after)
            },
        }
    }

    /// A decision counted elsewhere (by [`SharedCounters`](super::SharedCounters)):
    /// `retry_after` is kept only when the request is refused.
    pub fn counted(
        allowed: bool,
        limit: u64,
        remaining: u64,
        reset_after: Duration,
        retry_after: Duration,
    ) -> Self {
        Self {
            allowed,
            limit,
            remaining,
            reset_after,
            retry_after: if allowed { Duration::ZERO } else { retry_after },
        }
    }

    /// A refusal with nothing counted and nothing to wait for: limit, remaining, reset and
    /// retry all zero. What `on_missing_key = block` answers.
    pub fn refused_now() -> Self {
        Self::new(false, 0, 0, 0, 0)
    }

    /// Whole seconds of [`retry_after`](Self::retry_after), truncated (so 0 for a wait under a
    /// second), as the Python original's `retry_after_seconds` and `Retry-After` header.
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after.as_secs()
    }
}

/// Counting parameters shared by every key of a store; times in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Params {
    /// `amount + burst`, at least 1.
    pub(super) capacity: u64,
    /// The period, at least 1.
    pub(super) window: u64,
    /// `u64::MAX / window`, to divide by the window with a multiplication.
    window_inverse: u64,
    /// The token bucket's emission interval, `window / amount`, at least 1.
    pub(super) interval: u64,
}

impl Params {
    /// `(x / window, x % window)`, exact, without a division instruction.
    pub(super) fn divide(&self, x: u64) -> (u64, u64) {
        // `inverse <= 2^64 / window`, so the estimate is at most the quotient, and it is at
        // most 2 short (`inverse > 2^64 / window - 2` and `x < 2^64`).
        let mut q = ((u128::from(x) * u128::from(self.window_inverse)) >> 64) as u64;
        let mut r = x - q * self.window;
        while r >= self.window {
            q += 1;
            r -= self.window;
        }
        (q, r)
    }
}

/// One algorithm's state for one key.
///
/// A check runs in three steps so that the shard is locked for as short a time as possible:
/// [`time`](Counter::time) before the lock, [`check`](Counter::check) (or
/// [`peek`](Counter::peek)) under it, [`decide`](Counter::decide) after it. A counter whose
/// state is one atomic word says so with [`SHARED_CHECK`](Counter::SHARED_CHECK): a key it
/// already has is then checked under the shard's read lock, so checks of one key on several
/// threads do not wait for each other.
pub(super) trait Counter: Send + Sized {
    /// What the algorithm needs of the time.
    type Time: Copy;
    /// What the decision needs of the state.
    type Outcome: Copy;
    /// Prepares `now` (nanoseconds since the epoch).
    fn time(now: u64, p: &Params) -> Self::Time;
    /// The state of a key nothing was counted for yet.
    fn new() -> Self;
    /// Decides one request and records it as the algorithm does.
    fn check(&mut self, t: Self::Time, p: &Params) -> Self::Outcome;
    /// Whether [`check_shared`](Counter::check_shared) decides requests.
    const SHARED_CHECK: bool = false;
    /// As [`check`](Counter::check) through a shared reference, for a counter whose state is
    /// atomic; `None` for the others (and then never called: see `SHARED_CHECK`).
    fn check_shared(&self, _t: Self::Time, _p: &Params) -> Option<Self::Outcome> {
        None
    }
    /// What `check` would decide (with `remaining` as it is now), recording nothing.
    fn peek(&self, t: Self::Time, p: &Params) -> Self::Outcome;
    /// The decision for an outcome.
    fn decide(outcome: Self::Outcome, t: Self::Time, p: &Params) -> Admission;
    /// Whether the state is as good as `new()` at `now` and later.
    fn is_expired(&self, now: u64, p: &Params) -> bool;
    /// Drops what has expired inside a live state and gives spare memory back (after a sweep).
    fn compact(&mut self, _now: u64, _p: &Params) {}
}

/// Padding against false sharing between neighbouring shards' locks.
#[repr(align(128))]
#[derive(Debug, Default)]
struct CacheAligned<T>(T);

/// What a shard operation needs besides the key.
struct Ctx<'a, C: Counter> {
    /// Nanoseconds since the epoch.
    now: u64,
    time: C::Time,
    params: &'a Params,
    hasher: &'a RandomState,
}

/// The counters of the keys whose hash picks this shard, one table per kind of key.
struct Shard<C> {
    v4: HashTable<(u32, C)>,
    v6: HashTable<([u8; 16], C)>,
    text: HashTable<(Box<str>, C)>,
}

impl<C: Counter> Shard<C> {
    fn new() -> Self {
        Self {
            v4: HashTable::new(),
            v6: HashTable::new(),
            text: HashTable::new(),
        }
    }

    fn check(&mut self, key: KeyRef<'_>, hash: u64, cx: &Ctx<'_, C>) -> C::Outcome {
        match key {
            KeyRef::Ip4(ip) => check_in(&mut self.v4, hash, |k| *k == ip, || ip, cx),
            KeyRef::Ip6(ip) => check_in(&mut self.v6, hash, |k| *k == ip, || ip, cx),
            KeyRef::Text(text) => check_in(
                &mut self.text,
                hash,
                |k| **k == *text,
                || Box::from(text),
                cx,
            ),
            // Kept apart, in `Shards::global`: never reached.
            KeyRef::Global => C::new().check(cx.time, cx.params),
        }
    }

    /// The counter of `key`, if it has one.
    fn find(&self, key: KeyRef<'_>, hash: u64) -> Option<&C> {
        match key {
            KeyRef::Ip4(ip) => self.v4.find(hash, |(k, _)| *k == ip).map(|(_, c)| c),
            KeyRef::Ip6(ip) => self.v6.find(hash, |(k, _)| *k == ip).map(|(_, c)| c),
            KeyRef::Text(text) => self.text.find(hash, |(k, _)| **k == *text).map(|(_, c)| c),
            KeyRef::Global => None,
        }
    }

    fn peek(&self, key: KeyRef<'_>, hash: u64, cx: &Ctx<'_, C>) -> C::Outcome {
        match self.find(key, hash) {
            Some(counter) => counter.peek(cx.time, cx.params),
            None => C::new().peek(cx.time, cx.params),
        }
    }

    fn remove(&mut self, key: KeyRef<'_>, hash: u64) -> bool {
        match key {
            KeyRef::Ip4(ip) => remove_in(&mut self.v4, hash, |k| *k == ip),
            KeyRef::Ip6(ip) => remove_in(&mut self.v6, hash, |k| *k == ip),
            KeyRef::Text(text) => remove_in(&mut self.text, hash, |k| **k == *text),
            KeyRef::Global => false,
        }
    }

    fn len(&self) -> usize {
        self.v4.len() + self.v6.len() + self.text.len()
    }

    /// Drops expired counters and shrinks tables that are mostly empty; returns how many
    /// were dropped.
    fn sweep(&mut self, cx: &Ctx<'_, C>) -> usize {
        sweep(&mut self.v4, cx) + sweep(&mut self.v6, cx) + sweep(&mut self.text, cx)
    }
}

/// Checks the counter of the key `eq` recognises, creating it (with the key `make` gives) if
/// there is none.
fn check_in<K: StoredKey, C: Counter>(
    table: &mut HashTable<(K, C)>,
    hash: u64,
    eq: impl Fn(&K) -> bool,
    make: impl FnOnce() -> K,
    cx: &Ctx<'_, C>,
) -> C::Outcome {
    if let Some((_, counter)) = table.find_mut(hash, |(k, _)| eq(k)) {
        return counter.check(cx.time, cx.params);
    }
    let mut counter = C::new();
    let outcome = counter.check(cx.time, cx.params);
    // Amortised eviction: before the table grows, drop what has expired. A sweep costs a pass
    // over the table; the table is then at most half full, so the next sweep is at least
    // `capacity / 2` inserts away.
    let capacity = table.capacity();
    if table.len() >= capacity && capacity >= MIN_CAPACITY {
        sweep(table, cx);
        let len = table.len();
        if len > capacity / 2 {
            table.reserve(len, |(k, _)| hash_key(cx.hasher, k.key_ref()));
        }
    }
    table.insert_unique(hash, (make(), counter), |(k, _)| {
        hash_key(cx.hasher, k.key_ref())
    });
    outcome
}

fn remove_in<K, C>(table: &mut HashTable<(K, C)>, hash: u64, eq: impl Fn(&K) -> bool) -> bool {
    match table.find_entry(hash, |(k, _)| eq(k)) {
        Ok(entry) => {
            entry.remove();
            true
        }
        Err(_) => false,
    }
}

/// Drops the expired counters of a table and gives memory back when most of it is empty;
/// returns how many were dropped.
fn sweep<K: StoredKey, C: Counter>(table: &mut HashTable<(K, C)>, cx: &Ctx<'_, C>) -> usize {
    let before = table.len();
    table.retain(|(_, counter)| {
        if counter.is_expired(cx.now, cx.params) {
            false
        } else {
            counter.compact(cx.now, cx.params);
            true
        }
    });
    let len = table.len();
    if len == 0 {
        *table = HashTable::new();
    } else if table.capacity() > MIN_CAPACITY.max(len * 4) {
        table.shrink_to(len * 2, |(k, _)| hash_key(cx.hasher, k.key_ref()));
    }
    before - len
}

/// The shards of one algorithm's counters, and the one counter of [`CounterKey::Global`].
struct Shards<C> {
    shards: Box<[CacheAligned<RwLock<Shard<C>>>]>,
    global: CacheAligned<RwLock<Option<C>>>,
}

impl<C: Counter> Shards<C> {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| CacheAligned(RwLock::new(Shard::new())))
                .collect(),
            global: CacheAligned(RwLock::new(None)),
        }
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard<C>> {
        // `SHARDS` is a power of two; the mask keeps the index in bounds.
        let index = (hash >> SHARD_SHIFT) as usize & (SHARDS - 1);
        &self.shards[index].0
    }

    fn ctx<'a>(now: u64, params: &'a Params, hasher: &'a RandomState) -> Ctx<'a, C> {
        Ctx {
            now,
            time: C::time(now, params),
            params,
            hasher,
        }
    }

    fn check(&self, key: KeyRef<'_>, now: u64, p: &Params, hasher: &RandomState) -> Admission {
        let cx = Self::ctx(now, p, hasher);
        let outcome = if key == KeyRef::Global {
            let shared = C::SHARED_CHECK
                .then(|| read(&self.global.0).as_ref()?.check_shared(cx.time, p))
                .flatten();
            match shared {
                Some(outcome) => outcome,
                None => write(&self.global.0)
                    .get_or_insert_with(C::new)
                    .check(cx.time, p),
            }
        } else {
            let hash = hash_key(hasher, key);
            let shard = self.shard(hash);
            let shared = C::SHARED_CHECK
                .then(|| read(shard).find(key, hash)?.check_shared(cx.time, p))
                .flatten();
            match shared {
                Some(outcome) => outcome,
                None => write(shard).check(key, hash, &cx),
            }
        };
        C::decide(outcome, cx.time, p)
    }

    fn peek(&self, key: KeyRef<'_>, now: u64, p: &Params, hasher: &RandomState) -> Admission {
        let cx = Self::ctx(now, p, hasher);
        let outcome = if key == KeyRef::Global {
            match &*read(&self.global.0) {
                Some(counter) => counter.peek(cx.time, p),
                None => C::new().peek(cx.time, p),
            }
        } else {
            let hash = hash_key(hasher, key);
            read(self.shard(hash)).peek(key, hash, &cx)
        };
        C::decide(outcome, cx.time, p)
    }

    fn reset_key(&self, key: KeyRef<'_>, hasher: &RandomState) -> bool {
        if key == KeyRef::Global {
            return write(&self.global.0).take().is_some();
        }
        let hash = hash_key(hasher, key);
        write(self.shard(hash)).remove(key, hash)
    }

    fn reset(&self) {
        for shard in self.shards.iter() {
            *write(&shard.0) = Shard::new();
        }
        *write(&self.global.0) = None;
    }

    fn len(&self) -> usize {
        let global = usize::from(read(&self.global.0).is_some());
        self.shards.iter().map(|s| read(&s.0).len()).sum::<usize>() + global
    }

    /// Buckets allocated, over every table.
    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = read(&s.0);
                s.v4.capacity() + s.v6.capacity() + s.text.capacity()
            })
            .sum()
    }

    fn evict_expired(&self, now: u64, p: &Params, hasher: &RandomState) -> usize {
        let cx = Self::ctx(now, p, hasher);
        let mut global = write(&self.global.0);
        let expired = match &mut *global {
            Some(counter) if counter.is_expired(now, p) => true,
            Some(counter) => {
                counter.compact(now, p);
                false
            }
            None => false,
        };
        if expired {
            *global = None;
        }
        drop(global);
        let shards: usize = self.shards.iter().map(|s| write(&s.0).sweep(&cx)).sum();
        shards + usize::from(expired)
    }
}

// A poisoned shard holds counters only; they are still consistent enough to use.

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

enum Inner {
    Fixed(Shards<FixedWindow>),
    Sliding(Shards<SlidingWindow>),
    Moving(Shards<MovingWindow>),
    Gcra(Shards<Gcra>),
}

/// Calls the same method on whichever algorithm's shards the store holds.
macro_rules! dispatch {
    ($inner:expr, $shards:ident => $body:expr) => {
        match $inner {
            Inner::Fixed($shards) => $body,
            Inner::Sliding($shards) => $body,
            Inner::Moving($shards) => $body,
            Inner::Gcra($shards) => $body,
        }
    };
}

/// The counters of one rate-limit policy, in memory.
///
/// Every algorithm lets `amount + burst` requests through at once ([`capacity`](Self::capacity)).
/// How they are counted, as the Python `limits` package counts them (Python waygate's counting
/// library; see [`Algorithm`]):
///
/// - **fixed window**: a window of `period` opens at a key's first request (it is not aligned to
///   the clock); every request counts, refused ones too (without moving the window), and a
///   request is allowed while the count, itself included, is at most the capacity.
/// - **sliding window**: windows of `period` aligned to the wall clock — each opens at a
///   multiple of `period` since the Unix epoch, as in the Python `limits` package and the
///   Redis store, so every store (and every instance) agrees where a window ends — or to the
///   instant given to [`with_epoch`](Self::with_epoch); the previous window's
///   count is weighted by the share of it still within the last `period`. A request is allowed
///   when `floor(weighted) + 1 <= capacity`; refused requests are not counted. Counts are
///   32-bit: a capacity above `u32::MAX` acts as `u32::MAX`.
/// - **moving window**: the time of every allowed request is kept; a request is allowed when
///   fewer than `capacity` were allowed in the last `period` (a request leaves the window
///   exactly `period` after it came). Refused requests leave no trace. Memory grows with the
///   capacity (8 bytes a request).
/// - **token bucket** (GCRA): one token back every `period / amount`, at most `capacity`
///   tokens; refused requests change nothing.
///
/// Methods take `&self`; the store is shared between threads as it is (behind an `Arc`). Keys
/// are spread over 64 shards by a seeded hash (foldhash: keys are chosen by clients), each
/// shard behind its own lock, held only to read and update one counter. A tracked IPv4 key
/// costs about 22 bytes (token bucket), 33 bytes (fixed and sliding windows) or 40 bytes plus
/// 8 a request (moving window), table overhead included; IPv6 and text keys cost more.
///
/// Counters that have expired are dropped by [`evict_expired`](Self::evict_expired) and,
/// amortised, whenever a table would otherwise grow, so a flood of one-off keys does not grow
/// memory beyond the keys alive within a period; tables shrink and give memory back. Calling
/// `evict_expired` now and then (every period, say) also frees the memory of keys that
/// stopped coming.
///
/// ```
/// use std::time::Duration;
/// use tokio::time::Instant;
/// use waygate_core::rate_limit::{Algorithm, CounterKey, MemoryStore, Rate};
///
/// let store = MemoryStore::new(Algorithm::FixedWindow, Rate::parse("2/minute").unwrap(), 1);
/// let ip = CounterKey::Ip("10.0.0.1".parse().unwrap());
/// let now = Instant::now();
/// assert!(store.check(ip, now).allowed);
/// assert!(store.check(ip, now).allowed);
/// let third = store.check(ip, now); // the burst
/// assert_eq!((third.allowed, third.remaining), (true, 0));
/// let refused = store.check(ip, now + Duration::from_secs(15));
/// assert!(!refused.allowed);
/// assert_eq!(refused.retry_after_seconds(), 45);
/// ```
pub struct MemoryStore {
    inner: Inner,
    params: Params,
    hasher: RandomState,
    epoch: Instant,
    /// Nanoseconds from the Unix epoch to `epoch` (0 with [`with_epoch`](Self::with_epoch)):
    /// added to every time, so that sliding windows open at multiples of the period since
    /// the Unix epoch. The other algorithms only subtract times.
    wall_offset: u64,
    algorithm: Algorithm,
    rate: Rate,
    burst: u32,
}

impl MemoryStore {
    /// Counters for `rate` plus `burst` counted with `algorithm`; sliding windows open at
    /// multiples of the period since the Unix epoch (the wall clock is read once, here; times
    /// are tokio's instants after that, so a paused test clock applies).
    pub fn new(algorithm: Algorithm, rate: Rate, burst: u32) -> Self {
        let epoch = Instant::now();
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_nanos()).unwrap_or(0));
        Self {
            wall_offset: wall,
            ..Self::with_epoch(algorithm, rate, burst, epoch)
        }
    }

    /// As [`new`](Self::new), with sliding windows aligned to `epoch` instead of now.
    ///
    /// Instants before the epoch count as the epoch.
    pub fn with_epoch(algorithm: Algorithm, rate: Rate, burst: u32, epoch: Instant) -> Self {
        let window = u64::try_from(rate.period().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        let amount = rate.amount().max(1);
        let mut capacity = amount.saturating_add(u64::from(burst));
        if algorithm == Algorithm::SlidingWindow {
            // Its counts are 32-bit.
            capacity = capacity.min(u64::from(u32::MAX));
        }
        let params = Params {
            capacity,
            window,
            window_inverse: u64::MAX / window,
            interval: (window / amount).max(1),
        };
        let inner = match algorithm {
            Algorithm::FixedWindow => Inner::Fixed(Shards::new()),
            Algorithm::SlidingWindow => Inner::Sliding(Shards::new()),
            Algorithm::MovingWindow => Inner::Moving(Shards::new()),
            Algorithm::TokenBucket => Inner::Gcra(Shards::new()),
        };
        Self {
            inner,
            params,
            hasher: RandomState::default(),
            epoch,
            wall_offset: 0,
            algorithm,
            rate,
            burst,
        }
    }

    /// Counts one request for `key` at `now` and decides it.
    pub fn check(&self, key: CounterKey<'_>, now: Instant) -> Admission {
        let now = self.nanos(now);
        dispatch!(&self.inner, s => s.check(key.into(), now, &self.params, &self.hasher))
    }

    /// What [`check`](Self::check) would decide for `key` at `now`, without counting anything;
    /// `remaining` is the count before the request. For headers on requests that are not
    /// counted (exempt ones) or for statistics.
    pub fn peek(&self, key: CounterKey<'_>, now: Instant) -> Admission {
        let now = self.nanos(now);
        dispatch!(&self.inner, s => s.peek(key.into(), now, &self.params, &self.hasher))
    }

    /// Forgets every counter (and gives the memory back).
    pub fn reset(&self) {
        dispatch!(&self.inner, s => s.reset());
    }

    /// Forgets the counter of `key`; returns whether there was one.
    pub fn reset_key(&self, key: CounterKey<'_>) -> bool {
        dispatch!(&self.inner, s => s.reset_key(key.into(), &self.hasher))
    }

    /// The number of keys with a counter, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        dispatch!(&self.inner, s => s.len())
    }

    /// Whether no key has a counter.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every counter that has expired at `now` and gives spare memory back; returns how
    /// many were dropped. Run it now and then (e.g. every period) when keys come and go.
    pub fn evict_expired(&self, now: Instant) -> usize {
        let now = self.nanos(now);
        dispatch!(&self.inner, s => s.evict_expired(now, &self.params, &self.hasher))
    }

    /// The algorithm counting requests.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The rate.
    pub fn rate(&self) -> &Rate {
        &self.rate
    }

    /// The burst on top of the rate.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Requests allowed at once: the rate's amount plus the burst (at most `u32::MAX` for a
    /// sliding window, whose counts are 32-bit).
    pub fn capacity(&self) -> u64 {
        self.params.capacity
    }

    /// The instant clock-aligned windows are aligned to.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    fn nanos(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(self.wall_offset)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("algorithm", &self.algorithm)
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn store(algorithm: Algorithm, rate: &str, burst: u32) -> (MemoryStore, Instant) {
        let epoch = Instant::now();
        let rate = Rate::parse(rate).unwrap();
        (
            MemoryStore::with_epoch(algorithm, rate, burst, epoch),
            epoch,
        )
    }

    const ALL: [Algorithm; 4] = [
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
        Algorithm::MovingWindow,
        Algorithm::TokenBucket,
    ];

    fn ip(text: &str) -> CounterKey<'static> {
        CounterKey::Ip(text.parse().unwrap())
    }

    #[test]
    fn store_is_send_and_sync_and_keys_are_small() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MemoryStore>();
        assert_eq!(std::mem::size_of::<(u32, FixedWindow)>(), 24);
        assert_eq!(std::mem::size_of::<(u32, Gcra)>(), 16);
        assert_eq!(std::mem::size_of::<(u32, SlidingWindow)>(), 24);
    }

    #[test]
    fn capacity_is_amount_plus_burst_for_every_algorithm() {
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "3/minute", 2);
            assert_eq!(store.capacity(), 5);
            let key = ip("10.0.0.1");
            for n in 1..=5 {
                let d = store.check(key, t0);
                assert!(d.allowed, "{algorithm:?}: request {n}");
                assert_eq!(d.limit, 5);
                assert_eq!(d.remaining, 5 - n, "{algorithm:?}: request {n}");
                assert_eq!(d.retry_after, Duration::ZERO);
            }
            let d = store.check(key, t0);
            assert!(!d.allowed, "{algorithm:?}: sixth request");
            assert_eq!(d.remaining, 0);
            assert!(d.retry_after > Duration::ZERO, "{algorithm:?}");
        }
    }

    #[test]
    fn keys_are_independent() {
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "1/minute", 0);
            assert!(store.check(ip("10.0.0.1"), t0).allowed);
            assert!(!store.check(ip("10.0.0.1"), t0).allowed);
            assert!(store.check(ip("10.0.0.2"), t0).allowed);
            assert!(store.check(ip("::1"), t0).allowed);
            assert!(store.check(CounterKey::Text("10.0.0.1"), t0).allowed);
            assert!(store.check(CounterKey::Text("alice"), t0).allowed);
            assert!(!store.check(CounterKey::Text("alice"), t0).allowed);
            assert!(store.check(CounterKey::Global, t0).allowed);
            assert!(!store.check(CounterKey::Global, t0).allowed);
            assert_eq!(store.len(), 6, "{algorithm:?}");
        }
    }

    #[test]
    fn ipv4_mapped_addresses_share_the_ipv4_counter() {
        let (store, t0) = store(Algorithm::FixedWindow, "1/minute", 0);
        assert!(store.check(ip("10.0.0.1"), t0).allowed);
        assert!(!store.check(ip("::ffff:10.0.0.1"), t0).allowed);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn reset_key_and_reset_forget_counters() {
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "1/hour", 0);
            let (a, b) = (CounterKey::Text("a"), CounterKey::Text("b"));
            assert!(store.check(a, t0).allowed);
            assert!(store.check(b, t0).allowed);
            assert!(!store.check(a, t0).allowed);
            assert!(store.reset_key(a));
            assert!(!store.reset_key(a));
            assert!(store.check(a, t0).allowed, "{algorithm:?}");
            assert!(!store.check(b, t0).allowed, "{algorithm:?}");
            store.reset();
            assert!(store.is_empty());
            assert!(store.check(a, t0).allowed);
            assert!(store.check(b, t0).allowed);
        }
    }

    #[test]
    fn peek_records_nothing() {
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "2/minute", 0);
            let key = ip("10.0.0.1");
            let fresh = store.peek(key, t0);
            assert!(fresh.allowed);
            assert_eq!((fresh.limit, fresh.remaining), (2, 2));
            assert_eq!(fresh.reset_after, Duration::ZERO);
            assert!(store.is_empty());
            store.check(key, t0);
            let d = store.peek(key, t0);
            assert_eq!((d.allowed, d.remaining), (true, 1), "{algorithm:?}");
            assert_eq!(store.peek(key, t0), d);
            store.check(key, t0);
            let full = store.peek(key, t0);
            assert_eq!((full.allowed, full.remaining), (false, 0), "{algorithm:?}");
            assert!(full.retry_after > Duration::ZERO);
            // Peeking a refused key did not count it (the fixed window counts refused checks).
            assert_eq!(store.peek(key, t0), full);
        }
    }

    #[test]
    fn eviction_drops_expired_counters_and_gives_memory_back() {
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "1/second", 0);
            for i in 0..10_000u32 {
                store.check(CounterKey::Ip(IpAddr::from(i.to_be_bytes())), t0);
                store.check(
                    CounterKey::Ip(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16])),
                    t0,
                );
                store.check(CounterKey::Text(&i.to_string()), t0);
            }
            store.check(CounterKey::Global, t0);
            assert_eq!(store.len(), 30_001);
            assert_eq!(store.evict_expired(t0), 0);
            assert_eq!(store.len(), 30_001);
            assert!(dispatch!(&store.inner, s => s.allocated()) >= 30_000);
            // Sliding counters live for two windows, the others for one.
            let later = t0 + Duration::from_secs(3);
            assert_eq!(store.evict_expired(later), 30_001, "{algorithm:?}");
            assert_eq!(store.len(), 0);
            assert_eq!(
                dispatch!(&store.inner, s => s.allocated()),
                0,
                "{algorithm:?}"
            );
        }
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_bounded_without_explicit_eviction() {
        // 200 new keys every 10 ms: about 20,000 alive (40,000 for sliding windows) at any time,
        // 800,000 in all. Sweeps run when a shard's table would grow, and the hasher is seeded
        // at random, so how many expired keys linger varies from run to run (up to ~130,000
        // observed); it is bounded by the tables' capacity — at most 64 shards × 3,584 slots
        // for the sliding window's 40,000 live keys — not by the number of keys seen.
        const BOUND: usize = 64 * 3_584;
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "1/second", 0);
            for step in 0..4_000u32 {
                let now = t0 + Duration::from_millis(u64::from(step) * 10);
                for i in 0..200u32 {
                    let n = step * 200 + i;
                    store.check(CounterKey::Ip(IpAddr::from(n.to_be_bytes())), now);
                }
            }
            let tracked = store.len();
            assert!(
                tracked <= BOUND,
                "{algorithm:?}: {tracked} of 800,000 keys tracked"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn new_uses_tokio_clock_as_epoch() {
        let store = MemoryStore::new(
            Algorithm::SlidingWindow,
            Rate::parse("1/second").unwrap(),
            0,
        );
        assert_eq!(store.epoch(), Instant::now());
        assert!(store.check(CounterKey::Global, Instant::now()).allowed);
        assert!(!store.check(CounterKey::Global, Instant::now()).allowed);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(store.check(CounterKey::Global, Instant::now()).allowed);
        assert_eq!(store.algorithm(), Algorithm::SlidingWindow);
        assert_eq!(store.rate().as_str(), "1/second");
        assert_eq!(store.burst(), 0);
        assert!(format!("{store:?}").starts_with("MemoryStore"));
    }

    #[test]
    fn instants_before_the_epoch_count_as_the_epoch() {
        let t0 = Instant::now();
        let epoch = t0 + Duration::from_secs(10);
        let store = MemoryStore::with_epoch(
            Algorithm::TokenBucket,
            Rate::parse("1/second").unwrap(),
            0,
            epoch,
        );
        assert!(store.check(CounterKey::Global, t0).allowed);
        assert!(!store.check(CounterKey::Global, epoch).allowed);
    }

    #[test]
    fn huge_rates_do_not_panic() {
        for algorithm in ALL {
            for rate in [
                "18446744073709551615/second",
                "1/500000000 years",
                "18446744073709551615/500000000 years",
            ] {
                let (store, t0) = store(algorithm, rate, u32::MAX);
                let far = t0 + Duration::from_secs(1 << 40);
                for now in [t0, far, t0] {
                    let d = store.check(CounterKey::Global, now);
                    let _ = store.peek(CounterKey::Global, now);
                    assert!(d.remaining <= d.limit);
                }
                store.evict_expired(far);
            }
        }
    }

    #[test]
    fn sliding_window_capacity_is_capped_at_u32_max() {
        let (fixed, _) = store(Algorithm::FixedWindow, "18446744073709551615/second", 7);
        let (sliding, t0) = store(Algorithm::SlidingWindow, "18446744073709551615/second", 7);
        assert_eq!(sliding.capacity(), u64::from(u32::MAX));
        let d = sliding.check(CounterKey::Global, t0);
        assert_eq!(d.remaining, u64::from(u32::MAX) - 1);
        assert_eq!(fixed.capacity(), u64::MAX);
    }

    #[test]
    fn concurrent_checks_count_every_request_once() {
        for algorithm in ALL {
            let (store, t0) = store(algorithm, "1000/hour", 0);
            let allowed = std::thread::scope(|s| {
                let handles: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            (0..500)
                                .filter(|_| store.check(CounterKey::Global, t0).allowed)
                                .count()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .sum::<usize>()
            });
            assert_eq!(allowed, 1000, "{algorithm:?}");
        }
    }

    #[test]
    fn divide_by_the_window_is_exact() {
        for window in [
            1,
            2,
            3,
            7,
            1_000_000_000,
            60_000_000_000,
            u64::MAX / 3,
            u64::MAX,
        ] {
            let p = Params {
                capacity: 1,
                window,
                window_inverse: u64::MAX / window,
                interval: 1,
            };
            for x in [
                0,
                1,
                2,
                window - 1,
                window,
                window.saturating_add(1),
                12_345_678_901_234,
                u64::MAX - 1,
                u64::MAX,
            ] {
                assert_eq!(p.divide(x), (x / window, x % window), "{x} / {window}");
            }
        }
    }

    #[test]
    fn retry_after_seconds_truncates() {
        let d = Admission::new(false, 1, 0, 1_999_999_999, 1_999_999_999);
        assert_eq!(d.retry_after_seconds(), 1);
        let d = Admission::new(false, 1, 0, 999_999_999, 999_999_999);
        assert_eq!(d.retry_after_seconds(), 0);
        let d = Admission::new(true, 1, 0, 5_000_000_000, 5_000_000_000);
        assert_eq!(d.retry_after, Duration::ZERO);
        assert_eq!(d.reset_after, Duration::from_secs(5));
    }
}
