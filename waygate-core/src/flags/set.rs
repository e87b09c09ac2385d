//! The flags and segments in force, compiled, and their evaluation (the Python original's
//! order: off, prerequisites, individual targets, rules, fallthrough).

use super::bucket::{bucket, pick};
use super::compiled::{Choice, Clause, CompiledFlag, CompiledSegment, Serve};
use super::context::EvaluationContext;
use super::model::{FeatureFlag, Operator, Segment};
use super::telemetry::{self, ExposureSink, FlagTelemetry};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::sync::Arc;

/// How deep prerequisites may nest before evaluation gives up (the Python original's limit;
/// cycles are refused on save, so only a very long chain reaches it).
const MAX_PREREQUISITE_DEPTH: usize = 10;

/// Why a flag served what it served (the Python original's reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The flag is off: its off variation.
    Off,
    /// No target or rule matched: the fallthrough.
    Fallthrough,
    /// The context's key is listed for a variation.
    TargetMatch,
    /// A rule matched.
    RuleMatch,
    /// A prerequisite did not serve what it must: the off variation.
    PrerequisiteFail,
    /// Evaluation failed (prerequisites nested too deep): the off variation.
    Error,
    /// The caller's default was served (the flag is unknown, or of another type).
    Default,
}

impl Reason {
    /// The wire name (`OFF`, `RULE_MATCH`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::Fallthrough => "FALLTHROUGH",
            Self::TargetMatch => "TARGET_MATCH",
            Self::RuleMatch => "RULE_MATCH",
            Self::PrerequisiteFail => "PREREQUISITE_FAIL",
            Self::Error => "ERROR",
            Self::Default => "DEFAULT",
        }
    }
}

/// What a flag serves a context, borrowed from the flag set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution<'a> {
    /// The value (`null` when the variation named does not exist).
    pub value: &'a Value,
    /// The variation's name.
    pub variation: &'a str,
    /// Why.
    pub reason: Reason,
    /// The rule that matched.
    pub rule_id: Option<&'a str>,
    /// The prerequisite that failed.
    pub prerequisite_key: Option<&'a str>,
    /// What went wrong, for [`Reason::Error`].
    pub error_message: Option<&'static str>,
}

/// A resolution and the place of the variation it serves in the flag's `variations` (where
/// its evaluation is counted; none for a name no variation has).
struct Resolved<'a> {
    resolution: Resolution<'a>,
    index: Option<usize>,
}

/// Every flag and segment in force, compiled: an immutable value that evaluation reads
/// without a lock. An engine keeps one and replaces it whole when a flag or segment changes.
#[derive(Debug, Clone, Default)]
pub struct FlagSet {
    flags: FxHashMap<String, CompiledFlag>,
    segments: FxHashMap<String, CompiledSegment>,
    /// Not loaded yet: a missing key is `PROVIDER_NOT_READY`, not `FLAG_NOT_FOUND`.
    pending: bool,
    /// Where evaluations are exposed, when the engine has a callback.
    exposures: Option<Arc<ExposureSink>>,
}

impl FlagSet {
    /// A set of `flags` and `segments` (a later one of the same key wins), counting its
    /// evaluations on counters of its own.
    pub fn new(
        flags: impl IntoIterator<Item = FeatureFlag>,
        segments: impl IntoIterator<Item = Segment>,
    ) -> Self {
        Self::with_telemetry(flags, segments, &FlagTelemetry::default())
    }

    /// [`new`](Self::new), counting on `telemetry`'s counters and exposing to its sink.
    pub(crate) fn with_telemetry(
        flags: impl IntoIterator<Item = FeatureFlag>,
        segments: impl IntoIterator<Item = Segment>,
        telemetry: &FlagTelemetry,
    ) -> Self {
        Self {
            flags: flags
                .into_iter()
                .map(|flag| {
                    let names: Vec<String> =
                        flag.variations.iter().map(|v| v.name.clone()).collect();
                    let stats = telemetry.stats_for(&flag.key, &names);
                    (flag.key.clone(), CompiledFlag::new(flag, stats))
                })
                .collect(),
            segments: segments
                .into_iter()
                .map(|segment| (segment.key.clone(), CompiledSegment::new(segment)))
                .collect(),
            pending: false,
            exposures: telemetry.exposures(),
        }
    }

