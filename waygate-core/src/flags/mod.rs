//! Feature flags: the Python original's model and evaluation, wire-compatible, evaluated
//! in process from an immutable [`FlagSet`] (no lock, no I/O, nothing allocated for a
//! boolean flag).
//!
//! A [`FeatureFlag`] has variations, an off variation, a fallthrough (one variation or a
//! percentage rollout), prerequisites, individual targets and rules whose clauses use 21
//! [`Operator`]s, some naming [`Segment`]s. Evaluation follows the Python original step by
//! step — off, prerequisites, targets, rules, fallthrough — and buckets rollouts as it does
//! ([`bucket`]), so users keep their variation when a team moves from it. What it got wrong
//! is not copied: a value of another type is [`ErrorCode::TypeMismatch`] and the caller's
//! default, never a coerced value; saving refuses prerequisite cycles, regexes that do not
//! compile and variation names that resolve to nothing ([`check_flag`]).
//!
//! ```
//! use serde_json::json;
//! use waygate_core::flags::{EvaluationContext, FeatureFlag, FlagSet, Reason};
//!
//! let flag: FeatureFlag = serde_json::from_value(json!({
//!     "key": "new-checkout",
//!     "name": "New checkout",
//!     "type": "boolean",
//!     "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
//!     "off_variation": "off",
//!     "fallthrough": "off",
//!     "targets": {"on": ["beta-tester"]},
//!     "rules": [{"clauses": [{"attribute": "plan", "operator": "is", "values": ["pro"]}],
//!                "variation": "on"}]
//! }))?;
//! let flags = FlagSet::new([flag], []);
//!
//! let pro = EvaluationContext::new("user-1").attribute("plan", "pro");
//! assert!(flags.bool("new-checkout", &pro, false));
//! assert!(!flags.bool("new-checkout", &EvaluationContext::new("user-2"), false));
//! let why = flags.evaluate("new-checkout", &EvaluationContext::new("beta-tester")).unwrap();
//! assert_eq!(why.reason, Reason::TargetMatch);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Beyond the Python original:
//!
//! - **Declared in code** (the adapters' `#[flag]` attribute): typed handles ([`BoolFlag`],
//!   [`StringFlag`], [`IntFlag`], [`FloatFlag`], [`JsonFlag`]) registered at link time
//!   ([`declared_flags`]); the engine creates the ones its store lacks and refuses a key
//!   declared twice.
//! - **Telemetry** ([`FlagTelemetry`]): evaluations counted per flag, variation and reason on
//!   sharded counters, when each flag was last read, exposures for a callback, and a
//!   `tracing` event with OpenTelemetry's `feature_flag.*` fields. [`FlagSet::explain`] reads
//!   a flag without counting it.
//! - **Who uses what** ([`FlagUsage`], [`StaleReport`]): stale flags (stored, declared and read
//!   by no running code) and missing ones (declared, not stored).

mod bucket;
mod compiled;
mod context;
pub(crate) mod declared;
mod model;
#[cfg(feature = "openfeature")]
#[cfg_attr(docsrs, doc(cfg(feature = "openfeature")))]
pub mod openfeature;
mod set;
pub(crate) mod telemetry;
mod time;
mod typed;
mod usage;
mod validate;
mod values;
mod version;

pub use bucket::{bucket, BUCKETS};
pub use context::EvaluationContext;
pub use declared::{
    check_declarations, declared_flags, BoolFlag, DeclaredDefault, FlagDeclaration, FloatFlag,
    IntFlag, JsonFlag, RegisteredFlag, StringFlag,
};
pub use model::{
    Fallthrough, FeatureFlag, FlagStatus, FlagType, FlagVariation, Operator, Prerequisite,
    RolloutVariation, RuleClause, ScheduledChange, ScheduledChangeAction, Segment, SegmentRule,
    TargetingRule,
};
pub use set::{FlagSet, Reason, Resolution};
pub use telemetry::{EvaluationCount, Exposure, FlagTelemetry, COUNTED_REASONS};
pub use time::PyDateTime;
pub use typed::{Details, ErrorCode, FlagValue};
pub use usage::{FlagUsage, FlagUse, StaleReport, LOCAL_SERVICE, STALE_AFTER};
pub use validate::{check_flag, check_key, check_segment, Invalid, MAX_SCHEDULED_CHANGES};
