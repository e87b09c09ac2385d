//! The rate-limit half of a decision: the client's identity, the limiters in order, the
//! `X-RateLimit-*` values of an allowed request, and the refusal of a blocked one.

use super::head::RequestHead;
use crate::limiter::{LimitOutcome, Limiter, OverLimit, RequestFacts};
use crate::rate_limit::RateLimitHit;
use crate::snapshot::{LimitScope, Rule, Snapshot};
use crate::Engine;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, Method};
use std::any::Any;
use std::fmt;
use std::net::IpAddr;

/// The `X-RateLimit-*` values of an allowed request.
#[derive(Debug, Clone)]
pub struct LimitHeaders {
    limit: HeaderValue,
    remaining: u64,
    reset: i64,
}

impl LimitHeaders {
    /// Sets `X-RateLimit-Limit`, `-Remaining` and `-Reset` (unix seconds).
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", self.limit.clone());
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
    }

    /// The `X-RateLimit-Limit` value: the limit as written (`"10/minute"`), or `unlimited`.
    /// For an adapter whose framework has header types of its own.
    pub fn limit(&self) -> &HeaderValue {
        &self.limit
    }

    /// The `X-RateLimit-Remaining` value: requests left in the window.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// The `X-RateLimit-Reset` value: when the window resets, in unix seconds.
    pub fn reset(&self) -> i64 {
        self.reset
    }
}

/// A request a rate limit refused.
#[derive(Clone)]
#[non_exhaustive]
pub struct LimitExceeded {
    /// The limit that was exceeded, as written (`"10/minute"`).
    pub limit: String,
    /// Whole seconds until a request may succeed again.
    pub retry_after_seconds: u64,
    /// When the window resets.
    pub reset_at: DateTime<Utc>,
    /// The route's `#[rate_limit(response = ..)]` factory, type-erased.
    pub response: Option<&'static (dyn Any + Send + Sync)>,
}

impl fmt::Debug for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimitExceeded")
            .field("limit", &self.limit)
            .field("retry_after_seconds", &self.retry_after_seconds)
            .field("reset_at", &self.reset_at)
            .field("response", &self.response.is_some())
            .finish()
    }
}

/// Remaining shown for an unlimited tier, as the Python original does.
const UNLIMITED_REMAINING: u64 = 9_999_999;

/// Whether any limiter of the request counts in the shared counters.
pub(super) fn needs_shared(
    snapshot: &Snapshot,
    rule: &Rule,
    method: &Method,
    template: &str,
) -> bool {
    snapshot
        .limiters(rule, method, template)
        .any(|(_, limiter)| limiter.is_shared())
}

/// Runs every limiter that applies to a request served under `rule`, counting in memory.
/// `Ok` carries the headers of the route's own limit (global and service limits add none).
pub(super) fn enforce<H: RequestHead + ?Sized>(
    engine: &Engine,
    snapshot: &Snapshot,
    rule: &Rule,
    request: &H,
    template: &str,
) -> Result<Option<LimitHeaders>, LimitExceeded> {
    let limited = LimitedRequest::new(engine, request, template);
    let mut headers = None;
    let now = tokio::time::Instant::now();
    for (scope, limiter) in snapshot.limiters(rule, request.method(), template) {
        let custom = limiter
            .custom_key_fn()
            .and_then(|key| key(&request.parts()));
        let facts = limited.facts(limiter, custom.as_deref());
        limited.settle(scope, limiter, limiter.check(&facts, now), &mut headers)?;
    }
    Ok(headers)
}

/// As [`enforce`], awaiting the shared counters (one round trip per limiter that counts
/// there). Kept beside `enforce` rather than folded into it: `enforce` stays a plain
/// function, so a request counted in memory is decided without a future.
pub(super) async fn enforce_shared<H: RequestHead + ?Sized>(
    engine: &Engine,
    snapshot: &Snapshot,
    rule: &Rule,
    request: &H,
    template: &str,
) -> Result<Option<LimitHeaders>, LimitExceeded> {
    let limited = LimitedRequest::new(engine, request, template);
    let mut headers = None;
    let now = tokio::time::Instant::now();
    for (scope, limiter) in snapshot.limiters(rule, request.method(), template) {
        let custom = limiter
            .custom_key_fn()
            .and_then(|key| key(&request.parts()));
        let facts = limited.facts(limiter, custom.as_deref());
        let outcome = if limiter.is_shared() {
            limiter
                .check_shared(&facts, now, engine.counter_health())
                .await
        } else {
            limiter.check(&facts, now)
        };
        limited.settle(scope, limiter, outcome, &mut headers)?;
    }
    Ok(headers)
}

/// What every limiter of one request reads.
struct LimitedRequest<'a, H: ?Sized> {
    engine: &'a Engine,
    request: &'a H,
    template: &'a str,
    client_ip: Option<IpAddr>,
    api_key: Option<&'a str>,
}

impl<'a, H: RequestHead + ?Sized> LimitedRequest<'a, H> {
    fn new(engine: &'a Engine, request: &'a H, template: &'a str) -> Self {
        Self {
            engine,
            request,
            template,
            client_ip: engine.client_ip(request),
            api_key: request.header("x-api-key").filter(|v| !v.is_empty()),
        }
    }

    fn facts<'k>(&self, limiter: &Limiter, custom_key: Option<&'k str>) -> RequestFacts<'k>
    where
        'a: 'k,
    {
        if self.client_ip.is_none() && limiter.keys_by_ip() {
            self.engine.warn_no_peer_address();
        }
        RequestFacts {
            client_ip: self.client_ip,
            identity: self.request.identity(),
            api_key: self.api_key,
            custom_key,
        }
    }

    /// Turns one limiter's outcome into the route's headers, or the refusal.
    fn settle(
        &self,
        scope: LimitScope,
        limiter: &Limiter,
        outcome: LimitOutcome<'_>,
        headers: &mut Option<LimitHeaders>,
    ) -> Result<(), LimitExceeded> {
        let is_route_limit = scope == LimitScope::Route;
        match outcome {
            LimitOutcome::OverLimit(blocked) => return Err(self.refuse(&blocked, limiter.response)),
            LimitOutcome::Allowed { limit, admission } if is_route_limit => {
                *headers = Some(LimitHeaders {
                    limit: header_value(limit),
                    remaining: admission.remaining,
                    reset: reset_at(self.engine, admission.reset_after).timestamp(),
                });
            }
            LimitOutcome::Unlimited if is_route_limit => {
                *headers = Some(LimitHeaders {
                    limit: HeaderValue::from_static("unlimited"),
                    remaining: UNLIMITED_REMAINING,
                    reset: self.engine.now().timestamp(),
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The refusal of a blocked request, and its record in the hit log.
    fn refuse(
        &self,
        blocked: &OverLimit<'_>,
        response: Option<&'static (dyn Any + Send + Sync)>,
    ) -> LimitExceeded {
        let reset_at = reset_at(self.engine, blocked.admission.reset_after);
        self.engine.record_hit(RateLimitHit {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: self.engine.now(),
            path: self.template.to_owned(),
            method: self.request.method().as_str().to_owned(),
            key: blocked.key.clone(),
            limit: blocked.limit.to_owned(),
            tier: blocked.tier.map(str::to_owned),
            reset_at,
        });
        LimitExceeded {
            limit: blocked.limit.to_owned(),
            retry_after_seconds: blocked.admission.retry_after.as_secs(),
            reset_at,
            response,
        }
    }
}

pub(super) fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid"))
}

fn reset_at(engine: &Engine, after: std::time::Duration) -> DateTime<Utc> {
    engine.now() + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero())
}
