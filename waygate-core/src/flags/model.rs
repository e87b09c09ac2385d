//! Flags and segments as the Python original stores and sends them (its pydantic models'
//! JSON, field for field), so that its CLI, dashboard clients and SDK read ours.

use super::time::PyDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The type of a flag's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagType {
    /// `true` / `false`.
    Boolean,
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A number.
    Float,
    /// Any JSON object or array.
    Json,
}

impl FlagType {
    /// Every type.
    pub const ALL: [Self; 5] = [
        Self::Boolean,
        Self::String,
        Self::Integer,
        Self::Float,
        Self::Json,
    ];

    /// The wire name (`boolean`, `string`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Json => "json",
        }
    }

    /// Whether `value` is a value of this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            Self::Boolean => value.is_boolean(),
            Self::String => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Float => value.is_number(),
            Self::Json => value.is_object() || value.is_array(),
        }
    }
}

/// One value a flag can serve, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagVariation {
    /// The name rules, targets and the fallthrough refer to.
    pub name: String,
    /// The value served.
    pub value: Value,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// A share of a percentage rollout: `weight` out of 100,000 (25% = 25,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutVariation {
    /// The variation served to this share.
    pub variation: String,
    /// Out of 100,000.
    pub weight: u32,
}

/// What is served when no target and no rule matches: one variation, or a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fallthrough {
    /// One variation, by name.
    Variation(String),
    /// A percentage rollout, bucketed by context.
    Rollout(Vec<RolloutVariation>),
}

/// How a clause compares a context attribute with its values: the Python original's 21
/// operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Operator {
    Is,
    IsNot,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Matches,
    NotMatches,
    Gt,
    Gte,
    Lt,
    Lte,
    Before,
    After,
    In,
    NotIn,
    InSegment,
    NotInSegment,
    SemverEq,
    SemverLt,
    SemverGt,
}

impl Operator {
    /// Every operator, in the Python original's order.
    pub const ALL: [Self; 21] = [
        Self::Is,
        Self::IsNot,
        Self::Contains,
        Self::NotContains,
        Self::StartsWith,
        Self::EndsWith,
        Self::Matches,
        Self::NotMatches,
        Self::Gt,
        Self::Gte,
        Self::Lt,
        Self::Lte,
        Self::Before,
        Self::After,
        Self::In,
        Self::NotIn,
        Self::InSegment,
        Self::NotInSegment,
        Self::SemverEq,
        Self::SemverLt,
        Self::SemverGt,
    ];

    /// The wire name (`is`, `not_in_segment`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Is => "is",
            Self::IsNot => "is_not",
            Self::Contains => "contains",
            Self::NotContains => "not_contains",
            Self::StartsWith => "starts_with",
            Self::EndsWith => "ends_with",
            Self::Matches => "matches",
            Self::NotMatches => "not_matches",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Before => "before",
            Self::After => "after",
            Self::In => "in",
            Self::NotIn => "not_in",
            Self::InSegment => "in_segment",
            Self::NotInSegment => "not_in_segment",
            Self::SemverEq => "semver_eq",
            Self::SemverLt => "semver_lt",
            Self::SemverGt => "semver_gt",
        }
    }
}

/// One condition of a rule: `attribute` compared with `values` by `operator`, inverted when
/// `negate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleClause {
    /// The context attribute (`key`, `kind`, `email`, `country`, or any custom one).
    pub attribute: String,
    /// The comparison.
    pub operator: Operator,
    /// What to compare with (any of them, for most operators).
    pub values: Vec<Value>,
    /// Inverts the result.
    #[serde(default)]
    pub negate: bool,
}

/// A targeting rule: when every clause matches, serve `variation`, or bucket `rollout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetingRule {
    /// A UUID, drawn when absent.
    #[serde(default = "new_id")]
    pub id: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// All must match (none: the rule matches every context).
    #[serde(default)]
    pub clauses: Vec<RuleClause>,
    /// The variation served.
    #[serde(default)]
    pub variation: Option<String>,
    /// Or a rollout.
    #[serde(default)]
    pub rollout: Option<Vec<RolloutVariation>>,
    /// Stored for the Python original (which never reads it).
    #[serde(default)]
    pub track_events: bool,
}

/// Another flag that must serve `variation` before this flag's targeting runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prerequisite {
    /// The other flag.
    pub flag_key: String,
    /// The variation it must serve.
    pub variation: String,
}

/// A rule of a segment: a context matching every clause is in the segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRule {
    /// A UUID, drawn when absent.
    #[serde(default = "new_id")]
    pub id: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// All must match.
    #[serde(default)]
    pub clauses: Vec<RuleClause>,
}

