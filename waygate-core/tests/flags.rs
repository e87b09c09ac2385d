//! Feature flags evaluated as the Python original evaluates them (its `evaluator.py`, step by
//! step), bucketed as it buckets, and what it got wrong refused or reported.

use serde_json::{json, Value};
use waygate_core::flags::{
    bucket, check_flag, check_segment, ErrorCode, EvaluationContext, FeatureFlag, FlagSet,
    Operator, Reason, Segment,
};

fn flag(value: Value) -> FeatureFlag {
    serde_json::from_value(value).expect("a valid flag")
}

/// A boolean flag `key` serving `off` unless the extra fields say otherwise.
fn boolean(key: &str, extra: Value) -> FeatureFlag {
    let mut base = json!({
        "key": key,
        "name": key,
        "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off",
        "fallthrough": "off",
    });
    for (field, value) in extra.as_object().unwrap() {
        base[field] = value.clone();
    }
    flag(base)
}

fn ctx(key: &str) -> EvaluationContext {
    EvaluationContext::new(key)
}

#[test]
fn bucketing_is_the_python_originals() {
    // `int(hashlib.sha1(seed.encode()).hexdigest(), 16) % 100000`, computed by Python.
    for (flag, kind, key, want) in [
        ("new-checkout", "user", "user-1", 18_788),
        ("new-checkout", "user", "user-42", 63_837),
        ("ui-theme", "user", "alice", 64_035),
        ("x", "organization", "acme", 72_970),
        ("f", "user", "", 23_077),
    ] {
        assert_eq!(bucket(flag, kind, key), want, "{flag}:{kind}:{key}");
    }
    // 10,000 keys against the formula computed here, from the hex digest digit by digit.
    for n in 0..10_000 {
        let key = format!("user-{n}");
        assert_eq!(
            u64::from(bucket("rollout-flag", "user", &key)),
            formula("rollout-flag", "user", &key),
            "{key}"
        );
    }
    // Seeds of every length around one SHA-1 block (55 bytes fit one; 56 and more take two),
    // and far longer ones.
    for len in (0..=130).chain([500, 4096]) {
        let key = "k".repeat(len);
        assert_eq!(
            u64::from(bucket("f", "user", &key)),
            formula("f", "user", &key),
            "a key of {len} bytes"
        );
    }
}

/// `int(hashlib.sha1(seed).hexdigest(), 16) % 100000`, hex digit by hex digit.
fn formula(flag: &str, kind: &str, key: &str) -> u64 {
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(format!("{flag}:{kind}:{key}").as_bytes());
    digest
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0xf])
        .fold(0u64, |r, d| (r * 16 + u64::from(d)) % 100_000)
}

#[test]
fn a_rollout_serves_shares_of_users() {
    let flags = FlagSet::new(
        [boolean(
            "rollout",
            json!({"fallthrough": [{"variation": "on", "weight": 20_000}, {"variation": "off", "weight": 80_000}]}),
        )],
        [],
    );
    let on = (0..10_000)
        .filter(|n| flags.bool("rollout", &ctx(&format!("user-{n}")), false))
        .count();
    assert!(
        (1_800..2_200).contains(&on),
        "{on} of 10,000 in a 20% rollout"
    );
    // The same context, the same answer; the kind is part of the bucket.
    let user = ctx("user-7");
    let first = flags.evaluate("rollout", &user).unwrap();
    assert_eq!(first.reason, Reason::Fallthrough);
    assert_eq!(
        flags.evaluate("rollout", &user).unwrap().variation,
        first.variation
    );
    // Weights below 100,000: the last share takes the rest.
    let short = FlagSet::new(
        [boolean(
            "short",
            json!({"fallthrough": [{"variation": "on", "weight": 0}, {"variation": "off", "weight": 1}]}),
        )],
        [],
    );
    let served: Vec<&str> = (0..50)
        .map(|n| {
            short
                .evaluate("short", &ctx(&format!("k{n}")))
                .unwrap()
                .variation
        })
        .collect();
    assert!(served.iter().all(|v| *v == "off"), "{served:?}");
}

