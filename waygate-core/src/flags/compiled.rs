//! Flags and segments compiled for evaluation: variation names resolved to indexes, target
//! lists to sets, regexes, thresholds and versions parsed once — so that evaluating reads
//! and compares, and allocates nothing for a flag whose rules compare text.

use super::context::{Attr, EvaluationContext};
use super::model::{Fallthrough, FeatureFlag, Operator, RolloutVariation, RuleClause, Segment};
use super::telemetry::FlagStats;
use super::values;
use super::version::Version;
use regex_lite::Regex;
use rustc_hash::FxHashSet;
use serde_json::Value;
use std::sync::Arc;

/// A variation a flag may serve: its name, and its place in `variations` (none when no
/// variation has that name: the value is then `null`, as in the Python original).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Choice {
    pub(crate) index: Option<usize>,
    pub(crate) name_at: NameAt,
}

/// Where a choice's name is kept in the source flag.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NameAt {
    Off,
    Fallthrough,
    FallthroughRollout(usize),
    Target(usize),
    Rule(usize),
    RuleRollout(usize, usize),
}

/// What a rule or the fallthrough serves.
#[derive(Debug, Clone)]
pub(crate) enum Serve {
    One(Choice),
    Rollout(Vec<(Choice, u32)>),
    /// A rule with neither a variation nor a rollout: the fallthrough.
    Fallthrough,
}

/// A compiled clause.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    pub(crate) attribute: String,
    pub(crate) operator: Operator,
    pub(crate) values: Vec<Value>,
    pub(crate) negate: bool,
    /// `str()` of each value (the text operators).
    texts: Vec<String>,
    /// Each value as a regex (`None`: it does not compile, so it never matches).
    regexes: Vec<Option<Regex>>,
    /// `float()` of the first value (the numeric operators).
    threshold: Option<f64>,
    /// The first value as a version (the `semver_*` operators).
    version: Option<Version>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) clauses: Vec<Clause>,
    pub(crate) serve: Serve,
}

/// A compiled flag, beside its source.
#[derive(Debug, Clone)]
pub(crate) struct CompiledFlag {
    pub(crate) source: FeatureFlag,
    /// What its evaluations served (shared with the engine's telemetry).
    pub(crate) stats: Arc<FlagStats>,
    pub(crate) off: Choice,
    pub(crate) fallthrough: Serve,
    pub(crate) targets: Vec<(Choice, FxHashSet<String>)>,
    pub(crate) rules: Vec<Rule>,
}

/// A compiled segment.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSegment {
    pub(crate) source: Segment,
    included: FxHashSet<String>,
    excluded: FxHashSet<String>,
    rules: Vec<Vec<Clause>>,
}

impl CompiledFlag {
    pub(crate) fn new(source: FeatureFlag, stats: Arc<FlagStats>) -> Self {
        let index = |name: &str| source.variations.iter().position(|v| v.name == name);
        let choice = |name: &str, name_at| Choice {
            index: index(name),
            name_at,
        };
        let rollout = |rollout: &[RolloutVariation], at: &dyn Fn(usize) -> NameAt| {
            rollout
                .iter()
                .enumerate()
                .map(|(i, r)| (choice(&r.variation, at(i)), r.weight))
                .collect::<Vec<_>>()
        };
        let off = choice(&source.off_variation, NameAt::Off);
        let fallthrough = match &source.fallthrough {
            Fallthrough::Variation(name) => Serve::One(choice(name, NameAt::Fallthrough)),
            Fallthrough::Rollout(shares) => {
                Serve::Rollout(rollout(shares, &NameAt::FallthroughRollout))
            }
        };
        let targets = source
            .targets
            .iter()
            .enumerate()
            .map(|(i, (name, keys))| {
                (
                    choice(name, NameAt::Target(i)),
                    keys.iter().cloned().collect(),
                )
            })
            .collect();
        let rules = source
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| Rule {
                clauses: rule.clauses.iter().map(Clause::new).collect(),
                serve: match (&rule.variation, &rule.rollout) {
                    (Some(name), _) => Serve::One(choice(name, NameAt::Rule(i))),
                    (None, Some(shares)) if !shares.is_empty() => {
                        Serve::Rollout(rollout(shares, &|j| NameAt::RuleRollout(i, j)))
                    }
                    _ => Serve::Fallthrough,
                },
            })
            .collect();
        Self {
            off,
            fallthrough,
            targets,
            rules,
            source,
            stats,
        }
    }

    /// The name of a choice.
    pub(crate) fn name(&self, choice: Choice) -> &str {
        let flag = &self.source;
        match choice.name_at {
            NameAt::Off => &flag.off_variation,
            NameAt::Fallthrough => match &flag.fallthrough {
                Fallthrough::Variation(name) => name,
                Fallthrough::Rollout(_) => "",
            },
            NameAt::FallthroughRollout(i) => match &flag.fallthrough {
                Fallthrough::Rollout(shares) => &shares[i].variation,
                Fallthrough::Variation(_) => "",
            },
            NameAt::Target(i) => &flag.targets[i].0,
            NameAt::Rule(i) => flag.rules[i].variation.as_deref().unwrap_or_default(),
            NameAt::RuleRollout(i, j) => flag.rules[i]
                .rollout
                .as_ref()
                .map_or("", |shares| &shares[j].variation),
        }
    }

    /// The value of a choice (`null` for a name no variation has).
    pub(crate) fn value(&self, choice: Choice) -> &Value {
        static NULL: Value = Value::Null;
        choice
            .index
            .map_or(&NULL, |i| &self.source.variations[i].value)
    }
}

