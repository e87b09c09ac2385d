//! Throttling of failed logins, per username and per client IP, in this process.
//!
//! After `per_username` failed logins for one username, or `per_ip` from one client IP,
//! within `window`, every login for that username (or from that IP) is refused with `429`
//! and `Retry-After` until the oldest of those failures is `window` old — the right
//! password included, or guessing would go on. Each failure is logged (`warn!`, never the
//! password); the failure that locks a username or an IP writes an audit entry
//! (`login_locked` on `__auth__`).
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

/// How many failed logins lock a username or a client IP, within how long.
///
/// The default: 5 failures per username and 20 per client IP (an office behind one NAT
/// shares it) within a minute.
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
    /// The default: 5 failures per username, 20 per client IP, within a minute.
    pub fn new() -> Self {
        Self::default()
    }

    /// Failed logins of one username that lock it (`0`: never).
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

    /// Failed logins of one username that lock it.
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
    usernames: Mutex<Failures<String>>,
    ips: Mutex<Failures<IpAddr>>,
}

impl Throttle {
    pub(crate) fn new(config: LoginThrottle) -> Self {
        Self {
            config,
            usernames: Mutex::default(),
            ips: Mutex::default(),
        }
    }

    /// `Err` with how long until a login for `username` from `ip` may be tried again, when
    /// either is locked.
    pub(crate) fn check(&self, username: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let window = self.config.window;
        let user =
            lock(&self.usernames).retry_after(username, self.config.per_username, window, now);
        let ip =
            ip.and_then(|ip| lock(&self.ips).retry_after(&ip, self.config.per_ip, window, now));
        match user.into_iter().chain(ip).max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a failed login; answers what it locked, if it is the failure that did.
    pub(crate) fn fail(&self, username: &str, ip: Option<IpAddr>) -> Vec<Locked> {
        let now = Instant::now();
        let window = self.config.window;
        let mut locked = Vec::new();
        if lock(&self.usernames).add(username.to_owned(), self.config.per_username, window, now) {
            locked.push(Locked::Username);
        }
        if let Some(ip) = ip {
            if lock(&self.ips).add(ip, self.config.per_ip, window, now) {
                locked.push(Locked::Ip(ip));
            }
        }
        locked
    }

    /// A successful login forgets the username's failures (not the IP's: one valid
    /// account must not reset the count of guesses at the others).
    pub(crate) fn succeed(&self, username: &str) {
        lock(&self.usernames).entries.remove(username);
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

/// Failure times by key, oldest first.
#[derive(Debug)]
struct Failures<K> {
    entries: HashMap<K, Vec<Instant>>,
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
        let times = self.entries.get_mut(key)?;
        times.retain(|at| now.duration_since(*at) < window);
        let limit = limit as usize;
        if times.len() < limit {
            return None;
        }
        // Unlocked once all but `limit - 1` failures are a window old.
        let unlocks = times[times.len() - limit] + window;
        Some(unlocks.saturating_duration_since(now))
    }

    /// Adds a failure; `true` when it is the one that reaches the limit.
    fn add(&mut self, key: K, limit: u32, window: Duration, now: Instant) -> bool {
        if limit == 0 {
            return false;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= MAX_TRACKED {
            self.make_room(window, now);
        }
        let times = self.entries.entry(key).or_default();
        times.retain(|at| now.duration_since(*at) < window);
        times.push(now);
        // Never more than the limit is needed to decide.
        let limit = limit as usize;
        if times.len() > limit {
            times.drain(..times.len() - limit);
        }
        times.len() == limit
    }

    /// Forgets expired entries, then (if still full) the one whose last failure is oldest.
    fn make_room(&mut self, window: Duration, now: Instant) {
        self.entries.retain(|_, times| {
            times
                .last()
                .is_some_and(|at| now.duration_since(*at) < window)
        });
        if self.entries.len() < MAX_TRACKED {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, times)| times.last().copied())
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

    #[tokio::test(start_paused = true)]
    async fn locks_after_the_limit_and_unlocks_a_window_later() {
        let throttle = Throttle::new(LoginThrottle::new().per_username(3).per_ip(5));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(throttle.fail("admin", Some(ip)).is_empty());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(throttle.fail("admin", Some(ip)).is_empty());
        assert_eq!(throttle.check("admin", Some(ip)), Ok(()));
        assert_eq!(throttle.fail("admin", Some(ip)), vec![Locked::Username]);
        // Locked until the first failure is a minute old.
        assert_eq!(
            throttle.check("admin", Some(ip)),
            Err(Duration::from_secs(50))
        );
        assert_eq!(throttle.check("other", Some(ip)), Ok(()));
        assert!(throttle.fail("other", Some(ip)).is_empty());
        assert_eq!(throttle.fail("third", Some(ip)), vec![Locked::Ip(ip)]);
        assert!(throttle.check("fourth", Some(ip)).is_err());
        assert_eq!(throttle.check("fourth", None), Ok(()));
        tokio::time::advance(Duration::from_secs(50)).await;
        assert_eq!(throttle.check("admin", None), Ok(()));
        throttle.succeed("admin");
        assert!(!lock(&throttle.usernames).entries.contains_key("admin"));
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
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