    /// The set of a service that has not loaded its flags yet (an SDK before its first
    /// synchronisation with the server): every evaluation serves the caller's default with
    /// [`ErrorCode::ProviderNotReady`](crate::flags::ErrorCode::ProviderNotReady), so the
    /// startup race is visible rather than a silent `FLAG_NOT_FOUND`.
    ///
    /// ```
    /// use waygate_core::flags::{ErrorCode, EvaluationContext, FlagSet};
    ///
    /// let details = FlagSet::pending().details("new-checkout", &EvaluationContext::new("u"), false);
    /// assert_eq!(details.error, Some(ErrorCode::ProviderNotReady));
    /// ```
    pub fn pending() -> Self {
        Self {
            pending: true,
            ..Self::default()
        }
    }

    /// Whether the flags have not been loaded yet (see [`pending`](Self::pending)).
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// The flag `key`.
    pub fn flag(&self, key: &str) -> Option<&FeatureFlag> {
        self.flags.get(key).map(|compiled| &compiled.source)
    }

    /// Every flag, in no particular order.
    pub fn flags(&self) -> impl Iterator<Item = &FeatureFlag> {
        self.flags.values().map(|compiled| &compiled.source)
    }

    /// The segment `key`.
    pub fn segment(&self, key: &str) -> Option<&Segment> {
        self.segments.get(key).map(|compiled| &compiled.source)
    }

