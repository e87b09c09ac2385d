//! The in-process picture of every route's state that requests are checked against.
//!
//! A [`Snapshot`] is immutable and rebuilt whole when state changes; the hot path loads it
//! once per request (`ArcSwap`) and does one hash lookup by path template, with no allocation
//! and no lock.

use crate::counters::{RequestCounters, RouteCounters};
use crate::decide::BlockedBodyHead;
use crate::limiter::Limiter;
use crate::limits::Limits;
use crate::model::{GlobalMaintenanceConfig, RouteState, RouteStatus};
use crate::path_match::PathMatcher;
use crate::registry::{FeatureFlagMeta, InitialStatus, RolloutKeyMeta, RouteMeta};
use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderValue, Method};
use rustc_hash::{FxHashMap, FxHashSet};
use std::any::Any;
use std::sync::Arc;

/// Method slots of a path entry; anything else only matches bare keys.
const METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
    Method::TRACE,
    Method::CONNECT,
];
const HEAD_SLOT: usize = 1;
const GET_SLOT: usize = 0;

fn slot(method: &Method) -> Option<usize> {
    // GET first: most requests are.
    if *method == Method::GET {
        return Some(GET_SLOT);
    }
    METHODS.iter().position(|m| m == method)
}

/// Where this thread last found the rules of a template, by the template's address: a
/// small direct-mapped table of hints (index into [`Snapshot`]'s paths), for whichever
/// snapshot asks; [`Snapshot::path_rules`] checks each hint before using it.
mod path_hint {
    use std::cell::Cell;

    const SLOTS: usize = 64;

    thread_local! {
        static HINTS: [Cell<(usize, u32)>; SLOTS] = const { [const { Cell::new((0, 0)) }; SLOTS] };
    }

    fn slot(address: usize) -> usize {
        // Strings are at least 8-byte aligned apart in practice; mix in higher bits.
        ((address >> 3) ^ (address >> 9)) % SLOTS
    }

    /// The hint for `address`, if this thread has one.
    #[inline]
    pub(super) fn get(address: usize) -> Option<u32> {
        HINTS.with(|hints| {
            let (seen, at) = hints[slot(address)].get();
            (seen == address).then_some(at)
        })
    }

    /// Remembers that the template at `address` was at `at`.
    #[inline]
    pub(super) fn set(address: usize, at: u32) {
        HINTS.with(|hints| hints[slot(address)].set((address, at)));
    }
}

/// Splits a route key into its method slot (`None` for a bare key) and path template.
/// Keys that are neither `METHOD:/path` nor `/path` (service-prefixed, sentinels) give `None`.
pub(crate) fn parse_key(key: &str) -> Option<(Option<usize>, &str)> {
    let key = crate::stored::RouteKey::parse(key).filter(|k| k.service().is_none())?;
    let slot = match key.method() {
        Some(method) => Some(slot(&Method::from_bytes(method.as_bytes()).ok()?)?),
        None => None,
    };
    Some((slot, key.template()))
}

/// An immutable view of all route states and the global maintenance switch.
#[derive(Debug, Default)]
pub struct Snapshot {
    generation: u64,
    /// The rules of every path template, and where each template's are.
    paths: Vec<PathRules>,
    index: FxHashMap<Box<str>, u32>,
    /// The templates' paths in a radix tree, when the engine keeps one.
    matcher: Option<PathMatcher>,
    global: Option<GlobalBlock>,
    global_limit: Option<GlobalLimit>,
}

#[derive(Debug, Default)]
struct PathRules {
    template: Box<str>,
    by_method: [Option<Arc<Rule>>; METHODS.len()],
    any_method: Option<Arc<Rule>>,
}

#[derive(Debug)]
struct GlobalBlock {
    reason: Box<str>,
    body_head: Option<BlockedBodyHead>,
    exempt: PathSet,
    include_force_active: bool,
}

/// The global rate limit, with the routes it spares.
#[derive(Debug)]
struct GlobalLimit {
    limiter: Arc<Limiter>,
    exempt: PathSet,
}

