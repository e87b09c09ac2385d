//! The flag benches' flag and routes: `new-checkout` declared in code, a plain route and a
//! route behind the flag, paths of one length (the router does the same work for both, so
//! the difference between them is the gate's).

use serde_json::json;
use waygate::flags::{BoolFlag, FeatureFlag};
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
pub(crate) static NEW_CHECKOUT: BoolFlag;

#[route(GET, "/checkout/v1")]
pub(crate) async fn checkout() -> &'static str {
    "v1"
}

#[route(GET, "/checkout/v2")]
#[feature_flag(NEW_CHECKOUT)]
pub(crate) async fn checkout_v2() -> &'static str {
    "v2"
}

/// `new-checkout` with two targets of `on` (`targets`), two rules and a 20 % rollout.
pub(crate) fn flag(targets: &[&str]) -> FeatureFlag {
    serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "targets": {"on": targets},
        "rules": [
            {"clauses": [{"attribute": "plan", "operator": "is", "values": ["enterprise"]}], "variation": "on"},
            {"clauses": [{"attribute": "email", "operator": "ends_with", "values": ["@example.com"]}], "variation": "off"}
        ],
        "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}]
    }))
    .expect("a valid flag")
}
