//! The OpenFeature provider, through the OpenFeature Rust SDK's own client (as code written
//! against OpenFeature calls it): the five flag types, targeting key and custom fields, the
//! reasons OFREP and OpenFeature name, metadata, and the errors (no coercion).

use open_feature::{EvaluationContext, EvaluationErrorCode, EvaluationReason, OpenFeature};
use serde_json::json;
use waygate_core::flags::openfeature::WaygateProvider;
use waygate_core::flags::FeatureFlag;
use waygate_core::Engine;

fn flag(value: serde_json::Value) -> FeatureFlag {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn the_sdk_client_reads_every_type_with_the_reasons_openfeature_names() {
    let engine = Engine::new();
    engine.start().await.unwrap();
    for f in [
        flag(
            json!({"key": "new-checkout", "name": "c", "type": "boolean",
            "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
            "off_variation": "off",
            "fallthrough": [{"variation": "on", "weight": 20000}, {"variation": "off", "weight": 80000}],
            "targets": {"on": ["beta-tester"]},
            "rules": [{"id": "pro", "variation": "on", "clauses": [{"attribute": "plan", "operator": "is", "values": ["pro"]}]}]}),
        ),
        flag(json!({"key": "ui-theme", "name": "t", "type": "string",
            "variations": [{"name": "light", "value": "light"}, {"name": "dark", "value": "dark"}],
            "off_variation": "light", "fallthrough": "dark"})),
        flag(
            json!({"key": "search-page-size", "name": "s", "type": "integer",
            "variations": [{"name": "small", "value": 10}, {"name": "large", "value": 50}],
            "off_variation": "small", "fallthrough": "large"}),
        ),
        flag(json!({"key": "discount-rate", "name": "d", "type": "float",
            "variations": [{"name": "none", "value": 0.0}, {"name": "sale", "value": 0.15}],
            "off_variation": "none", "fallthrough": "sale", "enabled": false})),
        flag(json!({"key": "feature-config", "name": "f", "type": "json",
            "variations": [{"name": "v2", "value": {"layout": "grid", "columns": 3}}, {"name": "v1", "value": {}}],
            "off_variation": "v1", "fallthrough": "v2"})),
    ] {
        engine.save_flag(f, "ops").await.unwrap();
    }
    let mut api = OpenFeature::singleton_mut().await;
    api.set_provider(WaygateProvider::new(engine.clone())).await;
    let client = api.create_client();
    drop(api);

    let pro = EvaluationContext::default()
        .with_targeting_key("user-1")
        .with_custom_field("plan", "pro");
    let details = client
        .get_bool_details("new-checkout", Some(&pro), None)
        .await
        .unwrap();
    assert_eq!(
        (details.value, details.variant.as_deref()),
        (true, Some("on"))
    );
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    assert!(details.flag_metadata.values.contains_key("rule_id"));
    let tester = EvaluationContext::default().with_targeting_key("beta-tester");
    let details = client
        .get_bool_details("new-checkout", Some(&tester), None)
        .await
        .unwrap();
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    // Everyone else is bucketed: SPLIT, with the share the rollout gives.
    let mut on = 0;
    for n in 0..1000 {
        let ctx = EvaluationContext::default().with_targeting_key(format!("user-{n}"));
        let details = client
            .get_bool_details("new-checkout", Some(&ctx), None)
            .await
            .unwrap();
        assert_eq!(details.reason, Some(EvaluationReason::Split));
        on += usize::from(details.value);
    }
    assert!((150..250).contains(&on), "20 % rollout: {on} of 1000");

    let theme = client
        .get_string_details("ui-theme", None, None)
        .await
        .unwrap();
    assert_eq!(
        (theme.value.as_str(), theme.reason),
        ("dark", Some(EvaluationReason::Static))
    );
    assert_eq!(
        client
            .get_int_value("search-page-size", None, None)
            .await
            .unwrap(),
        50
    );
    let discount = client
        .get_float_details("discount-rate", None, None)
        .await
        .unwrap();
    assert_eq!(
        (discount.value, discount.reason),
        (0.0, Some(EvaluationReason::Disabled))
    );
    let config = client
        .get_struct_details::<open_feature::StructValue>("feature-config", None, None)
        .await
        .unwrap();
    assert_eq!(
        config.value.fields["layout"],
        open_feature::Value::String("grid".into())
    );
    assert_eq!(config.value.fields["columns"], open_feature::Value::Int(3));

    // Errors: the caller's default, never a coerced value.
    let mismatch = client
        .get_bool_value("ui-theme", None, None)
        .await
        .unwrap_err();
    assert_eq!(mismatch.code, EvaluationErrorCode::TypeMismatch);
    let int_as_float = client
        .get_int_value("discount-rate", None, None)
        .await
        .unwrap_err();
    assert_eq!(int_as_float.code, EvaluationErrorCode::TypeMismatch);
    let missing = client.get_bool_value("nope", None, None).await.unwrap_err();
    assert_eq!(missing.code, EvaluationErrorCode::FlagNotFound);
}