/// Paths given as `"/path"` (every method) or `"METHOD:/path"`: a bit per method slot, bit
/// `METHODS.len()` for every method.
#[derive(Debug, Default)]
struct PathSet(FxHashMap<Box<str>, u16>);

const ALL_METHODS_BIT: u16 = 1 << METHODS.len();

/// How one route key is enforced.
#[derive(Debug)]
pub struct Rule {
    key: Box<str>,
    pub(crate) force_active: bool,
    action: Action,
    response: Option<&'static (dyn Any + Send + Sync)>,
    limiter: Option<Arc<Limiter>>,
    service_limiter: Option<Arc<Limiter>>,
    /// The maintenance of the route's service, when it is on.
    service_block: Option<Arc<GlobalBlock>>,
    /// What the decision did with the route's requests (they outlast the snapshot).
    pub(crate) counters: Arc<RouteCounters>,
    /// A share below 100%: who is served.
    pub(crate) rollout: Option<RolloutRule>,
    /// `#[feature_flag]`: the flag that must be on for the request.
    pub(crate) feature_flag: Option<FeatureFlagMeta>,
    /// Whether a request is served with nothing to do but count it (and evaluate its
    /// flag): [`Snapshot::serves_plainly`], decided when the snapshot is built.
    pub(crate) plain: bool,
}

/// A route served to part of its clients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RolloutRule {
    /// 0 to 99.
    pub(crate) percent: u8,
    /// What identifies a client.
    pub(crate) key: RolloutKeyMeta,
    /// The `#[rollout(response = ..)]` factory, type-erased.
    pub(crate) response: Option<&'static (dyn Any + Send + Sync)>,
}

#[derive(Debug)]
enum Action {
    Allow,
    Deprecated(Arc<DeprecationHeaders>),
    Maintenance {
        reason: Box<str>,
        body_head: Option<BlockedBodyHead>,
        window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    },
    Disabled {
        reason: Box<str>,
        body_head: Option<BlockedBodyHead>,
    },
    EnvGated {
        allowed: Box<[String]>,
    },
}

/// The headers a deprecated route's responses carry, encoded once per snapshot.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeprecationHeaders {
    /// `Deprecation: @<unix>` (RFC 9745) or `true`.
    pub deprecation: HeaderValue,
    /// `Sunset: <HTTP-date>`.
    pub sunset: Option<HeaderValue>,
    /// `Link: <successor>; rel="successor-version"`.
    pub link: Option<HeaderValue>,
}

impl DeprecationHeaders {
    /// Adds the headers to a response's: `Deprecation`, then `Sunset` and `Link` when set.
    pub fn apply(&self, headers: &mut http::HeaderMap) {
        headers.insert(
            http::HeaderName::from_static("deprecation"),
            self.deprecation.clone(),
        );
        if let Some(sunset) = &self.sunset {
            headers.insert(http::HeaderName::from_static("sunset"), sunset.clone());
        }
        if let Some(link) = &self.link {
            headers.append(http::header::LINK, link.clone());
        }
    }
}

/// The outcome of checking a request against a snapshot.
#[derive(Debug)]
#[non_exhaustive]
pub enum Verdict<'a> {
    /// Serve the request.
    Pass(Pass<'a>),
    /// Refuse the request.
    Block(Block<'a>),
}

/// Whose limit a limiter enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitScope {
    /// The global or the service's limit.
    Shared,
    /// The route's own limit (the one `X-RateLimit-*` headers describe).
    Route,
}

/// How a request is served.
#[derive(Debug)]
#[non_exhaustive]
pub enum Pass<'a> {
    /// No state is known for the route (it should be registered).
    Unknown,
    /// A force-active route: served as is, nothing else applies.
    ForceActive,
    /// Served under the rule: its rate limits apply, and its deprecation headers if any.
    Route(&'a Arc<Rule>),
}

