//! Throttling of failed logins, per (username, client IP) pair and per client IP, in this
//! process.
//!
//! After `per_username` failed logins for one username from one client IP, or `per_ip` from
//! one client IP, within `window`, every login for that username from that client (or from
//! that IP) is refused with `429` and `Retry-After` until the oldest of those failures is
//! `window` old — the right password included, or guessing would go on. A client with no
//! failures of its own is never refused: guesses from many addresses at one username lock
//! those addresses, not the username (else anyone could lock the admin out). An attempt counts from the moment it starts
//! (a success takes it back), so guesses sent all at once are held to the same limit as
//! guesses sent one after the other. Each failure is logged (`warn!`, never the password);
//! the failure that locks a username or an IP writes an audit entry (`login_locked` on
//! `__auth__`).
//!
//! The counts live in memory: each instance throttles on its own, and a restart forgets
//! them. Both tables are bounded: when one is full, the entry whose last failure is oldest
//! makes room.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The most usernames (and, apart, client IPs) tracked at once.
const MAX_TRACKED: usize = 10_000;

/// How many failed logins lock a username for one client, or a client IP, within how long.
///
/// The default: 5 failures per username from one client and 20 per client IP (an office
/// behind one NAT shares it) within a minute. A username is never locked for everyone: a
/// client that has not failed is answered at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    per_username: u32,
    per_ip: u32,
    window: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            per_username: 5,
            per_ip: 20,
            window: Duration::from_secs(60),
        }
    }
}

impl LoginThrottle {
    /// The default: 5 failures per username and client, 20 per client IP, within a minute.
    pub fn new() -> Self {
        Self::default()
    }

    /// Failed logins of one username from one client that lock that username for that
    /// client (`0`: never).
    pub fn per_username(mut self, failures: u32) -> Self {
        self.per_username = failures;
        self
    }

    /// Failed logins from one client IP that lock it (`0`: never).
    pub fn per_ip(mut self, failures: u32) -> Self {
        self.per_ip = failures;
        self
    }

    /// How long a failure counts (and so how long a lock lasts, at most).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Failed logins of one username from one client that lock it for that client.
    pub fn failures_per_username(&self) -> u32 {
        self.per_username
    }

    /// Failed logins from one client IP that lock it.
    pub fn failures_per_ip(&self) -> u32 {
        self.per_ip
    }

    /// How long a failure counts.
    pub fn window_length(&self) -> Duration {
        self.window
    }
}

/// What locked a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Locked {
    Username,
    Ip(IpAddr),
}

/// The failure counts.
#[derive(Debug)]
pub(crate) struct Throttle {
    config: LoginThrottle,
    /// By (username, client IP): served without the peer address, every client is `None`.
    usernames: Mutex<Failures<(String, Option<IpAddr>)>>,
    ips: Mutex<Failures<IpAddr>>,
}

/// A login attempt under way: counted as a failure from the start, so that concurrent
/// guesses cannot all pass the check before the first of them fails; a success takes it
/// back.
#[derive(Debug)]
#[must_use = "end the attempt with `Throttle::succeed` or `Throttle::fail`"]
pub(crate) struct Attempt {
    username: String,
    ip: Option<IpAddr>,
    at: Instant,
}

impl Throttle {
    pub(crate) fn new(config: LoginThrottle) -> Self {
        Self {
            config,
            usernames: Mutex::default(),
            ips: Mutex::default(),
        }
    }

