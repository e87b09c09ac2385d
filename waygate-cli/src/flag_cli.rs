//! The `flags` and `segments` command lines: the Python CLI's 16 and 8 subcommands, with
//! its names, short options and defaults.

use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use waygate_core::flags::{FlagType, Operator};

/// The flag types, for `--type`.
fn flag_types() -> PossibleValuesParser {
    PossibleValuesParser::new(FlagType::ALL.map(FlagType::as_str))
}

/// The clause operators, for `--operator`.
fn operators() -> PossibleValuesParser {
    PossibleValuesParser::new(Operator::ALL.map(Operator::as_str))
}

/// `waygate flags ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum FlagCommand {
    /// List the feature flags.
    #[command(
        after_help = "Examples:\n  waygate flags list\n  waygate flags list --type boolean --status disabled"
    )]
    List {
        /// Only flags of this type.
        #[arg(short = 't', long = "type", value_parser = flag_types())]
        flag_type: Option<String>,
        /// Only enabled or only disabled flags.
        #[arg(short, long, value_parser = ["enabled", "disabled"])]
        status: Option<String>,
    },
    /// Show one flag.
    #[command(after_help = "Example:\n  waygate flags get new-checkout")]
    Get(FlagKey),
    /// Stale flags (stored, declared by no running service: candidates for removal),
    /// missing ones (declared by running code, deleted), and when each service last
    /// evaluated each flag.
    #[command(after_help = "Examples:\n  waygate flags stale\n  waygate flags stale --json")]
    Stale,
    /// Create a flag, enabled, with two variations (boolean: on/off, fallthrough off).
    #[command(after_help = "Examples:
  waygate flags create new-checkout --name \"New checkout\"
  waygate flags create ui-theme --name \"UI theme\" --type string")]
    Create {
        /// Its key, as code reads it.
        key: String,
        /// Its display name.
        #[arg(short, long)]
        name: String,
        /// Its type.
        #[arg(short = 't', long = "type", default_value = "boolean", value_parser = flag_types())]
        flag_type: String,
        /// What it is for.
        #[arg(short, long, default_value = "")]
        description: String,
    },
    /// Turn a flag on.
    #[command(after_help = "Example:\n  waygate flags enable new-checkout")]
    Enable(FlagKey),
    /// Turn a flag off: everyone gets its off variation.
    #[command(after_help = "Example:\n  waygate flags disable new-checkout")]
    Disable(FlagKey),
    /// Delete a flag.
    #[command(after_help = "Example:\n  waygate flags delete new-checkout --yes")]
    Delete {
        /// The flag's key.
        key: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        yes: bool,
    },
    /// Evaluate a flag for a context, on the server (a debugger).
    #[command(after_help = "Example:
  waygate flags eval new-checkout --key user_123 --attr plan=pro --attr seats=12

Attribute values that read as numbers or true/false are sent as JSON numbers and booleans
(the Python CLI sends strings, so a rule comparing a number never matched).")]
    Eval {
        /// The flag's key.
        key: String,
        /// The context key (a user id).
        #[arg(short = 'k', long = "key", default_value = "anonymous")]
        context_key: String,
        /// The context kind.
        #[arg(long, default_value = "user")]
        kind: String,
        /// An attribute, `name=value` (repeatable).
        #[arg(short, long = "attr")]
        attr: Vec<String>,
    },
    /// Change a flag's name, description, off variation or fallthrough.
    #[command(after_help = "Example:\n  waygate flags edit new-checkout --fallthrough on")]
    Edit {
        /// The flag's key.
        key: String,
        /// A new display name.
        #[arg(short, long)]
        name: Option<String>,
        /// A new description.
        #[arg(short, long)]
        description: Option<String>,
        /// The variation served while the flag is off.
        #[arg(long)]
        off_variation: Option<String>,
        /// The variation served when no target or rule matches.
        #[arg(long)]
        fallthrough: Option<String>,
    },
    /// List a flag's variations.
    #[command(after_help = "Example:\n  waygate flags variations ui-theme")]
    Variations(FlagKey),
    /// Show a flag's targeting: rules (with their ids), targets, prerequisites.
    #[command(after_help = "Example:\n  waygate flags targeting new-checkout")]
    Targeting(FlagKey),
    /// Add a targeting rule: a segment, or one attribute clause.
    #[command(after_help = "Examples:
  waygate flags add-rule new-checkout --variation on --segment beta-users
  waygate flags add-rule new-checkout --variation on --attribute plan --operator in --values pro,enterprise")]
    AddRule {
        /// The flag's key.
        key: String,
        /// The variation the rule serves.
        #[arg(short, long)]
        variation: String,
        /// A segment (an `in_segment` clause).
        #[arg(
            short,
            long,
            conflicts_with = "attribute",
            required_unless_present = "attribute"
        )]
        segment: Option<String>,
        /// The attribute of a clause.
        #[arg(short, long)]
        attribute: Option<String>,
        /// The clause's operator.
        #[arg(short, long, default_value = "is", value_parser = operators())]
        operator: String,
        /// The clause's values, comma-separated.
        #[arg(long)]
        values: Option<String>,
        /// What the rule is for.
        #[arg(short, long, default_value = "")]
        description: String,
        /// Invert the clause.
        #[arg(long)]
        negate: bool,
    },
    /// Remove a targeting rule (ids: `waygate flags targeting KEY`).
    #[command(after_help = "Example:\n  waygate flags remove-rule new-checkout --rule-id 3f2a...")]
    RemoveRule(RuleId),
    /// Add a prerequisite: another flag that must serve a variation first.
    #[command(
        after_help = "Example:\n  waygate flags add-prereq new-checkout --flag payments-v2 --variation on"
    )]
    AddPrereq {
        /// The flag's key.
        key: String,
        /// The prerequisite flag.
        #[arg(short, long)]
        flag: String,
        /// The variation it must serve.
        #[arg(short, long)]
        variation: String,
    },
    /// Remove a prerequisite.
    #[command(
        after_help = "Example:\n  waygate flags remove-prereq new-checkout --flag payments-v2"
    )]
    RemovePrereq {
        /// The flag's key.
        key: String,
        /// The prerequisite flag.
        #[arg(short, long)]
        flag: String,
    },
    /// Serve a variation to context keys, whatever the rules say.
    #[command(
        after_help = "Example:\n  waygate flags target new-checkout --variation on --keys alice,bob"
    )]
    Target(Targets),
    /// Stop serving a variation to context keys.
    #[command(
        after_help = "Example:\n  waygate flags untarget new-checkout --variation on --keys bob"
    )]
    Untarget(Targets),
}