/// A refused request, before it is turned into a response.
#[derive(Debug)]
#[non_exhaustive]
pub struct Block<'a> {
    /// Why.
    pub kind: BlockKind,
    /// The reason stored with the state.
    pub reason: &'a str,
    /// The end of the maintenance window, for `Retry-After`.
    pub retry_after: Option<DateTime<Utc>>,
    /// The environments an env-gated route is served in.
    pub allowed_envs: &'a [String],
    /// The matched rule, if any (its key and response factory).
    pub rule: Option<&'a Rule>,
    /// What refuses it.
    pub cause: BlockCause,
    /// The built-in body's head, made with the snapshot (none for an env-gated route).
    pub(crate) body_head: Option<&'a BlockedBodyHead>,
}

/// What refuses a [`Block`]ed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockCause {
    /// The route's own state.
    Route,
    /// Global maintenance.
    Global,
    /// The maintenance of the route's service.
    Service,
    /// The client is outside the route's rollout percentage (answered as env-gated).
    Rollout,
    /// The route's feature flag is off for the request (answered as env-gated).
    FeatureFlag,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockKind {
    /// The route (or the whole service) is in maintenance: `503 MAINTENANCE_MODE`.
    Maintenance,
    /// The route is disabled: `503 ROUTE_DISABLED`.
    Disabled,
    /// The route is not served in this environment: `404`.
    EnvGated,
}

impl Rule {
    /// The route key this rule was built from.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The flag a request must find on to be served: the route's `#[feature_flag]`, unless
    /// the route is force-active (served whatever the flag says).
    pub(crate) fn flag_gate(&self) -> Option<FeatureFlagMeta> {
        self.feature_flag.filter(|_| !self.force_active)
    }

    /// The type-erased `response = ..` factory of the route.
    pub fn response(&self) -> Option<&'static (dyn Any + Send + Sync)> {
        self.response
    }

    /// The share of clients the route is served to (100 without a rollout).
    pub fn rollout_percentage(&self) -> u8 {
        self.rollout.map_or(100, |r| r.percent)
    }

    /// The key of the flag the route is served behind (`#[feature_flag]`), if any.
    pub fn feature_flag(&self) -> Option<&'static str> {
        self.feature_flag.map(|gate| gate.key)
    }

    /// The type-erased `#[feature_flag(response = ..)]` factory, for requests the flag is
    /// off for.
    pub fn feature_flag_response(&self) -> Option<&'static (dyn Any + Send + Sync)> {
        self.feature_flag.and_then(|gate| gate.response)
    }

    /// The type-erased `#[rollout(response = ..)]` factory, for clients outside the rollout.
    pub fn rollout_response(&self) -> Option<&'static (dyn Any + Send + Sync)> {
        self.rollout.and_then(|r| r.response)
    }

    /// The deprecation headers, for a deprecated route.
    pub fn deprecation(&self) -> Option<&Arc<DeprecationHeaders>> {
        match &self.action {
            Action::Deprecated(headers) => Some(headers),
            _ => None,
        }
    }
}

impl Snapshot {
    /// Which version of the state this is; every rebuild increments it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The template `path` belongs to, when this snapshot's path matcher can say (see
    /// [`Engine::match_paths`](crate::Engine::match_paths)): `None` without a matcher, for
    /// a path of no known template, or of one another template overlaps — then only the
    /// router can tell.
    #[inline]
    pub fn match_path(&self, path: &str) -> Option<&str> {
        let at = self.matcher.as_ref()?.at(path)?;
        Some(&self.paths[at as usize].template)
    }

    /// Whether a rule exists for this method and template.
    pub fn knows(&self, method: &Method, template: &str) -> bool {
        self.rule(method, template).is_some()
    }

