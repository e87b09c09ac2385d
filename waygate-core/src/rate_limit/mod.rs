//! Rate limiting, framework-free: rate strings, policies and in-memory counters.
//!
//! - [`Rate`] and [`Limit`] parse the rate strings of the Python original (`"100/minute"`,
//!   `"5 per 2 hours"`, `"unlimited"`).
//! - [`RateLimitPolicy`], [`GlobalRateLimitPolicy`] and [`RateLimitHit`] are the policies and
//!   the blocked-request log, with the Python original's JSON.
//! - [`MemoryStore`] holds the counters of one policy and decides each request with one of four
//!   [`Algorithm`]s; every algorithm allows `amount + burst` requests at once.
//!
//! ```
//! use tokio::time::Instant;
//! use waygate_core::rate_limit::{CounterKey, Limit, MemoryStore, RateLimitPolicy};
//!
//! let policy = RateLimitPolicy::new("/reports", "GET", "10/minute");
//! let Limit::Limited(rate) = policy.parse_limit().unwrap() else { unreachable!() };
//! let store = MemoryStore::new(policy.algorithm, rate, policy.burst);
//!
//! let decision = store.check(CounterKey::Ip("10.0.0.1".parse().unwrap()), Instant::now());
//! assert!(decision.allowed);
//! assert_eq!(decision.remaining, 9);
//! ```

mod fixed;
mod gcra;
mod ipnet;
mod moving;
mod policy;
mod rate;
mod shared;
mod sliding;
mod store;

pub use ipnet::{IpNetList, IpNetParseError};
pub use policy::{
    Algorithm, GlobalRateLimitPolicy, KeyStrategy, OnMissingKey, ParseEnumError, RateLimitHit,
    RateLimitPolicy, RateLimitTier,
};
pub use rate::{Limit, Rate, RateParseError};
pub use shared::{CounterRequest, SharedCounters};
pub use store::{Admission, CounterKey, MemoryStore};
