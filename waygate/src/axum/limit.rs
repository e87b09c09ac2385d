//! Rate limiting a request that passed its route's state: the client's identity, the
//! limiters in order, `X-RateLimit-*` headers, and the `429`.

use super::layer::Responses;
use super::respond::Refusal;
use super::response::{ErrorBody, RateLimitResponse, RateLimited};
use crate::limiter::{Blocked, Identity, Limiter, Outcome, RequestFacts};
use crate::rate_limit::{IpNetList, RateLimitHit};
use crate::snapshot::{LimitScope, Rule, Snapshot};
use crate::Engine;
use axum::extract::ConnectInfo;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use std::net::{IpAddr, SocketAddr};

/// Marks a request whose rate limits the layer already applied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitsEnforced;

/// The `X-RateLimit-*` values of an allowed request.
#[derive(Debug, Clone)]
pub(crate) struct LimitHeaders {
    limit: HeaderValue,
    remaining: u64,
    reset: i64,
}

impl LimitHeaders {
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", self.limit.clone());
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
    }
}

/// Remaining shown for an unlimited tier, as the Python original does.
const UNLIMITED_REMAINING: u64 = 9_999_999;

// The refusal is built once and returned one frame up: boxing it would only add an
// allocation to every blocked request.
#[allow(clippy::result_large_err)]
/// Runs every limiter that applies to a request served under `rule`, counting in memory.
/// `Ok` carries the headers of the route's own limit (global and service limits add none).
pub(crate) fn enforce(
    engine: &Engine,
    snapshot: &Snapshot,
    rule: &Rule,
    parts: &Parts,
    template: &str,
    defaults: Option<&Responses>,
) -> Result<Option<LimitHeaders>, Refusal> {
    let request = LimitedRequest::new(engine, parts, template, defaults);
    let mut headers = None;
    let now = tokio::time::Instant::now();
    for (scope, limiter) in snapshot.limiters(rule, &parts.method, template) {
        let custom = limiter.custom_key_fn().and_then(|key| key(parts));
        let facts = request.facts(custom.as_deref());
        request.settle(scope, limiter, limiter.check(&facts, now), &mut headers)?;
    }
    Ok(headers)
}

/// Whether any limiter of the request counts in the shared counters (the request must then
/// await [`enforce_shared`]).
pub(crate) fn needs_shared(
    snapshot: &Snapshot,
    rule: &Rule,
    parts: &Parts,
    template: &str,
) -> bool {
    snapshot
        .limiters(rule, &parts.method, template)
        .any(|(_, limiter)| limiter.is_shared())
}

#[allow(clippy::result_large_err)]
/// As [`enforce`], awaiting the shared counters (one round trip per limiter that counts
/// there). Kept beside `enforce` rather than folded into it: `enforce` stays a plain function,
/// so a request counted in memory is decided inside the layer's `call`, with no future.
pub(crate) async fn enforce_shared(
    engine: &Engine,
    snapshot: &Snapshot,
    rule: &Rule,
    parts: &Parts,
    template: &str,
    defaults: Option<&Responses>,
) -> Result<Option<LimitHeaders>, Refusal> {
    let request = LimitedRequest::new(engine, parts, template, defaults);
    let mut headers = None;
    let now = tokio::time::Instant::now();
    for (scope, limiter) in snapshot.limiters(rule, &parts.method, template) {
        let custom = limiter.custom_key_fn().and_then(|key| key(parts));
        let facts = request.facts(custom.as_deref());
        let outcome = if limiter.is_shared() {
            limiter
                .check_shared(&facts, now, engine.counter_health())
                .await
        } else {
            limiter.check(&facts, now)
        };
        request.settle(scope, limiter, outcome, &mut headers)?;
    }
    Ok(headers)
}

/// What every limiter of one request reads.
struct LimitedRequest<'a> {
    engine: &'a Engine,
    parts: &'a Parts,
    template: &'a str,
    defaults: Option<&'a Responses>,
    identity: Option<&'a Identity>,
    client_ip: Option<IpAddr>,
    api_key: Option<&'a str>,
}

