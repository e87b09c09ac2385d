//! What the flag and segment pages show: flags and segments turned into plain text for the
//! templates (askama escapes every value).

use super::context::Ctx;
use crate::flags::{
    Fallthrough, FeatureFlag, FlagSet, FlagUse, RuleClause, Segment, StaleReport, TargetingRule,
};
use crate::wire::path_segment;
use askama::Template;
use serde_json::Value;

/// A JSON value as an operator reads it: strings bare, the rest as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn fallthrough_text(fallthrough: &Fallthrough) -> String {
    match fallthrough {
        Fallthrough::Variation(name) => name.clone(),
        Fallthrough::Rollout(split) => split
            .iter()
            .map(|part| format!("{} {}%", part.variation, f64::from(part.weight) / 1000.0))
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// One row of the flags table.
#[derive(Debug)]
pub(super) struct FlagRow {
    pub(super) key: String,
    pub(super) href: String,
    pub(super) slug: String,
    pub(super) name: String,
    pub(super) flag_type: &'static str,
    pub(super) enabled: bool,
    pub(super) variations: String,
    pub(super) fallthrough: String,
    /// The running services that declare it (`#[flag]`), comma-separated.
    pub(super) declared_by: String,
    /// Stored, declared by no running code.
    pub(super) stale: bool,
    /// The latest evaluation any service reported: `HH:MM:SS UTC by service`, or empty.
    pub(super) last_evaluated: String,
}

impl FlagRow {
    pub(super) fn new(
        flag: &FeatureFlag,
        usage: Option<&FlagUse>,
        report_stale: &[String],
    ) -> Self {
        let latest = usage
            .and_then(|u| u.last_evaluated.iter().max_by_key(|(_, at)| **at))
            .map(|(service, at)| format!("{} by {service}", at.format("%Y-%m-%d %H:%M:%S UTC")))
            .unwrap_or_default();
        Self {
            declared_by: usage.map(|u| u.declared_by.join(", ")).unwrap_or_default(),
            stale: usage.is_none_or(|u| report_stale.contains(&u.key)),
            last_evaluated: latest,
            href: format!("flags/{}", path_segment(&flag.key)),
            slug: path_segment(&flag.key).replace('%', "_"),
            key: flag.key.clone(),
            name: flag.name.clone(),
            flag_type: flag.flag_type.as_str(),
            enabled: flag.enabled,
            variations: flag
                .variations
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            fallthrough: fallthrough_text(&flag.fallthrough),
        }
    }
}

/// The list filters: search text, type and status.
#[derive(Debug, Default)]
pub(super) struct FlagFilter {
    pub(super) q: String,
    pub(super) flag_type: String,
    pub(super) status: String,
}

impl FlagFilter {
    fn admits(&self, flag: &FeatureFlag) -> bool {
        let q = self.q.trim().to_lowercase();
        (q.is_empty()
            || flag.key.to_lowercase().contains(&q)
            || flag.name.to_lowercase().contains(&q)
            || flag.description.to_lowercase().contains(&q))
            && (self.flag_type.is_empty() || flag.flag_type.as_str() == self.flag_type)
            && match self.status.as_str() {
                "enabled" => flag.enabled,
                "disabled" => !flag.enabled,
                _ => true,
            }
    }

    /// The flags of `set` this filter admits, by key.
    pub(super) fn rows(&self, set: &FlagSet, usage: &StaleReport) -> Vec<FlagRow> {
        let mut flags: Vec<&FeatureFlag> = set.flags().filter(|f| self.admits(f)).collect();
        flags.sort_by(|a, b| a.key.cmp(&b.key));
        flags
            .into_iter()
            .map(|flag| {
                let used = usage.flags.iter().find(|u| u.key == flag.key);
                FlagRow::new(flag, used, &usage.stale)
            })
            .collect()
    }
}

/// `GET flags`.
#[derive(Template)]
#[template(path = "flags.html")]
pub(super) struct FlagsPage {
    pub(super) ctx: Ctx,
    pub(super) filter: FlagFilter,
    pub(super) rows: Vec<FlagRow>,
    pub(super) total: usize,
    pub(super) enabled: usize,
    pub(super) error: String,
    pub(super) missing: Vec<MissingFlag>,
}

/// A flag running code declares that the store does not hold.
#[derive(Debug)]
pub(super) struct MissingFlag {
    pub(super) key: String,
    pub(super) declared_by: String,
}

impl MissingFlag {
    /// The missing flags of a report.
    pub(super) fn of(report: &StaleReport) -> Vec<Self> {
        report
            .flags
            .iter()
            .filter(|f| report.missing.contains(&f.key))
            .map(|f| Self {
                key: f.key.clone(),
                declared_by: f.declared_by.join(", "),
            })
            .collect()
    }
}

/// The flags table body: what the filters and the create form answer.
#[derive(Template)]
#[template(path = "flag_rows.html")]
pub(super) struct FlagRowsFragment {
    pub(super) rows: Vec<FlagRow>,
    pub(super) error: String,
    pub(super) missing: Vec<MissingFlag>,
}

/// A variation, its value as JSON text.
#[derive(Debug)]
pub(super) struct VariationView {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) description: String,
}