/// A named group of contexts, shared by flags: listed keys, excluded keys, and rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Its key (what `in_segment` clauses name).
    pub key: String,
    /// Its display name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Context keys always in.
    #[serde(default)]
    pub included: Vec<String>,
    /// Context keys always out (wins over `included`).
    #[serde(default)]
    pub excluded: Vec<String>,
    /// A context matching any rule is in.
    #[serde(default)]
    pub rules: Vec<SegmentRule>,
    /// Labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// When it was created (UTC).
    #[serde(default = "PyDateTime::now")]
    pub created_at: PyDateTime,
    /// When it was last changed (UTC).
    #[serde(default = "PyDateTime::now")]
    pub updated_at: PyDateTime,
}

/// What a scheduled change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledChangeAction {
    /// Turns the flag on.
    Enable,
    /// Turns the flag off.
    Disable,
    /// Replaces the fallthrough (payload `variation` or `rollout`).
    UpdateRollout,
    /// Appends a rule (payload: a `TargetingRule`).
    AddRule,
    /// Removes a rule (payload `rule_id`).
    DeleteRule,
}

/// A change to apply to a flag at `execute_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledChange {
    /// A UUID, drawn when absent.
    #[serde(default = "new_id")]
    pub id: String,
    /// When (UTC).
    pub execute_at: PyDateTime,
    /// What.
    pub action: ScheduledChangeAction,
    /// Its argument.
    #[serde(default)]
    pub payload: serde_json::Map<String, Value>,
    /// Who scheduled it.
    #[serde(default = "system")]
    pub created_by: String,
    /// When it was scheduled.
    #[serde(default = "PyDateTime::now")]
    pub created_at: PyDateTime,
}

/// A flag's lifecycle label (stored, shown; not computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum FlagStatus {
    New,
    Active,
    Launched,
    Inactive,
    Deprecated,
    Archived,
}

/// A feature flag: its variations, and who gets which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureFlag {
    /// Its key, as code reads it.
    pub key: String,
    /// Its display name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The type of its values.
    #[serde(rename = "type")]
    pub flag_type: FlagType,
    /// Labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The values it can serve.
    pub variations: Vec<FlagVariation>,
    /// Served when the flag is off (or a prerequisite fails).
    pub off_variation: String,
    /// Served when no target or rule matches.
    pub fallthrough: Fallthrough,
    /// The kill switch.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Flags that must serve given variations first.
    #[serde(default)]
    pub prerequisites: Vec<Prerequisite>,
    /// Variation → context keys that always get it, in order.
    #[serde(default, with = "ordered_targets")]
    pub targets: Vec<(String, Vec<String>)>,
    /// Rules, first match wins.
    #[serde(default)]
    pub rules: Vec<TargetingRule>,
    /// Changes to apply later.
    #[serde(default)]
    pub scheduled_changes: Vec<ScheduledChange>,
    /// Lifecycle label.
    #[serde(default = "active")]
    pub status: FlagStatus,
    /// Whether it is meant to be removed once launched.
    #[serde(default = "yes")]
    pub temporary: bool,
    /// Who looks after it.
    #[serde(default)]
    pub maintainer: Option<String>,
    /// When it was created (UTC).
    #[serde(default = "PyDateTime::now")]
    pub created_at: PyDateTime,
    /// When it was last changed (UTC).
    #[serde(default = "PyDateTime::now")]
    pub updated_at: PyDateTime,
    /// Who created it.
    #[serde(default = "system")]
    pub created_by: String,
}

impl FeatureFlag {
    /// The value of the variation `name`, if there is one.
    pub fn variation_value(&self, name: &str) -> Option<&Value> {
        self.variations
            .iter()
            .find(|v| v.name == name)
            .map(|v| &v.value)
    }

    /// Whether a variation is called `name`.
    pub fn has_variation(&self, name: &str) -> bool {
        self.variations.iter().any(|v| v.name == name)
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn system() -> String {
    "system".to_owned()
}

fn yes() -> bool {
    true
}

fn active() -> FlagStatus {
    FlagStatus::Active
}

/// `targets` is a JSON object whose order matters (the first variation listing a key wins,
/// as in the Python original's dict): kept as a list of pairs.
mod ordered_targets {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub(super) fn serialize<S: Serializer>(
        targets: &[(String, Vec<String>)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(targets.len()))?;
        for (variation, keys) in targets {
            map.serialize_entry(variation, keys)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, Vec<String>)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, Vec<String>)>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of variation names to lists of context keys")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs: Vec<(String, Vec<String>)> = Vec::new();
                while let Some((variation, keys)) = map.next_entry::<String, Vec<String>>()? {
                    // A repeated name keeps its first place and its last list, as a dict.
                    match pairs.iter_mut().find(|(name, _)| *name == variation) {
                        Some(pair) => pair.1 = keys,
                        None => pairs.push((variation, keys)),
                    }
                }
                Ok(pairs)
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}