/// A flag's key.
#[derive(Debug, Args)]
pub(crate) struct FlagKey {
    /// The flag's key.
    pub(crate) key: String,
}

/// A rule of a flag or segment.
#[derive(Debug, Args)]
pub(crate) struct RuleId {
    /// The flag's or segment's key.
    pub(crate) key: String,
    /// The rule's id.
    #[arg(short, long = "rule-id")]
    pub(crate) rule_id: String,
}

/// Individual targets of a variation.
#[derive(Debug, Args)]
pub(crate) struct Targets {
    /// The flag's key.
    pub(crate) key: String,
    /// The variation.
    #[arg(short, long)]
    pub(crate) variation: String,
    /// Context keys, comma-separated.
    #[arg(short = 'k', long = "keys")]
    pub(crate) context_keys: String,
}

/// `waygate segments ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SegmentCommand {
    /// List the segments.
    #[command(after_help = "Example:\n  waygate segments list")]
    List,
    /// Show one segment, its members and its rules (with their ids).
    #[command(after_help = "Example:\n  waygate segments get beta-users")]
    Get {
        /// The segment's key.
        key: String,
    },
    /// Create an empty segment.
    #[command(after_help = "Example:\n  waygate segments create beta-users --name \"Beta users\"")]
    Create {
        /// Its key, as rules name it.
        key: String,
        /// Its display name.
        #[arg(short, long)]
        name: String,
        /// What it is for.
        #[arg(short, long, default_value = "")]
        description: String,
    },
    /// Delete a segment.
    #[command(after_help = "Example:\n  waygate segments delete beta-users --yes")]
    Delete {
        /// The segment's key.
        key: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        yes: bool,
    },
    /// Add context keys to a segment (and take them off its excluded list).
    #[command(
        after_help = "Example:\n  waygate segments include beta-users --context-key alice,bob"
    )]
    Include(Members),
    /// Keep context keys out of a segment (and take them off its included list).
    #[command(
        after_help = "Example:\n  waygate segments exclude beta-users --context-key mallory"
    )]
    Exclude(Members),
    /// Add a rule: contexts matching its clause are in the segment.
    #[command(
        disable_version_flag = true,
        after_help = "Example:\n  waygate segments add-rule beta-users --attribute plan --operator in --values pro,enterprise"
    )]
    AddRule {
        /// The segment's key.
        key: String,
        /// The clause's attribute.
        #[arg(short, long)]
        attribute: String,
        /// The clause's operator.
        #[arg(short, long, default_value = "is", value_parser = operators())]
        operator: String,
        /// The clause's values, comma-separated.
        #[arg(short = 'V', long)]
        values: String,
        /// What the rule is for.
        #[arg(short, long, default_value = "")]
        description: String,
        /// Invert the clause.
        #[arg(long)]
        negate: bool,
    },
    /// Remove a rule (ids: `waygate segments get KEY`).
    #[command(
        after_help = "Example:\n  waygate segments remove-rule beta-users --rule-id 3f2a..."
    )]
    RemoveRule(RuleId),
}

/// Context keys of a segment.
#[derive(Debug, Args)]
pub(crate) struct Members {
    /// The segment's key.
    pub(crate) key: String,
    /// Context keys, comma-separated.
    #[arg(short = 'k', long = "context-key")]
    pub(crate) context_key: String,
}