    /// The flag the route `key` (`METHOD:/path`) is served behind (`#[feature_flag]`), if
    /// any: for the dashboard and the OpenAPI document.
    pub fn feature_flag(&self, key: &str) -> Option<&'static str> {
        let (method, template) = key.split_once(':')?;
        let method = Method::from_bytes(method.as_bytes()).ok()?;
        self.rule(&method, template)?.feature_flag()
    }

    #[inline]
    pub(crate) fn rule(&self, method: &Method, template: &str) -> Option<&Arc<Rule>> {
        let rules = self.path_rules(template)?;
        let by_method = match slot(method) {
            Some(HEAD_SLOT) => rules.by_method[HEAD_SLOT]
                .as_ref()
                .or(rules.by_method[GET_SLOT].as_ref()),
            Some(i) => rules.by_method[i].as_ref(),
            None => None,
        };
        by_method.or(rules.any_method.as_ref())
    }

    /// The rules of `template`. A router hands the same template (the same string, at the
    /// same address) for every request to a route, so this thread remembers where the
    /// rules of the address it saw last were: a hint, checked against the template's text
    /// before it is used, so a stale or wrong one only costs the hash lookup it saves.
    #[inline]
    fn path_rules(&self, template: &str) -> Option<&PathRules> {
        let address = template.as_ptr() as usize;
        let hint = path_hint::get(address);
        if let Some(rules) = hint.and_then(|at| self.paths.get(at as usize)) {
            if *rules.template == *template {
                return Some(rules);
            }
        }
        let at = *self.index.get(template)?;
        path_hint::set(address, at);
        self.paths.get(at as usize)
    }

    /// Checks a request, in the Python original's order: force-active routes, global
    /// maintenance and its exemptions, then the route's own state. `template` is the matched
    /// route template (`/items/{id}`), `path` the concrete path (used when nothing matched).
    /// `now` is read only for routes with a maintenance window.
    pub fn check<'a>(
        &'a self,
        method: &Method,
        template: Option<&str>,
        path: &str,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Verdict<'a> {
        let rule = template.and_then(|t| self.rule(method, t));
        self.check_found(method, rule, template.unwrap_or(path), now)
    }

    /// [`check`](Self::check) of a request whose rule (looked up by its template) is `rule`;
    /// `checked_path` is the template, or the path when the router matched none.
    pub(crate) fn check_found<'a>(
        &'a self,
        method: &Method,
        rule: Option<&'a Arc<Rule>>,
        checked_path: &str,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Verdict<'a> {
        let force_active = rule.is_some_and(|r| r.force_active);
        let service = rule.and_then(|r| r.service_block.as_deref());
        let scopes = self
            .global
            .iter()
            .map(|b| (b, BlockCause::Global))
            .chain(service.map(|b| (b, BlockCause::Service)));
        for (block, cause) in scopes {
            if block.blocks(method, checked_path, force_active) {
                return Verdict::Block(Block {
                    kind: BlockKind::Maintenance,
                    reason: &block.reason,
                    retry_after: None,
                    allowed_envs: &[],
                    rule: rule.map(|r| &**r),
                    cause,
                    body_head: block.body_head.as_ref(),
                });
            }
        }
        let Some(rule) = rule else {
            return Verdict::Pass(Pass::Unknown);
        };
        if rule.force_active {
            return Verdict::Pass(Pass::ForceActive);
        }
        Self::check_rule(rule, now)
    }

    /// The route's own state, global and service maintenance aside (what a request that
    /// bypassed those meets next).
    pub(crate) fn check_rule<'a>(
        rule: &'a Arc<Rule>,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Verdict<'a> {
        let block = |kind, reason, body_head: &'a Option<BlockedBodyHead>, retry_after| {
            Verdict::Block(Block {
                kind,
                reason,
                retry_after,
                allowed_envs: &[],
                rule: Some(rule),
                cause: BlockCause::Route,
                body_head: body_head.as_ref(),
            })
        };
        match &rule.action {
            Action::Allow | Action::Deprecated(_) => Verdict::Pass(Pass::Route(rule)),
            Action::Maintenance {
                reason,
                body_head,
                window,
            } => match window {
                Some((start, end)) => {
                    let now = now();
                    if *start <= now && now < *end {
                        block(BlockKind::Maintenance, reason, body_head, Some(*end))
                    } else {
                        Verdict::Pass(Pass::Route(rule))
                    }
                }
                None => block(BlockKind::Maintenance, reason, body_head, None),
            },
            Action::Disabled { reason, body_head } => {
                block(BlockKind::Disabled, reason, body_head, None)
            }
            Action::EnvGated { allowed } => Verdict::Block(Block {
                kind: BlockKind::EnvGated,
                reason: "",
                retry_after: None,
                allowed_envs: allowed,
                rule: Some(rule),
                cause: BlockCause::Route,
                body_head: None,
            }),
        }
    }
}