impl CompiledSegment {
    pub(crate) fn new(source: Segment) -> Self {
        Self {
            included: source.included.iter().cloned().collect(),
            excluded: source.excluded.iter().cloned().collect(),
            rules: source
                .rules
                .iter()
                .map(|rule| rule.clauses.iter().map(Clause::new).collect())
                .collect(),
            source,
        }
    }

    /// Whether `key` is listed in (and not excluded from) the segment.
    pub(crate) fn lists(&self, key: &str) -> Option<bool> {
        if self.excluded.contains(key) {
            return Some(false);
        }
        self.included.contains(key).then_some(true)
    }

    /// The segment's rules.
    pub(crate) fn rules(&self) -> &[Vec<Clause>] {
        &self.rules
    }
}

impl Clause {
    pub(crate) fn new(clause: &RuleClause) -> Self {
        let first = clause.values.first();
        let uses = |ops: &[Operator]| ops.contains(&clause.operator);
        Self {
            attribute: clause.attribute.clone(),
            operator: clause.operator,
            negate: clause.negate,
            texts: clause
                .values
                .iter()
                .map(|v| values::text(v).into_owned())
                .collect(),
            regexes: if uses(&[Operator::Matches, Operator::NotMatches]) {
                clause
                    .values
                    .iter()
                    .map(|v| Regex::new(&values::text(v)).ok())
                    .collect()
            } else {
                Vec::new()
            },
            threshold: first.and_then(values::number),
            version: first.and_then(|v| Version::parse(&values::text(v))),
            values: clause.values.clone(),
        }
    }

    /// The operator applied to `actual` (not the segment operators; not negated).
    pub(crate) fn applies(&self, actual: Option<Attr<'_>>) -> bool {
        let actual = match actual {
            Some(Attr::Json(Value::Null)) | None => {
                return match self.operator {
                    Operator::IsNot => self.values.iter().all(|v| !v.is_null()),
                    Operator::NotIn => !self.values.iter().any(Value::is_null),
                    _ => false,
                };
            }
            Some(actual) => actual,
        };
        let any_text = |test: &dyn Fn(&str, &str) -> bool| {
            let text = values::attr_text(actual);
            self.texts.iter().any(|v| test(&text, v))
        };
        let number =
            |compare: fn(f64, f64) -> bool| match (values::attr_number(actual), self.threshold) {
                (Some(a), Some(b)) => compare(a, b),
                _ => false,
            };
        let version = |wanted: std::cmp::Ordering| {
            let text = values::attr_text(actual);
            match (Version::parse(&text), &self.version) {
                (Some(a), Some(b)) => a.cmp(b) == wanted,
                _ => false,
            }
        };
        let first_text = || self.texts.first();
        match self.operator {
            Operator::Is | Operator::In => self.values.iter().any(|v| values::equals(actual, v)),
            Operator::IsNot | Operator::NotIn => {
                self.values.iter().all(|v| !values::equals(actual, v))
            }
            Operator::Contains => any_text(&|a, v| a.contains(v)),
            Operator::NotContains => !any_text(&|a, v| a.contains(v)),
            Operator::StartsWith => any_text(&|a, v| a.starts_with(v)),
            Operator::EndsWith => any_text(&|a, v| a.ends_with(v)),
            Operator::Matches | Operator::NotMatches => {
                let text = values::attr_text(actual);
                let found = self
                    .regexes
                    .iter()
                    .any(|re| re.as_ref().is_some_and(|re| re.is_match(&text)));
                found == (self.operator == Operator::Matches)
            }
            Operator::Gt => number(|a, b| a > b),
            Operator::Gte => number(|a, b| a >= b),
            Operator::Lt => number(|a, b| a < b),
            Operator::Lte => number(|a, b| a <= b),
            Operator::Before => first_text().is_some_and(|v| *values::attr_text(actual) < **v),
            Operator::After => first_text().is_some_and(|v| *values::attr_text(actual) > **v),
            Operator::SemverEq => version(std::cmp::Ordering::Equal),
            Operator::SemverLt => version(std::cmp::Ordering::Less),
            Operator::SemverGt => version(std::cmp::Ordering::Greater),
            // Decided by the evaluator, which knows the segments.
            Operator::InSegment | Operator::NotInSegment => false,
        }
    }

    /// The segment keys an `in_segment` / `not_in_segment` clause names.
    pub(crate) fn segment_keys(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(String::as_str)
    }

    /// The attribute this clause reads, from `ctx`.
    pub(crate) fn actual<'c>(&self, ctx: &'c EvaluationContext) -> Option<Attr<'c>> {
        ctx.attr(&self.attribute)
    }
}
