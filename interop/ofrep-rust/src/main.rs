//! Evaluates flags through the Rust OpenFeature OFREP provider (`open-feature-ofrep`), for the
//! OFREP interop test (`examples/tests/ofrep_clients.rs`): the request on stdin, `{"base_url",
//! "token" | null, "cases": [{"flag", "type": "boolean" | "string" | "integer" | "float" |
//! "object", "default", "context": {"targetingKey", ..}}]}`; one JSON list on stdout, a
//! `{"value", "reason", "variant", "error_code"}` per case (the same as `scripts/python_ofrep.py`).

use open_feature::provider::FeatureProvider;
use open_feature::{EvaluationContext, EvaluationContextFieldValue, StructValue, Value as OfValue};
use open_feature_ofrep::{OfrepOptions, OfrepProvider};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};
use std::io::Read;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("a request on stdin");
    let request: Value = serde_json::from_str(&input).expect("JSON");
    let mut headers = HeaderMap::new();
    if let Some(token) = request["token"].as_str() {
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("a header");
        headers.insert(AUTHORIZATION, bearer);
    }
    let provider = OfrepProvider::new(OfrepOptions {
        base_url: request["base_url"].as_str().expect("base_url").to_owned(),
        headers,
        ..Default::default()
    })
    .await
    .expect("the provider");
    let mut answers = Vec::new();
    for case in request["cases"].as_array().expect("cases") {
        let ctx = context(&case["context"]);
        let flag = case["flag"].as_str().expect("flag");
        let answer = match case["type"].as_str().expect("type") {
            "boolean" => provider
                .resolve_bool_value(flag, &ctx)
                .await
                .map(|d| (json!(d.value), d.reason, d.variant)),
            "string" => provider
                .resolve_string_value(flag, &ctx)
                .await
                .map(|d| (json!(d.value), d.reason, d.variant)),
            "integer" => provider
                .resolve_int_value(flag, &ctx)
                .await
                .map(|d| (json!(d.value), d.reason, d.variant)),
            "float" => provider
                .resolve_float_value(flag, &ctx)
                .await
                .map(|d| (json!(d.value), d.reason, d.variant)),
            _ => provider
                .resolve_struct_value(flag, &ctx)
                .await
                .map(|d| (json_of_struct(&d.value), d.reason, d.variant)),
        };
        answers.push(match answer {
            Ok((value, reason, variant)) => json!({
                "value": value,
                "reason": reason.map(|r| r.to_string()),
                "variant": variant,
                "error_code": null,
            }),
            Err(error) => json!({
                "value": case["default"],
                "reason": "ERROR",
                "variant": null,
                "error_code": error.code.to_string(),
            }),
        });
    }
    println!("{}", Value::Array(answers));
}

/// OpenFeature's context from the flat JSON one.
fn context(fields: &Value) -> EvaluationContext {
    let mut ctx = EvaluationContext::default();
    for (name, value) in fields.as_object().into_iter().flatten() {
        match (name.as_str(), value) {
            ("targetingKey", Value::String(key)) => ctx = ctx.with_targeting_key(key.as_str()),
            (_, Value::String(text)) => {
                ctx = ctx.with_custom_field(
                    name.as_str(),
                    EvaluationContextFieldValue::String(text.clone()),
                );
            }
            (_, Value::Bool(flag)) => {
                ctx =
                    ctx.with_custom_field(name.as_str(), EvaluationContextFieldValue::Bool(*flag));
            }
            (_, Value::Number(n)) if n.is_i64() => {
                ctx = ctx.with_custom_field(
                    name.as_str(),
                    EvaluationContextFieldValue::Int(n.as_i64().unwrap_or_default()),
                );
            }
            (_, Value::Number(n)) => {
                ctx = ctx.with_custom_field(
                    name.as_str(),
                    EvaluationContextFieldValue::Float(n.as_f64().unwrap_or_default()),
                );
            }
            _ => {}
        }
    }
    ctx
}

/// JSON of an OpenFeature struct.
fn json_of_struct(value: &StructValue) -> Value {
    Value::Object(
        value
            .fields
            .iter()
            .map(|(name, field)| (name.clone(), json_of(field)))
            .collect(),
    )
}

fn json_of(value: &OfValue) -> Value {
    match value {
        OfValue::Bool(b) => json!(b),
        OfValue::Int(i) => json!(i),
        OfValue::Float(f) => json!(f),
        OfValue::String(s) => json!(s),
        OfValue::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        OfValue::Struct(fields) => json_of_struct(fields),
    }
}