impl Snapshot {
    /// The rate limiters a request served under `rule` passes, in the Python original's
    /// order: global (unless the route is exempt), the route's service, the route.
    pub(crate) fn limiters<'a>(
        &'a self,
        rule: &'a Rule,
        method: &Method,
        template: &str,
    ) -> impl Iterator<Item = (LimitScope, &'a Arc<Limiter>)> {
        let global = self
            .global_limit
            .as_ref()
            .filter(|g| !g.exempt.contains(method, template))
            .map(|g| &g.limiter);
        let shared = global.into_iter().chain(rule.service_limiter.as_ref());
        shared
            .map(|l| (LimitScope::Shared, l))
            .chain(rule.limiter.as_ref().map(|l| (LimitScope::Route, l)))
    }

    /// Whether a request to `rule` is served with nothing to do but count it (and, for a
    /// route behind a flag, evaluate the flag): no global maintenance or limit, and a route
    /// that is active (or force-active) with no rollout, limit or service maintenance. The
    /// common case, decided when the snapshot is built: one load per request.
    fn serves_plainly(&self, rule: &Rule) -> bool {
        self.global.is_none()
            && self.global_limit.is_none()
            && (rule.force_active
                || (matches!(rule.action, Action::Allow)
                    && rule.rollout.is_none()
                    && rule.limiter.is_none()
                    && rule.service_limiter.is_none()
                    && rule.service_block.is_none()))
    }

    pub(crate) fn has_limits(&self, rule: &Rule) -> bool {
        self.global_limit.is_some() || rule.limiter.is_some() || rule.service_limiter.is_some()
    }
}

impl PathSet {
    fn new(entries: &[String]) -> Self {
        let mut set: FxHashMap<Box<str>, u16> = FxHashMap::default();
        for entry in entries {
            match parse_key(entry) {
                Some((Some(i), path)) => *set.entry(path.into()).or_default() |= 1 << i,
                _ => *set.entry(entry.as_str().into()).or_default() |= ALL_METHODS_BIT,
            }
        }
        Self(set)
    }

    fn contains(&self, method: &Method, path: &str) -> bool {
        let Some(bits) = self.0.get(path) else {
            return false;
        };
        if bits & ALL_METHODS_BIT != 0 {
            return true;
        }
        match slot(method) {
            Some(HEAD_SLOT) => bits & (1 << HEAD_SLOT | 1 << GET_SLOT) != 0,
            Some(i) => bits & (1 << i) != 0,
            None => false,
        }
    }
}

/// Everything a snapshot is built from.
#[derive(Debug)]
pub(crate) struct SnapshotInput<'a> {
    pub(crate) generation: u64,
    pub(crate) env: &'a str,
    pub(crate) states: &'a [&'a RouteState],
    pub(crate) metas: &'a FxHashMap<String, &'static RouteMeta>,
    pub(crate) global: &'a GlobalMaintenanceConfig,
    pub(crate) limits: &'a Limits,
    pub(crate) services: &'a FxHashMap<String, GlobalMaintenanceConfig>,
    pub(crate) counters: &'a RequestCounters,
    /// Build a path matcher, answering for none of these templates.
    pub(crate) path_match: Option<&'a FxHashSet<Box<str>>>,
}