    /// Starts a login for `username` from `ip`; `Err` with how long until one may be tried
    /// again when either is locked.
    pub(crate) fn begin(&self, username: &str, ip: Option<IpAddr>) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let window = self.config.window;
        // One lock at a time, always usernames first.
        let mut usernames = lock(&self.usernames);
        let mut ips = lock(&self.ips);
        let pair = (username.to_owned(), ip);
        let user = usernames.retry_after(&pair, self.config.per_username, window, now);
        let by_ip = ip.and_then(|ip| ips.retry_after(&ip, self.config.per_ip, window, now));
        if let Some(wait) = user.into_iter().chain(by_ip).max() {
            return Err(wait);
        }
        usernames.add(pair, self.config.per_username, window, now);
        if let Some(ip) = ip {
            ips.add(ip, self.config.per_ip, window, now);
        }
        Ok(Attempt {
            username: username.to_owned(),
            ip,
            at: now,
        })
    }

    /// The attempt failed (it is counted already); answers what it locked, if it is the
    /// failure that did.
    pub(crate) fn fail(&self, attempt: Attempt) -> Vec<Locked> {
        let now = Instant::now();
        let window = self.config.window;
        let mut locked = Vec::new();
        if lock(&self.usernames).newly_locked(
            &(attempt.username.clone(), attempt.ip),
            self.config.per_username,
            window,
            now,
        ) {
            locked.push(Locked::Username);
        }
        if let Some(ip) = attempt.ip {
            if lock(&self.ips).newly_locked(&ip, self.config.per_ip, window, now) {
                locked.push(Locked::Ip(ip));
            }
        }
        locked
    }

    /// The attempt succeeded: the username's failures from this client are forgotten, and
    /// the attempt is taken back from the IP's (whose earlier failures stay: one valid account must not
    /// reset the count of guesses at the others).
    pub(crate) fn succeed(&self, attempt: Attempt) {
        lock(&self.usernames)
            .entries
            .remove(&(attempt.username, attempt.ip));
        if let Some(ip) = attempt.ip {
            lock(&self.ips).take_back(&ip, attempt.at);
        }
    }

    /// The configuration.
    pub(crate) fn config(&self) -> LoginThrottle {
        self.config
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update leaves the table consistent: a poisoned lock still guards good data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Failures by key.
#[derive(Debug)]
struct Failures<K> {
    entries: HashMap<K, Entry>,
}

/// One key's failure times, oldest first, and whether its lock has been reported.
#[derive(Debug, Default)]
struct Entry {
    times: Vec<Instant>,
    reported: bool,
}

impl Entry {
    /// Forgets failures a window old; a key back under its limit may be reported again.
    fn prune(&mut self, limit: usize, window: Duration, now: Instant) {
        self.times.retain(|at| now.duration_since(*at) < window);
        if self.times.len() < limit {
            self.reported = false;
        }
    }
}

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Failures<K> {
    /// How long `key` stays locked, if it is.
    fn retry_after<Q>(
        &mut self,
        key: &Q,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if limit == 0 {
            return None;
        }
        let limit = limit as usize;
        let entry = self.entries.get_mut(key)?;
        entry.prune(limit, window, now);
        if entry.times.len() < limit {
            return None;
        }
        // Unlocked once all but `limit - 1` failures are a window old.
        let unlocks = entry.times[entry.times.len() - limit] + window;
        Some(unlocks.saturating_duration_since(now))
    }

    /// Counts a failure (or an attempt under way).
    fn add(&mut self, key: K, limit: u32, window: Duration, now: Instant) {
        if limit == 0 {
            return;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= MAX_TRACKED {
            self.make_room(window, now);
        }
        let limit = limit as usize;
        let entry = self.entries.entry(key).or_default();
        entry.prune(limit, window, now);
        entry.times.push(now);
        // Never more than the limit is needed to decide.
        if entry.times.len() > limit {
            let extra = entry.times.len() - limit;
            entry.times.drain(..extra);
        }
    }

    /// Whether `key` is at its limit and that has not been reported yet (then it is now).
    fn newly_locked<Q>(&mut self, key: &Q, limit: u32, window: Duration, now: Instant) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if limit == 0 {
            return false;
        }
        let limit = limit as usize;
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        entry.prune(limit, window, now);
        let newly = entry.times.len() >= limit && !entry.reported;
        entry.reported |= newly;
        newly
    }

    /// Takes back the attempt counted at `at`.
    fn take_back<Q>(&mut self, key: &Q, at: Instant)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(entry) = self.entries.get_mut(key) {
            if let Some(position) = entry.times.iter().rposition(|t| *t == at) {
                entry.times.remove(position);
            }
            if entry.times.is_empty() {
                self.entries.remove(key);
            }
        }
    }

    /// Forgets expired entries, then (if still full) the one whose last failure is oldest.
    fn make_room(&mut self, window: Duration, now: Instant) {
        self.entries.retain(|_, entry| {
            entry
                .times
                .last()
                .is_some_and(|at| now.duration_since(*at) < window)
        });
        if self.entries.len() < MAX_TRACKED {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.times.last().copied())
            .map(|(key, _)| key.clone());
        if let Some(key) = oldest {
            self.entries.remove(&key);
        }
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed attempt.
    fn guess(throttle: &Throttle, username: &str, ip: IpAddr) -> Result<Vec<Locked>, Duration> {
        throttle.begin(username, Some(ip)).map(|a| throttle.fail(a))
    }

    #[tokio::test(start_paused = true)]
    async fn locks_after_the_limit_and_unlocks_a_window_later() {
        let throttle = Throttle::new(LoginThrottle::new().per_username(3).per_ip(5));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(guess(&throttle, "admin", ip), Ok(vec![]));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(guess(&throttle, "admin", ip), Ok(vec![]));
        assert_eq!(guess(&throttle, "admin", ip), Ok(vec![Locked::Username]));
        // Locked until the first failure is a minute old.
        assert_eq!(
            throttle.begin("admin", Some(ip)).unwrap_err(),
            Duration::from_secs(50)
        );
        assert_eq!(guess(&throttle, "other", ip), Ok(vec![]));
        assert_eq!(guess(&throttle, "third", ip), Ok(vec![Locked::Ip(ip)]));
        assert!(throttle.begin("fourth", Some(ip)).is_err());
        throttle.succeed(throttle.begin("fourth", None).unwrap());
        tokio::time::advance(Duration::from_secs(50)).await;
        let attempt = throttle.begin("admin", None).unwrap();
        throttle.succeed(attempt);
        assert!(!lock(&throttle.usernames)
            .entries
            .contains_key(&("admin".to_owned(), None)));
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_under_way_count_and_a_success_takes_its_own_back() {
        let throttle = Throttle::new(LoginThrottle::new().per_username(2).per_ip(3));
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        // Two concurrent guesses at one username: a third waits, before either failed.
        let first = throttle.begin("admin", Some(ip)).unwrap();
        let second = throttle.begin("admin", Some(ip)).unwrap();
        assert!(throttle.begin("admin", Some(ip)).is_err());
        assert_eq!(throttle.fail(first), vec![Locked::Username]);
        assert_eq!(throttle.fail(second), vec![], "reported once");
        // A success from the IP leaves its two failures counted, not three.
        let ok = throttle.begin("ops", Some(ip)).unwrap();
        throttle.succeed(ok);
        assert_eq!(lock(&throttle.ips).entries[&ip].times.len(), 2);
        assert_eq!(guess(&throttle, "ops", ip), Ok(vec![Locked::Ip(ip)]));
    }

    #[tokio::test(start_paused = true)]
    async fn guesses_from_many_addresses_lock_those_addresses_not_the_username() {
        let throttle = Throttle::new(LoginThrottle::new().per_username(3).per_ip(20));
        for n in 0..50u8 {
            let attacker = IpAddr::from([10, 0, 1, n]);
            for _ in 0..3 {
                let _ = guess(&throttle, "admin", attacker);
            }
            assert!(throttle.begin("admin", Some(attacker)).is_err());
        }
        let operator = IpAddr::from([192, 168, 0, 7]);
        throttle.succeed(throttle.begin("admin", Some(operator)).expect("not locked"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_tables_are_bounded() {
        let mut failures = Failures::<u32>::default();
        let window = Duration::from_secs(60);
        for key in 0..MAX_TRACKED as u32 + 10 {
            failures.add(key, 5, window, Instant::now());
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert_eq!(failures.entries.len(), MAX_TRACKED);
        assert!(!failures.entries.contains_key(&0), "the oldest made room");
    }
}
