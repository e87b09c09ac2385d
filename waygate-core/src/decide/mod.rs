//! The one decision every adapter calls: what happens to a request.
//!
//! [`Engine::decide`] reads the snapshot the adapter loaded, checks the route's state (global
//! and service maintenance, force-active, the route's own status) and then its rate limits
//! (global, service, route, in the Python original's order), and answers with a
//! [`Decision`]: serve (with these headers), refuse (with this refusal), or — when a limit
//! counts in counters shared by several instances — ask the adapter to await
//! [`Engine::decide_shared`]. An adapter is then a short match:
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use waygate_core::{Decision, Engine};
//!
//! async fn handle(engine: &Engine, request: Request<()>) -> Response<Bytes> {
//!     let (parts, ()) = request.into_parts();
//!     let snapshot = engine.snapshot();
//!     let template = Some(parts.uri.path()); // your router's matched template
//!     let mut decision = engine.decide(&snapshot, &parts, template);
//!     if let Decision::CountShared = decision {
//!         let snapshot = arc_swap::Guard::into_inner(snapshot);
//!         decision = engine.decide_shared(&snapshot, &parts, template).await;
//!         return respond(decision, &parts);
//!     }
//!     respond(decision, &parts)
//! }
//!
//! fn respond(decision: Decision<'_>, parts: &http::request::Parts) -> Response<Bytes> {
//!     match decision {
//!         Decision::Serve(serve) => {
//!             let mut response = Response::new(Bytes::from_static(b"served"));
//!             serve.apply(response.headers_mut());
//!             response
//!         }
//!         Decision::Refuse(refusal) => refusal.builtin_response(parts.uri.path()),
//!         Decision::CountShared => unreachable!("decide_shared never asks again"),
//!     }
//! }
//! # let _ = handle;
//! ```

mod body;
mod client_ip;
mod head;
mod limits;
mod operator;
mod respond;
mod skip;

pub use body::builtin_blocked_response;
pub(crate) use body::BlockedBodyHead;
pub use client_ip::ClientIpHeader;
pub use head::{LimitsCounted, RequestHead};
pub use limits::{LimitExceeded, LimitHeaders};
pub(crate) use operator::BypassHook;
pub use operator::{BypassCheck, BypassRequest};
pub use respond::{DefaultResponses, ResponseChoice, ResponseDefaults};
pub use skip::{SkipPaths, DEFAULT_ADMIN_PATH};

use crate::counters::{RequestOutcome, RouteCounters};
use crate::snapshot::{
    Block, BlockCause, BlockKind, DeprecationHeaders, Pass, Rule, Snapshot, Verdict,
};
use crate::Engine;
use http::{HeaderMap, StatusCode};
use std::any::Any;
use std::sync::Arc;

/// What happens to a request, as [`Engine::decide`] answers.
#[derive(Debug)]
#[must_use]
pub enum Decision<'s> {
    /// Serve the request, adding these headers to its response.
    Serve(Serve<'s>),
    /// Refuse the request with this refusal.
    Refuse(Refusal<'s>),
    /// A rate limit of the route counts in counters shared with other instances: await
    /// [`Engine::decide_shared`] with the same arguments (the snapshot as an `Arc`, so the
    /// future can hold it), which never answers this again.
    CountShared,
}

/// A request to serve, and what its response carries.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Serve<'s> {
    /// The deprecation headers of a deprecated route (an `Arc`: a response future keeps
    /// them for the price of a reference count).
    pub deprecation: Option<&'s Arc<DeprecationHeaders>>,
    /// The `X-RateLimit-*` headers of the route's own limit.
    pub limits: Option<LimitHeaders>,
    /// Whether rate limits counted the request here: an adapter that decides again further
    /// in (a per-handler check after a middleware) marks the request with
    /// [`LimitsCounted`] so that it is not counted twice.
    pub counted: bool,
}