impl Snapshot {
    pub(crate) fn build(input: SnapshotInput<'_>) -> Self {
        let service_blocks: FxHashMap<&str, Arc<GlobalBlock>> = input
            .services
            .iter()
            .filter(|(_, config)| config.enabled)
            .map(|(service, config)| (service.as_str(), Arc::new(GlobalBlock::new(config))))
            .collect();
        let mut snapshot = Self {
            generation: input.generation,
            paths: Vec::new(),
            index: FxHashMap::default(),
            matcher: None,
            global: input.global.enabled.then(|| GlobalBlock::new(input.global)),
            global_limit: input.limits.global.as_ref().and_then(|limiter| {
                let exempt = limiter.global_exemptions()?;
                Some(GlobalLimit {
                    limiter: limiter.clone(),
                    exempt: PathSet::new(exempt),
                })
            }),
        };
        for state in input.states {
            let Some((slot, template)) = parse_key(&state.path) else {
                continue;
            };
            let meta = input.metas.get(state.path.as_str()).copied();
            let mut rule = Rule::from_state(state, template, meta, input.env);
            rule.counters = input.counters.route(&state.path);
            rule.limiter = input.limits.routes.get(state.path.as_str()).cloned();
            rule.service_block = state
                .service
                .as_deref()
                .and_then(|service| service_blocks.get(service).cloned());
            rule.service_limiter = state
                .service
                .as_ref()
                .and_then(|service| input.limits.services.get(service))
                .filter(|limiter| limiter.global_exemptions().is_some())
                .cloned();
            rule.plain = snapshot.serves_plainly(&rule);
            let rule = Arc::new(rule);
            let paths = &mut snapshot.paths;
            let at = *snapshot.index.entry(template.into()).or_insert_with(|| {
                paths.push(PathRules {
                    template: template.into(),
                    ..PathRules::default()
                });
                u32::try_from(paths.len() - 1).expect("fewer than 2^32 route templates")
            });
            let rules = &mut paths[at as usize];
            match slot {
                Some(i) => rules.by_method[i] = Some(rule),
                None => rules.any_method = Some(rule),
            }
        }
        snapshot.matcher = input.path_match.map(|excluded| {
            let templates = snapshot.paths.iter().map(|rules| &*rules.template);
            PathMatcher::new(templates, |template| excluded.contains(template))
        });
        snapshot
    }
}

impl GlobalBlock {
    /// Whether this maintenance blocks the request.
    fn blocks(&self, method: &Method, path: &str, force_active: bool) -> bool {
        !self.exempt.contains(method, path) && (!force_active || self.include_force_active)
    }

    fn new(config: &GlobalMaintenanceConfig) -> Self {
        Self {
            reason: config.reason.as_str().into(),
            body_head: BlockedBodyHead::new(BlockKind::Maintenance, &config.reason, None),
            exempt: PathSet::new(&config.exempt_paths),
            include_force_active: config.include_force_active,
        }
    }
}

impl Rule {
    /// The rule of `state`, a route whose template is `template`.
    fn from_state(
        state: &RouteState,
        template: &str,
        meta: Option<&'static RouteMeta>,
        env: &str,
    ) -> Self {
        let action = match state.status {
            RouteStatus::Active => Action::Allow,
            RouteStatus::Deprecated => {
                Action::Deprecated(Arc::new(deprecation_headers(state, meta)))
            }
            RouteStatus::Maintenance => Action::Maintenance {
                reason: state.reason.as_str().into(),
                body_head: BlockedBodyHead::new(
                    BlockKind::Maintenance,
                    &state.reason,
                    Some(template),
                ),
                window: state.window.as_ref().map(|w| (w.start, w.end)),
            },
            RouteStatus::Disabled => Action::Disabled {
                reason: state.reason.as_str().into(),
                body_head: BlockedBodyHead::new(BlockKind::Disabled, &state.reason, Some(template)),
            },
            RouteStatus::EnvGated if state.allowed_envs.iter().any(|e| e == env) => Action::Allow,
            RouteStatus::EnvGated => Action::EnvGated {
                allowed: state.allowed_envs.clone().into_boxed_slice(),
            },
        };
        Self {
            key: state.path.as_str().into(),
            force_active: state.force_active || meta.is_some_and(|m| m.force_active),
            action,
            response: meta.and_then(|m| m.response),
            limiter: None,
            service_limiter: None,
            service_block: None,
            counters: Arc::default(),
            rollout: (state.rollout_percentage < 100).then(|| {
                let declared = meta.and_then(|m| m.rollout);
                RolloutRule {
                    percent: state.rollout_percentage,
                    key: declared.map_or(RolloutKeyMeta::UserThenIp, |r| r.key),
                    response: declared.and_then(|r| r.response),
                }
            }),
            feature_flag: meta.and_then(|m| m.feature_flag),
            plain: false,
        }
    }
}

