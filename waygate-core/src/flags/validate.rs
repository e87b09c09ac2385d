//! What a flag or segment must be to be saved: its names resolve, its regexes compile, its
//! prerequisites form no cycle. The Python original checks some of it on PATCH only, and
//! none of the rest.

use super::model::{Fallthrough, FeatureFlag, Operator, RolloutVariation, RuleClause, Segment};
use super::set::FlagSet;
use crate::stored::is_unsafe_char;
use std::collections::HashSet;

/// The longest flag or segment key.
const MAX_KEY: usize = 256;

/// The most scheduled changes one flag may wait for.
pub const MAX_SCHEDULED_CHANGES: usize = 100;

/// Text an operator reads (a name, a description, a context key, an attribute) must hold no
/// control character: it is printed by the CLI and the dashboard, and written to logs.
fn check_text(field: &str, text: &str) -> Result<(), Invalid> {
    match text.chars().find(|c| is_unsafe_char(*c)) {
        Some(c) => invalid(format!(
            "{field} holds a control character (U+{:04X}); send printable text",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// Why a flag or segment cannot be saved: a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

/// Checks a key: not empty, at most 256 bytes, no `/`, no whitespace or control character
/// (it is a path segment of the API and a word of the CLI).
pub fn check_key(what: &str, key: &str) -> Result<(), Invalid> {
    if key.is_empty() {
        return invalid(format!("{what} key is required"));
    }
    if key.len() > MAX_KEY {
        return invalid(format!("{what} key is too long: at most {MAX_KEY} bytes"));
    }
    if key
        .chars()
        .any(|c| c == '/' || c.is_whitespace() || is_unsafe_char(c))
    {
        return invalid(format!(
            "{what} key {key:?} may not hold `/`, spaces or control characters"
        ));
    }
    Ok(())
}

/// Checks `flag` as it would be saved among `others` (the flags in force; a flag of the same
/// key among them is the one being replaced).
pub fn check_flag(flag: &FeatureFlag, others: &FlagSet) -> Result<(), Invalid> {
    check_key("flag", &flag.key)?;
    check_text("name", &flag.name)?;
    check_text("description", &flag.description)?;
    for tag in &flag.tags {
        check_text("tags", tag)?;
    }
    if let Some(maintainer) = &flag.maintainer {
        check_text("maintainer", maintainer)?;
    }
    for variation in &flag.variations {
        check_text("variations.name", &variation.name)?;
        check_text("variations.description", &variation.description)?;
    }
    for (_, keys) in &flag.targets {
        for key in keys {
            check_text("targets", key)?;
        }
    }
    for rule in &flag.rules {
        check_text("rules.id", &rule.id)?;
        check_text("rules.description", &rule.description)?;
    }
    if flag.scheduled_changes.len() > MAX_SCHEDULED_CHANGES {
        return invalid(format!(
            "scheduled_changes: {} changes, at most {MAX_SCHEDULED_CHANGES} a flag",
            flag.scheduled_changes.len()
        ));
    }
    if flag.variations.is_empty() {
        return invalid("variations: a flag needs at least one variation");
    }
    let mut names = HashSet::new();
    for variation in &flag.variations {
        if !names.insert(variation.name.as_str()) {
            return invalid(format!(
                "variations: the name '{}' is used twice",
                variation.name
            ));
        }
    }
    let named = |field: &str, name: &str| {
        if names.contains(name) {
            Ok(())
        } else {
            invalid(format!(
                "{field} '{name}' does not match any variation name"
            ))
        }
    };
    named("off_variation", &flag.off_variation)?;
    match &flag.fallthrough {
        Fallthrough::Variation(name) => named("fallthrough", name)?,
        Fallthrough::Rollout(shares) => check_rollout("fallthrough", shares, &named)?,
    }
    for (variation, _) in &flag.targets {
        named("targets", variation)?;
    }
    for rule in &flag.rules {
        if let Some(variation) = &rule.variation {
            named("rules.variation", variation)?;
        }
        if let Some(shares) = &rule.rollout {
            check_rollout("rules.rollout", shares, &named)?;
        }
        check_clauses(&rule.clauses)?;
    }
    check_prerequisites(flag, others)
}

fn check_rollout(
    field: &str,
    shares: &[RolloutVariation],
    named: &dyn Fn(&str, &str) -> Result<(), Invalid>,
) -> Result<(), Invalid> {
    if shares.is_empty() {
        return invalid(format!("{field}: a rollout needs at least one variation"));
    }
    for share in shares {
        named(field, &share.variation)?;
        if share.weight > super::bucket::BUCKETS {
            return invalid(format!(
                "{field}: weight {} is above 100000 (weights are out of 100000)",
                share.weight
            ));
        }
    }
    Ok(())
}

/// Attributes are printable; regexes of `matches` / `not_matches` clauses must compile.
fn check_clauses(clauses: &[RuleClause]) -> Result<(), Invalid> {
    for clause in clauses {
        check_text("clauses.attribute", &clause.attribute)?;
        if matches!(clause.operator, Operator::Matches | Operator::NotMatches) {
            for value in &clause.values {
                let pattern = super::values::text(value);
                if let Err(error) = regex_lite::Regex::new(&pattern) {
                    return invalid(format!(
                        "clause on '{}': the regex {pattern:?} does not compile: {error}",
                        clause.attribute
                    ));
                }
            }
        }
    }
    Ok(())
}

/// No prerequisite chain leads back to `flag`.
fn check_prerequisites(flag: &FeatureFlag, others: &FlagSet) -> Result<(), Invalid> {
    let prerequisites_of = |key: &str| -> Vec<String> {
        let source = if key == flag.key {
            Some(flag)
        } else {
            others.flag(key)
        };
        source
            .map(|f| f.prerequisites.iter().map(|p| p.flag_key.clone()).collect())
            .unwrap_or_default()
    };
    // Depth-first from the flag, with the path walked so far.
    let mut stack: Vec<(String, Vec<String>)> = vec![(flag.key.clone(), vec![flag.key.clone()])];
    let mut seen = HashSet::new();
    while let Some((key, path)) = stack.pop() {
        for next in prerequisites_of(&key) {
            if next == flag.key {
                let cycle = path
                    .iter()
                    .chain([&next])
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" → ");
                return invalid(format!("prerequisites: a cycle: {cycle}"));
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next, longer));
            }
        }
    }
    Ok(())
}

/// Checks `segment` as it would be saved.
pub fn check_segment(segment: &Segment) -> Result<(), Invalid> {
    check_key("segment", &segment.key)?;
    check_text("name", &segment.name)?;
    check_text("description", &segment.description)?;
    for key in segment.included.iter().chain(&segment.excluded) {
        check_text("included / excluded", key)?;
    }
    for rule in &segment.rules {
        check_text("rules.id", &rule.id)?;
        check_text("rules.description", &rule.description)?;
        check_clauses(&rule.clauses)?;
    }
    Ok(())
}