#[test]
fn the_order_off_prerequisites_targets_rules_fallthrough() {
    let flags = FlagSet::new(
        [
            boolean("parent", json!({"fallthrough": "on", "targets": {"off": ["blocked"]}})),
            // From text: a JSON object's order is kept (the `json!` macro sorts keys).
            serde_json::from_str(
                r#"{"key": "child", "name": "child", "type": "boolean",
                    "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
                    "off_variation": "off", "fallthrough": "on",
                    "prerequisites": [{"flag_key": "parent", "variation": "on"}],
                    "targets": {"on": ["vip"], "off": ["vip", "nope"]},
                    "rules": [
                        {"id": "r-pro", "clauses": [{"attribute": "plan", "operator": "is", "values": ["pro"]}], "variation": "on"},
                        {"id": "r-all", "clauses": [], "variation": "off"}
                    ]}"#,
            )
            .unwrap(),
            boolean("orphan", json!({"prerequisites": [{"flag_key": "missing", "variation": "on"}], "fallthrough": "on"})),
            boolean("off-flag", json!({"enabled": false, "fallthrough": "on"})),
        ],
        [],
    );
    let off = flags.evaluate("off-flag", &ctx("a")).unwrap();
    assert_eq!((off.variation, off.reason), ("off", Reason::Off));
    let failed = flags.evaluate("child", &ctx("blocked")).unwrap();
    assert_eq!(
        (failed.variation, failed.reason),
        ("off", Reason::PrerequisiteFail)
    );
    assert_eq!(failed.prerequisite_key, Some("parent"));
    let missing = flags.evaluate("orphan", &ctx("a")).unwrap();
    assert_eq!(
        (missing.reason, missing.prerequisite_key),
        (Reason::PrerequisiteFail, Some("missing"))
    );
    // Targets in order: `vip` is listed for `on` first.
    let vip = flags.evaluate("child", &ctx("vip")).unwrap();
    assert_eq!(
        (vip.variation, vip.reason, vip.value),
        ("on", Reason::TargetMatch, &json!(true))
    );
    let pro = flags
        .evaluate("child", &ctx("x").attribute("plan", "pro"))
        .unwrap();
    assert_eq!(
        (pro.variation, pro.reason, pro.rule_id),
        ("on", Reason::RuleMatch, Some("r-pro"))
    );
    // An empty clause list matches everyone.
    let rest = flags.evaluate("child", &ctx("x")).unwrap();
    assert_eq!((rest.variation, rest.rule_id), ("off", Some("r-all")));
    assert!(flags.evaluate("nothing", &ctx("x")).is_none());
}

/// Whether a one-clause rule matches `actual` (as the attribute `a`, or absent for `None`).
fn clause_matches(operator: &str, values: Value, actual: Option<Value>, negate: bool) -> bool {
    let flags = FlagSet::new(
        [boolean(
            "f",
            json!({"rules": [{"clauses": [{"attribute": "a", "operator": operator, "values": values, "negate": negate}], "variation": "on"}]}),
        )],
        [],
    );
    let mut context = ctx("someone");
    if let Some(actual) = actual {
        context = context.attribute("a", actual);
    }
    flags.bool("f", &context, false)
}

#[test]
fn every_operator_as_the_python_original_applies_it() {
    let yes =
        |op: &str, values: Value, actual: Value| clause_matches(op, values, Some(actual), false);
    assert!(yes("is", json!(["a", "b"]), json!("b")));
    assert!(yes("is", json!([1]), json!(1.0)), "Python: 1 == 1.0");
    assert!(yes("is", json!([1]), json!(true)), "Python: True == 1");
    assert!(!yes("is", json!(["1"]), json!(1)));
    assert!(yes("is_not", json!(["a", "b"]), json!("c")));
    assert!(!yes("is_not", json!(["a", "b"]), json!("a")));
    assert!(yes("contains", json!(["@corp"]), json!("ada@corp.com")));
    assert!(yes("contains", json!(["2"]), json!(123)), "on str() forms");
    assert!(yes("not_contains", json!(["x", "y"]), json!("abc")));
    assert!(!yes("not_contains", json!(["x", "b"]), json!("abc")));
    assert!(yes("starts_with", json!(["ad"]), json!("ada")));
    assert!(yes("ends_with", json!([".com"]), json!("ada@corp.com")));
    assert!(yes("matches", json!(["^ada@"]), json!("ada@corp.com")));
    assert!(
        yes("matches", json!(["corp"]), json!("ada@corp.com")),
        "a search, not a full match"
    );
    assert!(yes("not_matches", json!(["^bob"]), json!("ada")));
    assert!(yes("gt", json!([10]), json!(11)));
    assert!(yes("gt", json!(["10"]), json!("10.5")), "float() of text");
    assert!(!yes("gt", json!([10]), json!("many")));
    assert!(
        yes("gte", json!([10, 1000]), json!(10)),
        "the first value only"
    );
    assert!(yes("lt", json!([10]), json!(9.5)));
    assert!(yes("lte", json!([10]), json!(true)), "float(True) = 1.0");
    assert!(yes("before", json!(["2026-06-01"]), json!("2026-05-31")));
    assert!(yes("after", json!(["2026-06-01"]), json!("2026-06-02")));
    assert!(yes("in", json!(["de", "fr"]), json!("fr")));
    assert!(yes("not_in", json!(["de", "fr"]), json!("it")));
    assert!(yes("semver_eq", json!(["1.2"]), json!("1.2.0")));
    assert!(yes("semver_lt", json!(["1.10.0"]), json!("1.9.3")));
    assert!(yes("semver_gt", json!(["2.0.0"]), json!("2.0.1")));
    assert!(
        yes("semver_lt", json!(["2.0"]), json!("2.0rc1")),
        "PEP 440 pre-releases"
    );
    assert!(!yes("semver_gt", json!(["1.0"]), json!("not a version")));
    // Negation inverts.
    assert!(!clause_matches("is", json!(["a"]), Some(json!("a")), true));
    // A missing attribute: only is_not and not_in can match.
    for operator in Operator::ALL {
        let op = operator.as_str();
        if op.contains("segment") {
            continue;
        }
        let expected = matches!(op, "is_not" | "not_in");
        assert_eq!(
            clause_matches(op, json!(["x"]), None, false),
            expected,
            "{op} on a missing attribute"
        );
    }
    assert!(!clause_matches("is_not", json!([null]), None, false));
    assert!(!clause_matches("not_in", json!(["x", null]), None, false));
    // `null` is missing too.
    assert!(!clause_matches(
        "is",
        json!([null]),
        Some(Value::Null),
        false
    ));
}