impl<'a> LimitedRequest<'a> {
    fn new(
        engine: &'a Engine,
        parts: &'a Parts,
        template: &'a str,
        defaults: Option<&'a Responses>,
    ) -> Self {
        Self {
            engine,
            parts,
            template,
            defaults,
            identity: parts.extensions.get::<Identity>(),
            client_ip: client_ip(parts, engine.trusted_proxies()),
            api_key: parts
                .headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty()),
        }
    }

    fn facts<'k>(&self, custom_key: Option<&'k str>) -> RequestFacts<'k>
    where
        'a: 'k,
    {
        RequestFacts {
            client_ip: self.client_ip,
            identity: self.identity,
            api_key: self.api_key,
            custom_key,
        }
    }

    /// Turns one limiter's outcome into the route's headers, or the refusal.
    #[allow(clippy::result_large_err)]
    fn settle(
        &self,
        scope: LimitScope,
        limiter: &Limiter,
        outcome: Outcome<'_>,
        headers: &mut Option<LimitHeaders>,
    ) -> Result<(), Refusal> {
        let is_route_limit = scope == LimitScope::Route;
        match outcome {
            Outcome::Blocked(blocked) => {
                let response_factory = limiter
                    .response
                    .and_then(|r| r.downcast_ref::<RateLimitResponse>());
                return Err(refuse(
                    self.engine,
                    &blocked,
                    self.parts,
                    self.template,
                    response_factory,
                    self.defaults,
                ));
            }
            Outcome::Allowed { limit, decision } if is_route_limit => {
                *headers = Some(LimitHeaders {
                    limit: header_value(limit),
                    remaining: decision.remaining,
                    reset: reset_at(self.engine, decision.reset_after).timestamp(),
                });
            }
            Outcome::Unlimited if is_route_limit => {
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
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid"))
}

fn reset_at(engine: &Engine, after: std::time::Duration) -> DateTime<Utc> {
    engine.now() + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero())
}

/// The `429` for a blocked request, and its record in the hit log.
fn refuse(
    engine: &Engine,
    blocked: &Blocked<'_>,
    parts: &Parts,
    template: &str,
    route_factory: Option<&RateLimitResponse>,
    defaults: Option<&Responses>,
) -> Refusal {
    let reset_at = reset_at(engine, blocked.decision.reset_after);
    let retry_after_seconds = blocked.decision.retry_after.as_secs();
    engine.record_hit(RateLimitHit {
        id: uuid::Uuid::new_v4().to_string(),
        timestamp: engine.now(),
        path: template.to_owned(),
        method: parts.method.as_str().to_owned(),
        key: blocked.key.clone(),
        limit: blocked.limit.to_owned(),
        tier: blocked.tier.map(str::to_owned),
        reset_at,
    });
    let limited = || RateLimited {
        limit: blocked.limit.to_owned(),
        retry_after_seconds,
        reset_at,
        path: parts.uri.path().to_owned(),
        method: parts.method.clone(),
        headers: parts.headers.clone(),
    };
    if let Some(factory) = route_factory {
        return Refusal::Pending((factory.0)(limited()));
    }
    if let Some(factory) = defaults.and_then(Responses::rate_limited_factory) {
        return Refusal::Pending(factory(limited()));
    }
    let mut body = ErrorBody::new("RATE_LIMIT_EXCEEDED", "Too many requests");
    body.field("limit", blocked.limit);
    body.number("retry_after_seconds", retry_after_seconds);
    body.field(
        "reset_at",
        &reset_at.to_rfc3339_opts(SecondsFormat::AutoSi, false),
    );
    body.field("path", parts.uri.path());
    let mut response: Response = body.into_response(StatusCode::TOO_MANY_REQUESTS);
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    headers.insert("x-ratelimit-limit", header_value(blocked.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset_at.timestamp()));
    Refusal::Ready(response)
}

/// The client's address: the peer (`ConnectInfo`), or — only when the peer is a trusted
/// proxy — the nearest untrusted address in `X-Forwarded-For` (then `X-Real-IP`).
pub(crate) fn client_ip(parts: &Parts, trusted: &IpNetList) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let peer = peer?;
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| parse_ip(entry.trim()))
        .collect::<Vec<_>>();
    if let Some(client) = forwarded.iter().rev().find(|ip| !trusted.contains(**ip)) {
        return Some(*client);
    }
    let real_ip = parts
        .headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_ip(v.trim()));
    Some(real_ip.or(forwarded.first().copied()).unwrap_or(peer))
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|a| a.ip()))
}