fn deprecation_headers(state: &RouteState, meta: Option<&'static RouteMeta>) -> DeprecationHeaders {
    let since = meta.and_then(|m| match m.initial {
        InitialStatus::Deprecated { since, .. } => since,
        _ => None,
    });
    let deprecation = match since.and_then(|s| Utc.timestamp_opt(s, 0).single()) {
        Some(at) => HeaderValue::from_str(&format!("@{}", at.timestamp())).ok(),
        None => None,
    }
    .unwrap_or(HeaderValue::from_static("true"));
    let header = |value: String| HeaderValue::from_str(&value).ok();
    DeprecationHeaders {
        deprecation,
        sunset: state.sunset_date.clone().and_then(header),
        link: state
            .successor_path
            .as_ref()
            .map(|s| format!("<{s}>; rel=\"successor-version\""))
            .and_then(header),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot of active routes with these keys.
    fn snapshot_of(keys: &[&str]) -> Snapshot {
        let states: Vec<RouteState> = keys.iter().map(|k| RouteState::active(*k)).collect();
        let states: Vec<&RouteState> = states.iter().collect();
        Snapshot::build(SnapshotInput {
            generation: 1,
            env: "dev",
            states: &states,
            metas: &FxHashMap::default(),
            global: &GlobalMaintenanceConfig::default(),
            limits: &Limits::default(),
            services: &FxHashMap::default(),
            counters: &RequestCounters::default(),
            path_match: None,
        })
    }

    #[test]
    fn a_template_at_a_reused_address_finds_its_own_rule() {
        let snapshot = snapshot_of(&["GET:/items/{id}", "GET:/users/{id}", "POST:/users/{id}"]);
        // One buffer, so every template below is at the same address as the first.
        let mut buffer = String::from("/items/{id}");
        let key = |template: &str| {
            snapshot
                .rule(&Method::GET, template)
                .map(|r| r.key().to_owned())
        };
        assert_eq!(key(&buffer).as_deref(), Some("GET:/items/{id}"));
        buffer.replace_range(.., "/users/{id}");
        assert_eq!(key(&buffer).as_deref(), Some("GET:/users/{id}"));
        buffer.replace_range(.., "/other/{id}");
        assert_eq!(key(&buffer), None);
        assert_eq!(
            snapshot.rule(&Method::POST, "/users/{id}").map(|r| r.key()),
            Some("POST:/users/{id}")
        );
    }

    #[test]
    fn a_hint_from_another_snapshot_is_checked_before_use() {
        let one = snapshot_of(&["GET:/a", "GET:/b"]);
        let other = snapshot_of(&["GET:/b", "GET:/a"]);
        let template = String::from("/a");
        for _ in 0..2 {
            assert_eq!(
                one.rule(&Method::GET, &template).map(|r| r.key()),
                Some("GET:/a")
            );
            assert_eq!(
                other.rule(&Method::GET, &template).map(|r| r.key()),
                Some("GET:/a")
            );
        }
        assert!(snapshot_of(&["GET:/c"])
            .rule(&Method::GET, &template)
            .is_none());
        assert_eq!(
            one.rule(&Method::HEAD, &template).map(|r| r.key()),
            Some("GET:/a")
        );
    }
}