#[test]
fn named_fields_and_attributes() {
    let flags = FlagSet::new(
        [boolean(
            "f",
            json!({"rules": [{"clauses": [
                {"attribute": "email", "operator": "ends_with", "values": ["@corp.com"]},
                {"attribute": "kind", "operator": "is", "values": ["user"]},
                {"attribute": "country", "operator": "in", "values": ["DE"]}
            ], "variation": "on"}]}),
        )],
        [],
    );
    let named = ctx("a").email("ada@corp.com").country("DE");
    assert!(flags.bool("f", &named, false));
    // Attributes win over the named fields.
    assert!(!flags.bool("f", &named.clone().attribute("country", "FR"), false));
    assert!(!flags.bool("f", &named.kind("device"), false));
}

#[test]
fn segments_included_excluded_and_rules() {
    let segment: Segment = serde_json::from_value(json!({
        "key": "beta",
        "name": "Beta",
        "included": ["ada", "bob"],
        "excluded": ["bob"],
        "rules": [{"clauses": [{"attribute": "plan", "operator": "is", "values": ["pro"]}]}]
    }))
    .unwrap();
    let staff: Segment = serde_json::from_value(json!({
        "key": "staff", "name": "Staff", "included": ["carol"],
        "rules": [{"clauses": [{"attribute": "manager", "operator": "in_segment", "values": ["beta"]}]}]
    }))
    .unwrap();
    let flags = FlagSet::new(
        [
            boolean(
                "in",
                json!({"rules": [{"clauses": [{"attribute": "ignored", "operator": "in_segment", "values": ["beta"]}], "variation": "on"}]}),
            ),
            boolean(
                "out",
                json!({"rules": [{"clauses": [{"attribute": "key", "operator": "not_in_segment", "values": ["beta", "nowhere"]}], "variation": "on"}]}),
            ),
            boolean(
                "staff",
                json!({"rules": [{"clauses": [{"attribute": "key", "operator": "in_segment", "values": ["staff"]}], "variation": "on"}]}),
            ),
        ],
        [segment, staff],
    );
    assert!(flags.bool("in", &ctx("ada"), false), "included");
    assert!(!flags.bool("in", &ctx("bob"), false), "excluded wins");
    assert!(
        flags.bool("in", &ctx("zed").attribute("plan", "pro"), false),
        "by rule"
    );
    assert!(!flags.bool("in", &ctx("zed"), false));
    assert!(flags.bool("out", &ctx("zed"), false));
    assert!(!flags.bool("out", &ctx("ada"), false));
    // Inside a segment's rule, a segment operator reads the clause's attribute and the other
    // segment's lists only.
    assert!(flags.bool("staff", &ctx("dan").attribute("manager", "ada"), false));
    assert!(!flags.bool(
        "staff",
        &ctx("dan")
            .attribute("manager", "zed")
            .attribute("plan", "pro"),
        false
    ));
}

