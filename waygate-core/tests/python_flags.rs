//! Our evaluator against the Python original's, on the same random flags, segments and
//! contexts (`scripts/python_flag_cases.py`, run by `scripts/test` with the pinned PyPI
//! `waygate`, which names the file in `WAYGATE_PYTHON_FLAG_CASES`): every variation, reason
//! and rule id equal, and 10,000 keys bucketed alike.

use serde_json::Value;
use waygate_core::flags::{EvaluationContext, FeatureFlag, FlagSet, Segment};

fn cases() -> Value {
    let path = std::env::var("WAYGATE_PYTHON_FLAG_CASES")
        .expect("WAYGATE_PYTHON_FLAG_CASES names the cases scripts/python_flag_cases.py wrote");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_evaluation_equals_the_python_originals() {
    let cases = cases();
    let flags: Vec<FeatureFlag> = serde_json::from_value(cases["flags"].clone()).unwrap();
    let keys: Vec<String> = flags.iter().map(|f| f.key.clone()).collect();
    let segments: Vec<Segment> = serde_json::from_value(cases["segments"].clone()).unwrap();
    let set = FlagSet::new(flags, segments);
    let contexts = cases["contexts"].as_array().unwrap();
    let results = cases["results"].as_array().unwrap();
    let mut compared = 0;
    for (context, row) in contexts.iter().zip(results) {
        let ctx: EvaluationContext = serde_json::from_value(context.clone()).unwrap();
        for (key, python) in keys.iter().zip(row.as_array().unwrap()) {
            let ours = set.evaluate(key, &ctx).unwrap();
            assert_eq!(
                (
                    Some(ours.variation),
                    Some(ours.reason.as_str()),
                    ours.rule_id
                ),
                (python[0].as_str(), python[1].as_str(), python[2].as_str()),
                "flag {key}, context {context}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 10_000, "{compared} evaluations compared");
}

#[test]
fn ten_thousand_keys_fall_in_the_python_originals_buckets() {
    let cases = cases();
    let bucketed: FeatureFlag = serde_json::from_value(cases["bucketed"].clone()).unwrap();
    let set = FlagSet::new([bucketed], []);
    let rollout = cases["rollout"].as_array().unwrap();
    assert_eq!(rollout.len(), 10_000);
    for entry in rollout {
        let (key, kind, python) = (
            entry[0].as_str().unwrap(),
            entry[1].as_str().unwrap(),
            entry[2].as_str().unwrap(),
        );
        let ctx = EvaluationContext::new(key).kind(kind);
        assert_eq!(
            set.evaluate("bucketed", &ctx).unwrap().variation,
            python,
            "{kind}:{key}"
        );
    }
}