impl Serve<'_> {
    /// Whether the request is served as it came and its response as the handler made it
    /// (nothing counted, no headers to add).
    pub fn is_plain(&self) -> bool {
        self.deprecation.is_none() && self.limits.is_none() && !self.counted
    }

    /// Adds the deprecation and rate-limit headers to a response's headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        add_headers(headers, self.deprecation, self.limits.as_ref());
    }
}

fn add_headers(
    headers: &mut HeaderMap,
    deprecation: Option<&Arc<DeprecationHeaders>>,
    limits: Option<&LimitHeaders>,
) {
    if let Some(limits) = limits {
        limits.apply(headers);
    }
    if let Some(deprecation) = deprecation {
        deprecation.apply(headers);
    }
}

/// What a served request's response carries, held past the snapshot: the state of an
/// adapter's per-handler gate, which adds the headers to the handler's response.
#[derive(Debug, Clone, Default)]
pub struct ServedHeaders {
    /// The deprecation headers of a deprecated route.
    pub deprecation: Option<Arc<DeprecationHeaders>>,
    /// The `X-RateLimit-*` headers of the route's own limit.
    pub limits: Option<LimitHeaders>,
}

impl ServedHeaders {
    /// The headers of a decision to serve; none for any other decision (a request served
    /// after [`Decision::CountShared`] is decided again).
    pub fn of(decision: Decision<'_>) -> Self {
        match decision {
            Decision::Serve(serve) => serve.into(),
            _ => Self::default(),
        }
    }

    /// Whether the route is deprecated.
    pub fn is_deprecated(&self) -> bool {
        self.deprecation.is_some()
    }

    /// Adds the headers to a response's headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        add_headers(headers, self.deprecation.as_ref(), self.limits.as_ref());
    }
}

impl From<Serve<'_>> for ServedHeaders {
    fn from(serve: Serve<'_>) -> Self {
        Self {
            deprecation: serve.deprecation.cloned(),
            limits: serve.limits,
        }
    }
}

/// Why a request is refused, before an adapter turns it into a response (the route's
/// `response = ..` factory, its own defaults, or [`builtin_response`](Self::builtin_response)).
#[derive(Debug)]
#[non_exhaustive]
pub enum Refusal<'s> {
    /// The route's state (or global or service maintenance) refuses it.
    Blocked {
        /// The block, as the snapshot found it.
        block: Block<'s>,
        /// Whole seconds until a maintenance window ends, rounded up (`Retry-After`).
        retry_after_seconds: Option<u64>,
    },
    /// A rate limit refuses it (the refusal is already in the blocked-request log).
    RateLimited(LimitExceeded),
}

impl Refusal<'_> {
    /// Whole seconds until the request may succeed, rounded up (`Retry-After`): until the
    /// maintenance window ends, or the rate limit's window resets; `None` for a block with no
    /// end in sight.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::Blocked {
                retry_after_seconds,
                ..
            } => *retry_after_seconds,
            Self::RateLimited(limited) => Some(limited.retry_after_seconds),
        }
    }

    /// The status of the built-in response: `503`, `404` (env-gated) or `429`.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Blocked { block, .. } => match block.kind {
                BlockKind::EnvGated => StatusCode::NOT_FOUND,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            },
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The route's type-erased `response = ..` factory for this refusal, if it declared one;
    /// the adapter that generated it knows its type.
    pub fn route_factory(&self) -> Option<&'static (dyn Any + Send + Sync)> {
        match self {
            Self::Blocked { block, .. } if block.cause == BlockCause::Rollout => {
                block.rule.and_then(Rule::rollout_response)
            }
            Self::Blocked { block, .. } if block.cause == BlockCause::FeatureFlag => {
                block.rule.and_then(Rule::feature_flag_response)
            }
            Self::Blocked { block, .. } => block.rule.and_then(|rule| rule.response()),
            Self::RateLimited(limited) => limited.response,
        }
    }

    /// The Python original's response for the refusal, field for field; `path` is the
    /// concrete request path the body names.
    pub fn builtin_response(&self, path: &str) -> http::Response<bytes::Bytes> {
        match self {
            Self::Blocked {
                block,
                retry_after_seconds,
            } => match (block.body_head, block.retry_after.zip(*retry_after_seconds)) {
                // The common case: the body's head was made with the snapshot.
                (Some(head), None) => head.response(path),
                (_, retry_after) => {
                    builtin_blocked_response(block.kind, block.reason, path, retry_after)
                }
            },
            Self::RateLimited(limited) => body::rate_limited(limited, path),
        }
    }
}