/// A rule: its clauses as text, and what it serves.
#[derive(Debug)]
pub(super) struct RuleView {
    pub(super) id: String,
    pub(super) href_id: String,
    pub(super) description: String,
    pub(super) clauses: Vec<String>,
    pub(super) serves: String,
}

impl RuleView {
    fn of_flag(rule: &TargetingRule) -> Self {
        let serves = match (&rule.variation, &rule.rollout) {
            (Some(name), _) => name.clone(),
            (None, Some(split)) => fallthrough_text(&Fallthrough::Rollout(split.clone())),
            (None, None) => "—".to_owned(),
        };
        Self::new(&rule.id, &rule.description, &rule.clauses, serves)
    }

    pub(super) fn new(id: &str, description: &str, clauses: &[RuleClause], serves: String) -> Self {
        Self {
            id: id.to_owned(),
            href_id: path_segment(id),
            description: description.to_owned(),
            clauses: clauses.iter().map(clause_text).collect(),
            serves,
        }
    }
}

/// `NOT attribute operator a, b`.
fn clause_text(clause: &RuleClause) -> String {
    let values: Vec<String> = clause.values.iter().map(plain).collect();
    format!(
        "{}{} {} {}",
        if clause.negate { "NOT " } else { "" },
        clause.attribute,
        clause.operator.as_str(),
        values.join(", ")
    )
}

/// The flag page's body: settings, variations, rules, prerequisites, targets, debugger.
#[derive(Template)]
#[template(path = "flag_body.html")]
pub(super) struct FlagBody {
    pub(super) key: String,
    pub(super) href: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) flag_type: &'static str,
    pub(super) enabled: bool,
    pub(super) off_variation: String,
    /// The fixed fallthrough variation; empty for a rollout.
    pub(super) fallthrough: String,
    pub(super) fallthrough_text: String,
    pub(super) variations: Vec<VariationView>,
    pub(super) rules: Vec<RuleView>,
    pub(super) prerequisites: Vec<(String, String)>,
    /// Each variation with its targeted keys, comma-separated.
    pub(super) targets: Vec<(String, String)>,
    pub(super) scheduled: Vec<String>,
    pub(super) other_flags: Vec<String>,
    pub(super) segments: Vec<String>,
    pub(super) updated_at: String,
    pub(super) notice: String,
    pub(super) error: String,
}

impl FlagBody {
    pub(super) fn new(flag: &FeatureFlag, set: &FlagSet) -> Self {
        let mut other_flags: Vec<String> = set
            .flags()
            .filter(|f| f.key != flag.key)
            .map(|f| f.key.clone())
            .collect();
        other_flags.sort();
        let mut segments: Vec<String> = set.segments().map(|s| s.key.clone()).collect();
        segments.sort();
        Self {
            key: flag.key.clone(),
            href: format!("flags/{}", path_segment(&flag.key)),
            name: flag.name.clone(),
            description: flag.description.clone(),
            flag_type: flag.flag_type.as_str(),
            enabled: flag.enabled,
            off_variation: flag.off_variation.clone(),
            fallthrough: match &flag.fallthrough {
                Fallthrough::Variation(name) => name.clone(),
                Fallthrough::Rollout(_) => String::new(),
            },
            fallthrough_text: fallthrough_text(&flag.fallthrough),
            variations: flag
                .variations
                .iter()
                .map(|v| VariationView {
                    name: v.name.clone(),
                    value: v.value.to_string(),
                    description: v.description.clone(),
                })
                .collect(),
            rules: flag.rules.iter().map(RuleView::of_flag).collect(),
            prerequisites: flag
                .prerequisites
                .iter()
                .map(|p| (p.flag_key.clone(), p.variation.clone()))
                .collect(),
            targets: flag
                .variations
                .iter()
                .map(|v| {
                    let keys = flag
                        .targets
                        .iter()
                        .find(|(name, _)| *name == v.name)
                        .map(|(_, keys)| keys.join(", "))
                        .unwrap_or_default();
                    (v.name.clone(), keys)
                })
                .collect(),
            scheduled: flag
                .scheduled_changes
                .iter()
                .map(|c| {
                    format!(
                        "{} · {:?} (by {})",
                        c.execute_at.0.format("%Y-%m-%d %H:%M UTC"),
                        c.action,
                        c.created_by
                    )
                })
                .collect(),
            other_flags,
            segments,
            updated_at: flag
                .updated_at
                .0
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
            notice: String::new(),
            error: String::new(),
        }
    }
}