    /// Every segment, in no particular order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.values().map(|compiled| &compiled.source)
    }

    /// How many flags there are.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether there is no flag.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The OpenFeature (and OFREP) reason of a resolution of flag `key`: a target or a rule
    /// is `TARGETING_MATCH`; the fallthrough is `SPLIT` for a rollout, `STATIC` for a flag
    /// with no targets and no rules, else `DEFAULT`; off and a failed prerequisite are
    /// `DISABLED`; an error is `ERROR`. (The Python original says `DEFAULT` for every
    /// fallthrough, which OFREP's reasons do not distinguish.)
    pub fn open_feature_reason(&self, key: &str, resolution: &Resolution<'_>) -> &'static str {
        match resolution.reason {
            Reason::TargetMatch | Reason::RuleMatch => "TARGETING_MATCH",
            Reason::Off | Reason::PrerequisiteFail => "DISABLED",
            Reason::Error => "ERROR",
            Reason::Default => "DEFAULT",
            Reason::Fallthrough => match self.flag(key) {
                Some(flag) if matches!(flag.fallthrough, super::Fallthrough::Rollout(_)) => "SPLIT",
                Some(flag) if flag.targets.is_empty() && flag.rules.is_empty() => "STATIC",
                _ => "DEFAULT",
            },
        }
    }

    /// What the flag `key` serves `ctx`; `None` when there is no such flag.
    /// Counted in the engine's telemetry (and exposed, and traced) like every evaluation.
    pub fn evaluate(&self, key: &str, ctx: &EvaluationContext) -> Option<Resolution<'_>> {
        let flag = self.flags.get(key)?;
        let Resolved { resolution, index } = self.resolve(flag, ctx, 0);
        telemetry::report(
            &flag.stats,
            self.exposures.as_deref(),
            key,
            index.unwrap_or(usize::MAX),
            &resolution,
            ctx,
        );
        Some(resolution)
    }

    /// What the flag `key` would serve `ctx`, without counting, exposing or tracing it: the
    /// evaluation debuggers' read, which is not code reading the flag.
    pub fn explain(&self, key: &str, ctx: &EvaluationContext) -> Option<Resolution<'_>> {
        self.flags
            .get(key)
            .map(|flag| self.resolve(flag, ctx, 0).resolution)
    }

    fn resolve<'a>(
        &'a self,
        flag: &'a CompiledFlag,
        ctx: &EvaluationContext,
        depth: usize,
    ) -> Resolved<'a> {
        let serve = |choice: Choice, reason| Resolved {
            resolution: Resolution {
                value: flag.value(choice),
                variation: flag.name(choice),
                reason,
                rule_id: None,
                prerequisite_key: None,
                error_message: None,
            },
            index: choice.index,
        };
        if depth > MAX_PREREQUISITE_DEPTH {
            let mut resolved = serve(flag.off, Reason::Error);
            resolved.resolution.error_message = Some("Prerequisite depth limit exceeded");
            return resolved;
        }
        if !flag.source.enabled {
            return serve(flag.off, Reason::Off);
        }
        for prerequisite in &flag.source.prerequisites {
            let passed = self
                .flags
                .get(&prerequisite.flag_key)
                .is_some_and(|required| {
                    let served = self.resolve(required, ctx, depth + 1);
                    served.resolution.variation == prerequisite.variation
                });
            if !passed {
                let mut resolved = serve(flag.off, Reason::PrerequisiteFail);
                resolved.resolution.prerequisite_key = Some(&prerequisite.flag_key);
                return resolved;
            }
        }
        for (choice, keys) in &flag.targets {
            if keys.contains(ctx.key.as_str()) {
                return serve(*choice, Reason::TargetMatch);
            }
        }
        for (rule, source) in flag.rules.iter().zip(&flag.source.rules) {
            if rule
                .clauses
                .iter()
                .all(|clause| self.flag_clause(clause, ctx))
            {
                let choice = match &rule.serve {
                    Serve::One(choice) => Some(*choice),
                    Serve::Rollout(shares) => rollout(flag, shares, ctx),
                    Serve::Fallthrough => self.fallthrough(flag, ctx),
                };
                let mut resolved = serve(choice.unwrap_or(flag.off), Reason::RuleMatch);
                resolved.resolution.rule_id = Some(&source.id);
                return resolved;
            }
        }
        match self.fallthrough(flag, ctx) {
            Some(choice) => serve(choice, Reason::Fallthrough),
            None => serve(flag.off, Reason::Fallthrough),
        }
    }

    fn fallthrough(&self, flag: &CompiledFlag, ctx: &EvaluationContext) -> Option<Choice> {
        match &flag.fallthrough {
            Serve::One(choice) => Some(*choice),
            Serve::Rollout(shares) => rollout(flag, shares, ctx),
            Serve::Fallthrough => None,
        }
    }

    /// A clause of a flag's rule: segment operators look the context's key up in the
    /// segment, with its rules (the Python original's `_clause_matches_with_ctx`).
    fn flag_clause(&self, clause: &Clause, ctx: &EvaluationContext) -> bool {
        let result = match clause.operator {
            Operator::InSegment => clause
                .segment_keys()
                .any(|s| self.in_segment(s, &ctx.key, Some(ctx))),
            Operator::NotInSegment => clause
                .segment_keys()
                .all(|s| !self.in_segment(s, &ctx.key, Some(ctx))),
            _ => clause.applies(clause.actual(ctx)),
        };
        result != clause.negate
    }

    /// A clause of a segment's rule: a nested segment operator reads the clause's attribute
    /// and consults the other segment's lists only.
    fn segment_clause(&self, clause: &Clause, ctx: &EvaluationContext) -> bool {
        let listed = |segment: &str| {
            let key = match clause.actual(ctx) {
                Some(super::context::Attr::Text(text)) => Some(text),
                Some(super::context::Attr::Json(Value::String(text))) => Some(text.as_str()),
                _ => None,
            };
            key.is_some_and(|key| self.in_segment(segment, key, None))
        };
        let result = match clause.operator {
            Operator::InSegment => clause.segment_keys().any(listed),
            Operator::NotInSegment => clause.segment_keys().all(|s| !listed(s)),
            _ => clause.applies(clause.actual(ctx)),
        };
        result != clause.negate
    }

    /// Whether `key` is in `segment`: excluded → out, included → in, else (with a context)
    /// in when any of its rules matches. An unknown segment is empty.
    fn in_segment(&self, segment: &str, key: &str, ctx: Option<&EvaluationContext>) -> bool {
        let Some(compiled) = self.segments.get(segment) else {
            return false;
        };
        if let Some(listed) = compiled.lists(key) {
            return listed;
        }
        ctx.is_some_and(|ctx| {
            compiled.rules().iter().any(|clauses| {
                clauses
                    .iter()
                    .all(|clause| self.segment_clause(clause, ctx))
            })
        })
    }
}

/// The share of a rollout `ctx` falls in.
fn rollout(
    flag: &CompiledFlag,
    shares: &[(Choice, u32)],
    ctx: &EvaluationContext,
) -> Option<Choice> {
    pick(shares, bucket(&flag.source.key, &ctx.kind, &ctx.key))
}