/// A request its route serves once its rate limits allow it.
struct LimitedRule<'s> {
    rule: &'s Arc<crate::snapshot::Rule>,
    /// How the request is counted if served.
    served: RequestOutcome,
    deprecation: Option<&'s Arc<DeprecationHeaders>>,
}

impl<'s> LimitedRule<'s> {
    /// The decision once the limits counted the request.
    #[inline]
    fn settle(self, counted: Result<Option<LimitHeaders>, LimitExceeded>) -> Decision<'s> {
        match counted {
            Ok(limits) => {
                self.rule.counters.add(self.served);
                Decision::Serve(Serve {
                    deprecation: self.deprecation,
                    limits,
                    counted: true,
                })
            }
            Err(limited) => {
                self.rule.counters.add(RequestOutcome::RateLimited);
                Decision::Refuse(Refusal::RateLimited(limited))
            }
        }
    }
}

impl Engine {
    /// Decides a request: its route's state, then its rate limits.
    ///
    /// `snapshot` is [`Engine::snapshot`], loaded by the adapter (one atomic load);
    /// `template` the route template its router matched (`/items/{id}`, nest prefixes
    /// included), `None` when nothing matched.
    ///
    /// A request served with nothing to add costs one hash lookup and allocates nothing.
    /// A route seen for the first time is registered off the request path. A request the
    /// rate limits refuse is recorded in the blocked-request log.
    #[inline(always)]
    pub fn decide<'s, H>(
        &self,
        snapshot: &'s Snapshot,
        request: &H,
        template: Option<&str>,
    ) -> Decision<'s>
    where
        H: RequestHead + ?Sized,
    {
        let limited = match self.limited_rule(snapshot, request, template) {
            Ok(limited) => limited,
            Err(decided) => return decided,
        };
        let template = template.unwrap_or_default();
        if limits::needs_shared(snapshot, limited.rule, request.method(), template) {
            return Decision::CountShared;
        }
        let counted = limits::enforce(self, snapshot, limited.rule, request, template);
        limited.settle(counted)
    }

    /// [`decide`](Self::decide) for a request whose limits count in the shared counters
    /// (after it answered [`Decision::CountShared`]): one round trip per such limit. A
    /// failure of the counters lets the request through uncounted, or refuses it when the
    /// engine fails closed.
    pub async fn decide_shared<'s, H>(
        &self,
        snapshot: &'s Snapshot,
        request: &H,
        template: Option<&str>,
    ) -> Decision<'s>
    where
        H: RequestHead + ?Sized,
    {
        let limited = match self.limited_rule(snapshot, request, template) {
            Ok(limited) => limited,
            Err(decided) => return decided,
        };
        let template = template.unwrap_or_default();
        let counted = limits::enforce_shared(self, snapshot, limited.rule, request, template).await;
        limited.settle(counted)
    }

    /// What both decisions do before the rate limits: the route's verdict, then a request
    /// with no limits to count (or counted already) served. `Ok`: the rule whose limits
    /// apply.
    #[inline(always)]
    fn limited_rule<'s, H>(
        &self,
        snapshot: &'s Snapshot,
        request: &H,
        template: Option<&str>,
    ) -> Result<LimitedRule<'s>, Decision<'s>>
    where
        H: RequestHead + ?Sized,
    {
        let rule = template.and_then(|t| snapshot.rule(request.method(), t));
        if let Some(rule) = rule.filter(|rule| rule.plain) {
            if let Some(gate) = rule.flag_gate() {
                if !self.flag_serves(gate.key, request) {
                    return Err(Decision::Refuse(
                        self.refuse(gated(rule, BlockCause::FeatureFlag)),
                    ));
                }
            }
            rule.counters.add(RequestOutcome::Allowed);
            return Err(Decision::Serve(Serve::default()));
        }
        let (rule, served) = match self.route_verdict(snapshot, request, template, rule) {
            Ok(Routed::Rule(rule, served)) => (rule, served),
            Ok(Routed::Plain(counters)) => {
                counters
                    .unwrap_or(self.unmatched_counters())
                    .add(RequestOutcome::Allowed);
                return Err(Decision::Serve(Serve::default()));
            }
            Err(refusal) => return Err(Decision::Refuse(refusal)),
        };
        let deprecation = rule.deprecation();
        if !snapshot.has_limits(rule) || request.limits_counted() {
            rule.counters.add(served);
            return Err(Decision::Serve(Serve {
                deprecation,
                limits: None,
                counted: false,
            }));
        }
        Ok(LimitedRule {
            rule,
            served,
            deprecation,
        })
    }

    /// The decision for a request whose route's flag a [`RouteSlot`](crate::RouteSlot)
    /// found off ([`SlotGate::admits`](crate::SlotGate::admits) answered `false`): its
    /// route's refusal, counted, without evaluating the flag again. Should the route have
    /// changed since (a new generation whose rule has no flag), the request is decided in
    /// full.
    pub fn decide_flag_off<'s, H>(
        &self,
        snapshot: &'s Snapshot,
        request: &H,
        template: Option<&str>,
    ) -> Decision<'s>
    where
        H: RequestHead + ?Sized,
    {
        let rule = template.and_then(|t| snapshot.rule(request.method(), t));
        match rule {
            Some(rule) if rule.plain && rule.flag_gate().is_some() => {
                Decision::Refuse(self.refuse(gated(rule, BlockCause::FeatureFlag)))
            }
            _ => self.decide(snapshot, request, template),
        }
    }

    /// The client's address as the rate limiter keys it: the request's peer, or — only when
    /// the peer is a [trusted proxy](crate::EngineBuilder::trusted_proxies) — the address the
    /// proxies name in the [configured header](crate::EngineBuilder::client_ip_header).
    /// `None` when the request carries no peer address.
    pub fn client_ip<H: RequestHead + ?Sized>(&self, request: &H) -> Option<std::net::IpAddr> {
        client_ip::client_ip(
            request,
            request.peer(),
            self.trusted_proxies(),
            self.client_ip_header(),
        )
    }

    /// The route-state half of a decision: the rule to serve under and how its request is
    /// counted if served, or served as is (nothing else applies), or the refusal.
    ///
    /// Only a refused request asks the bypass check, and only a route with a rollout
    /// buckets its client.
    fn route_verdict<'s, H>(
        &self,
        snapshot: &'s Snapshot,
        request: &H,
        template: Option<&str>,
        rule: Option<&'s Arc<Rule>>,
    ) -> Result<Routed<'s>, Refusal<'s>>
    where
        H: RequestHead + ?Sized,
    {
        let method = request.method();
        let checked_path = template.unwrap_or(request.path());
        let verdict = snapshot.check_found(method, rule, checked_path, || self.now());
        let (rule, served) = match verdict {
            Verdict::Pass(Pass::Route(rule)) => (rule, RequestOutcome::Allowed),
            Verdict::Pass(Pass::ForceActive) => {
                let rule = template.and_then(|t| snapshot.rule(method, t));
                return Ok(Routed::Plain(rule.map(|r| &*r.counters)));
            }
            Verdict::Pass(Pass::Unknown) => {
                if let Some(template) = template {
                    self.note_unknown_route(method, template);
                }
                return Ok(Routed::Plain(None));
            }
            Verdict::Block(block) => match self.bypass(snapshot, block, request, template) {
                Ok(Some(rule)) => (rule, RequestOutcome::Bypassed),
                Ok(None) => return Ok(Routed::Plain(None)),
                Err(block) => return Err(self.refuse(block)),
            },
        };
        if let Some(rollout) = &rule.rollout {
            if !self.in_rollout(rule.key(), rollout, request) {
                return Err(self.refuse(gated(rule, BlockCause::Rollout)));
            }
        }
        if let Some(gate) = &rule.feature_flag {
            if !self.flag_serves(gate.key, request) {
                return Err(self.refuse(gated(rule, BlockCause::FeatureFlag)));
            }
        }
        Ok(Routed::Rule(rule, served))
    }

    /// A refused request with a valid bypass token passes maintenance, a disabled route and
    /// global or service maintenance — then meets the route's own state (an env gate still
    /// refuses it). `Ok(None)`: no route matched; serve as is.
    fn bypass<'s, H>(
        &self,
        snapshot: &'s Snapshot,
        block: Block<'s>,
        request: &H,
        template: Option<&str>,
    ) -> Result<Option<&'s Arc<Rule>>, Block<'s>>
    where
        H: RequestHead + ?Sized,
    {
        let bypassable = block.kind != BlockKind::EnvGated
            && !matches!(block.cause, BlockCause::Rollout | BlockCause::FeatureFlag);
        if !bypassable || !self.bypassed(request) {
            return Err(block);
        }
        let Some(rule) = template.and_then(|t| snapshot.rule(request.method(), t)) else {
            return Ok(None);
        };
        if block.cause == BlockCause::Route || rule.force_active {
            return Ok(Some(rule));
        }
        match Snapshot::check_rule(rule, || self.now()) {
            Verdict::Block(own) if own.kind == BlockKind::EnvGated => Err(own),
            _ => Ok(Some(rule)),
        }
    }

    /// The refusal of a block, counted.
    fn refuse<'s>(&self, block: Block<'s>) -> Refusal<'s> {
        let outcome = match (block.cause, block.kind) {
            (BlockCause::Rollout, _) => RequestOutcome::RolloutExcluded,
            (BlockCause::FeatureFlag, _) => RequestOutcome::FlagOff,
            (BlockCause::Global | BlockCause::Service, _) => RequestOutcome::GlobalMaintenance,
            (_, BlockKind::Maintenance) => RequestOutcome::Maintenance,
            (_, BlockKind::Disabled) => RequestOutcome::Disabled,
            (_, _) => RequestOutcome::EnvGated,
        };
        let counters = block
            .rule
            .map_or(self.unmatched_counters(), |r| &r.counters);
        counters.add(outcome);
        self.note_refused_by(
            counters,
            block.rule.map_or(crate::UNMATCHED_ROUTE, Rule::key),
            crate::RefusalKind::Blocked,
        );
        let retry_after_seconds = block.retry_after.map(|end| {
            // Whole seconds, rounded up: a client that waits this long finds the route back.
            let millis = (end - self.now()).num_milliseconds().max(0);
            u64::try_from((millis + 999) / 1000).unwrap_or_default()
        });
        Refusal::Blocked {
            block,
            retry_after_seconds,
        }
    }
}

/// The block of a request its route's rollout or flag leaves out: the route's env-gated
/// answer (`404`), unless the route has a factory for it.
fn gated(rule: &Rule, cause: BlockCause) -> Block<'_> {
    Block {
        kind: BlockKind::EnvGated,
        reason: "",
        retry_after: None,
        allowed_envs: &[],
        rule: Some(rule),
        cause,
        body_head: None,
    }
}

/// What the route's state lets through.
enum Routed<'s> {
    /// Serve under the rule (its rate limits apply), counted as this when served.
    Rule(&'s Arc<Rule>, RequestOutcome),
    /// Serve as is (force-active, or no known route), counted here (`None`: as unmatched).
    Plain(Option<&'s RouteCounters>),
}