/// `GET flags/{key}`.
#[derive(Template)]
#[template(path = "flag.html")]
pub(super) struct FlagPage {
    pub(super) ctx: Ctx,
    pub(super) body: FlagBody,
}

/// What the debugger answers.
#[derive(Template)]
#[template(path = "flag_eval.html")]
pub(super) struct EvalFragment {
    pub(super) value: String,
    pub(super) variation: String,
    pub(super) reason: String,
    pub(super) detail: String,
    pub(super) error: String,
}

/// One row of the segments table.
#[derive(Debug)]
pub(super) struct SegmentRow {
    pub(super) key: String,
    pub(super) href: String,
    pub(super) name: String,
    pub(super) included: usize,
    pub(super) excluded: usize,
    pub(super) rules: usize,
}

impl SegmentRow {
    pub(super) fn new(segment: &Segment) -> Self {
        Self {
            key: segment.key.clone(),
            href: format!("segments/{}", path_segment(&segment.key)),
            name: segment.name.clone(),
            included: segment.included.len(),
            excluded: segment.excluded.len(),
            rules: segment.rules.len(),
        }
    }
}

/// Every segment, by key.
pub(super) fn segment_rows(set: &FlagSet) -> Vec<SegmentRow> {
    let mut segments: Vec<&Segment> = set.segments().collect();
    segments.sort_by(|a, b| a.key.cmp(&b.key));
    segments.into_iter().map(SegmentRow::new).collect()
}

/// `GET segments`.
#[derive(Template)]
#[template(path = "segments.html")]
pub(super) struct SegmentsPage {
    pub(super) ctx: Ctx,
    pub(super) rows: Vec<SegmentRow>,
    pub(super) error: String,
}

/// The segments table: what the create form answers.
#[derive(Template)]
#[template(path = "segment_rows.html")]
pub(super) struct SegmentRowsFragment {
    pub(super) rows: Vec<SegmentRow>,
    pub(super) error: String,
}

/// The segment page's body.
#[derive(Template)]
#[template(path = "segment_body.html")]
pub(super) struct SegmentBody {
    pub(super) key: String,
    pub(super) href: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) included: String,
    pub(super) excluded: String,
    pub(super) rules: Vec<RuleView>,
    /// Flags whose rules name this segment.
    pub(super) used_by: Vec<String>,
    pub(super) notice: String,
    pub(super) error: String,
}

impl SegmentBody {
    pub(super) fn new(segment: &Segment, set: &FlagSet) -> Self {
        let mut used_by: Vec<String> = set
            .flags()
            .filter(|flag| {
                flag.rules.iter().flat_map(|r| &r.clauses).any(|c| {
                    matches!(c.operator.as_str(), "in_segment" | "not_in_segment")
                        && c.values.iter().any(|v| v.as_str() == Some(&segment.key))
                })
            })
            .map(|flag| flag.key.clone())
            .collect();
        used_by.sort();
        Self {
            key: segment.key.clone(),
            href: format!("segments/{}", path_segment(&segment.key)),
            name: segment.name.clone(),
            description: segment.description.clone(),
            included: segment.included.join(", "),
            excluded: segment.excluded.join(", "),
            rules: segment
                .rules
                .iter()
                .map(|r| RuleView::new(&r.id, &r.description, &r.clauses, String::new()))
                .collect(),
            used_by,
            notice: String::new(),
            error: String::new(),
        }
    }
}

/// `GET segments/{key}`.
#[derive(Template)]
#[template(path = "segment.html")]
pub(super) struct SegmentPage {
    pub(super) ctx: Ctx,
    pub(super) body: SegmentBody,
}

/// A flag or segment that does not exist.
#[derive(Template)]
#[template(path = "missing.html")]
pub(super) struct MissingPage<'a> {
    pub(super) ctx: Ctx,
    pub(super) message: &'a str,
    pub(super) back: &'static str,
    pub(super) label: &'a str,
}
