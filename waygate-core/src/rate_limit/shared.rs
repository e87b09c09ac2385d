//! Counters kept outside the process, shared by every instance: the interface a backend
//! implements to count requests for the whole fleet.

use super::{Admission, Algorithm};
use crate::backend::BackendError;
use async_trait::async_trait;
use std::fmt;
use std::time::Duration;

/// One request to count against a counter that every instance shares.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CounterRequest<'a> {
    /// What the counter belongs to: `GET:/items/{id}` for a route's policy, `ALL:__global__`
    /// for the global one, `ALL:__svc_rl:{service}__` for a service's.
    pub namespace: &'a str,
    /// The client's key within the policy (an IP, a user id, `global`, ...).
    pub key: &'a str,
    /// How requests are counted.
    pub algorithm: Algorithm,
    /// The rate's amount (requests per `period`), at least 1.
    pub amount: u64,
    /// Requests allowed at once: the amount plus the burst.
    pub capacity: u64,
    /// The rate's period.
    pub period: Duration,
}

impl<'a> CounterRequest<'a> {
    /// A request for `key` of `namespace`, counted with `algorithm` at `amount` per
    /// `period`, no burst.
    pub fn new(
        namespace: &'a str,
        key: &'a str,
        algorithm: Algorithm,
        amount: u64,
        period: Duration,
    ) -> Self {
        let amount = amount.max(1);
        Self {
            namespace,
            key,
            algorithm,
            amount,
            capacity: amount,
            period,
        }
    }

    /// Adds `burst` to the capacity.
    pub fn burst(mut self, burst: u32) -> Self {
        self.capacity = self.amount.saturating_add(u64::from(burst));
        self
    }
}

/// Rate-limit counters every instance shares (in Redis, say): one call counts one request
/// and decides it, with the same semantics as [`MemoryStore`](super::MemoryStore) for each
/// [`Algorithm`].
///
/// A backend that offers them returns them from
/// [`Backend::rate_limit_counters`](crate::backend::Backend::rate_limit_counters); the
/// engine then counts every limited request there, so that a `10/minute` limit is ten a
/// minute across the fleet. An error fails open unless the engine is configured to fail
/// closed ([`EngineBuilder::rate_limit_fail_closed`](crate::EngineBuilder::rate_limit_fail_closed)).
#[async_trait]
pub trait SharedCounters: Send + Sync + fmt::Debug + 'static {
    /// Counts one request and decides it, in one round trip.
    async fn hit(&self, request: &CounterRequest<'_>) -> Result<Admission, BackendError>;

    /// Forgets every counter of `namespace` (every key, every rate).
    async fn reset(&self, namespace: &str) -> Result<(), BackendError>;
}