#[test]
fn typed_reads_never_coerce() {
    let flags = FlagSet::new(
        [
            flag(json!({"key": "word", "name": "w", "type": "string",
                "variations": [{"name": "a", "value": "off"}], "off_variation": "a", "fallthrough": "a"})),
            flag(json!({"key": "ratio", "name": "r", "type": "float",
                "variations": [{"name": "a", "value": 2.9}], "off_variation": "a", "fallthrough": "a"})),
            flag(json!({"key": "count", "name": "c", "type": "integer",
                "variations": [{"name": "a", "value": 3}], "off_variation": "a", "fallthrough": "a"})),
            flag(json!({"key": "config", "name": "j", "type": "json",
                "variations": [{"name": "a", "value": {"x": 1}}], "off_variation": "a", "fallthrough": "a"})),
        ],
        [],
    );
    let c = ctx("u");
    assert!(
        flags.bool("word", &c, true),
        "\"off\" is not a boolean: the default"
    );
    assert_eq!(flags.int("ratio", &c, 7), 7, "2.9 is not an integer");
    assert_eq!(flags.float("ratio", &c, 0.0), 2.9);
    assert_eq!(flags.float("count", &c, 0.0), 3.0);
    assert_eq!(flags.int("count", &c, 0), 3);
    assert_eq!(flags.string("word", &c, "d"), "off");
    assert_eq!(flags.json("config", &c, json!(null)), json!({"x": 1}));
    let mismatch = flags.details("word", &c, false);
    assert_eq!(
        (mismatch.value, mismatch.error, mismatch.reason),
        (false, Some(ErrorCode::TypeMismatch), Reason::Default)
    );
    let missing = flags.details("nope", &c, 5i64);
    assert_eq!(
        (missing.value, missing.error),
        (5, Some(ErrorCode::FlagNotFound))
    );
    let fine = flags.details("count", &c, 0i64);
    assert_eq!(
        (fine.value, fine.variation.as_deref(), fine.reason),
        (3, Some("a"), Reason::Fallthrough)
    );
}

#[test]
fn saving_refuses_what_would_break() {
    let none = FlagSet::default();
    assert!(check_flag(&boolean("ok", json!({})), &none).is_ok());
    let error = |f: FeatureFlag, set: &FlagSet| check_flag(&f, set).unwrap_err().to_string();
    assert!(error(boolean("f", json!({"off_variation": "nope"})), &none)
        .contains("off_variation 'nope'"));
    assert!(error(
        boolean(
            "f",
            json!({"fallthrough": [{"variation": "maybe", "weight": 100000}]})
        ),
        &none
    )
    .contains("'maybe'"));
    assert!(error(boolean("f", json!({"rules": [{"clauses": [{"attribute": "e", "operator": "matches", "values": ["(unclosed"]}], "variation": "on"}]})), &none).contains("does not compile"));
    assert!(error(boolean("a/b", json!({})), &none).contains("may not hold"));
    assert!(error(boolean("f", json!({"variations": [{"name": "on", "value": true}, {"name": "on", "value": false}], "off_variation": "on", "fallthrough": "on"})), &none).contains("used twice"));
    // Cycles, direct and through others.
    assert!(error(
        boolean(
            "self",
            json!({"prerequisites": [{"flag_key": "self", "variation": "on"}]})
        ),
        &none
    )
    .contains("cycle"));
    let chain = FlagSet::new(
        [
            boolean(
                "a",
                json!({"prerequisites": [{"flag_key": "b", "variation": "on"}]}),
            ),
            boolean(
                "b",
                json!({"prerequisites": [{"flag_key": "c", "variation": "on"}]}),
            ),
        ],
        [],
    );
    let closing = error(
        boolean(
            "c",
            json!({"prerequisites": [{"flag_key": "a", "variation": "on"}]}),
        ),
        &chain,
    );
    assert!(closing.contains("c → a → b → c"), "{closing}");
    assert!(check_flag(&boolean("c", json!({})), &chain).is_ok());
    let segment: Segment = serde_json::from_value(json!({"key": "s", "name": "S",
        "rules": [{"clauses": [{"attribute": "e", "operator": "not_matches", "values": ["[z-a]"]}]}]})).unwrap();
    assert!(check_segment(&segment).is_err());
}

#[test]
fn the_python_originals_json_round_trips() {
    // As the Python original's `model_dump(mode="json")` writes a flag.
    let python = json!({
        "key": "ui-theme", "name": "UI theme", "description": "", "type": "string", "tags": [],
        "variations": [{"name": "light", "value": "light", "description": ""},
                       {"name": "dark", "value": "dark", "description": ""}],
        "off_variation": "light",
        "fallthrough": [{"variation": "light", "weight": 50000}, {"variation": "dark", "weight": 50000}],
        "enabled": true, "prerequisites": [],
        "targets": {"dark": ["alice"], "light": ["bob"]},
        "rules": [{"id": "r1", "description": "", "clauses": [{"attribute": "country", "operator": "in", "values": ["DE"], "negate": false}],
                   "variation": "dark", "rollout": null, "track_events": false}],
        "scheduled_changes": [], "status": "active", "temporary": true, "maintainer": null,
        "created_at": "2026-12-06T23:30:00.123456", "updated_at": "2026-12-06T23:30:00", "created_by": "system"
    });
    let parsed = flag(python.clone());
    assert_eq!(serde_json::to_value(&parsed).unwrap(), python);
    assert_eq!(parsed.targets[0].0, "dark", "targets keep their order");
}
