//! A boolean flag read with a borrowed context allocates nothing: a flag with two targets,
//! two rules and a percentage rollout, for a context that matches a target, one that
//! matches a rule and one that falls through to the rollout.

use serde_json::json;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use waygate_core::flags::{EvaluationContext, FeatureFlag, FlagSet};

// Counts every allocation of the process; this file holds a single test, so the counts are
// its own.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_boolean_flag_is_read_without_allocating() {
    let flag: FeatureFlag = serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "targets": {"on": ["ada", "grace"]},
        "rules": [
            {"clauses": [{"attribute": "plan", "operator": "is", "values": ["enterprise"]}], "variation": "on"},
            {"clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@example.com"]}], "variation": "off"}
        ],
        "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}]
    }))
    .unwrap();
    let flags = FlagSet::new([flag], []);
    let contexts = [
        EvaluationContext::new("grace"),
        EvaluationContext::new("u-1").attribute("plan", "enterprise"),
        EvaluationContext::new("u-2").email("bob@example.com"),
        EvaluationContext::new("u-3").attribute("plan", "free"),
    ];
    // Warm up (lazy statics, first-use paths).
    let expected: Vec<bool> = contexts
        .iter()
        .map(|c| flags.bool("new-checkout", c, false))
        .collect();
    let mut served = Vec::with_capacity(contexts.len() * 100);
    let region = Region::new(GLOBAL);
    for _ in 0..100 {
        for ctx in &contexts {
            served.push(flags.bool("new-checkout", ctx, false));
        }
    }
    let stats = region.change();
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(&served[..4], &expected[..]);
    assert_eq!(&expected[..3], &[true, true, false]);
}
