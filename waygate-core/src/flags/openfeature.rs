//! An [OpenFeature](https://openfeature.dev) provider over the engine's flags (feature
//! `openfeature`), for code written against the OpenFeature Rust SDK (`open-feature`):
//! evaluation is the engine's, in process, from its snapshot.
//!
//! ```
//! use open_feature::{EvaluationContext, OpenFeature};
//! use waygate_core::flags::openfeature::WaygateProvider;
//! use waygate_core::Engine;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let engine = Engine::new();
//! let mut api = OpenFeature::singleton_mut().await;
//! api.set_provider(WaygateProvider::new(engine.clone())).await;
//! let client = api.create_client();
//! drop(api);
//! let ctx = EvaluationContext::default().with_targeting_key("user-42");
//! let on = client.get_bool_value("new-checkout", Some(&ctx), None).await.unwrap_or(false);
//! assert!(!on); // no such flag yet: FLAG_NOT_FOUND, the caller's default
//! # }
//! ```
//!
//! Contexts: the targeting key is the key (`anonymous` without one); the custom fields
//! `kind`, `email`, `ip`, `country` and `app_version` fill the named fields, every other
//! field is an attribute (date-times as RFC 3339 text; structures are not read). Reasons are
//! [`FlagSet::open_feature_reason`](super::FlagSet::open_feature_reason)'s; the matched rule
//! and the failed prerequisite are in the flag metadata (`rule_id`, `prerequisite_key`).
//! Values are never coerced: a value of another type is `TYPE_MISMATCH`.

use super::{EvaluationContext, FlagSet};
use crate::Engine;
use async_trait::async_trait;
use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    EvaluationContext as OfContext, EvaluationContextFieldValue, EvaluationError,
    EvaluationErrorCode, EvaluationReason, EvaluationResult, FlagMetadata, StructValue, Value,
};
use serde_json::Value as Json;

/// The provider: the engine's flags, evaluated in process.
#[derive(Debug)]
pub struct WaygateProvider {
    engine: Engine,
    metadata: ProviderMetadata,
}

impl WaygateProvider {
    /// A provider over `engine`'s flags (`provider.name`: `waygate`).
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            metadata: ProviderMetadata::new("waygate"),
        }
    }

    fn resolve<T>(
        &self,
        key: &str,
        context: &OfContext,
        read: impl FnOnce(&Json) -> Option<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let ctx = context_of(context);
        let flags = self.engine.flags();
        let Some(resolution) = flags.evaluate(key, &ctx) else {
            return Err(error(
                match flags.is_pending() {
                    true => EvaluationErrorCode::ProviderNotReady,
                    false => EvaluationErrorCode::FlagNotFound,
                },
                format!("no flag {key}"),
            ));
        };
        let Some(value) = read(resolution.value) else {
            return Err(error(
                EvaluationErrorCode::TypeMismatch,
                format!("flag {key} serves {}", resolution.value),
            ));
        };
        let mut metadata = FlagMetadata::default();
        if let Some(rule) = resolution.rule_id {
            metadata.add_value("rule_id", rule);
        }
        if let Some(prerequisite) = resolution.prerequisite_key {
            metadata.add_value("prerequisite_key", prerequisite);
        }
        Ok(ResolutionDetails {
            value,
            variant: Some(resolution.variation.to_owned()),
            reason: Some(reason(&flags, key, &resolution)),
            flag_metadata: Some(metadata),
        })
    }
}

fn error(code: EvaluationErrorCode, message: String) -> EvaluationError {
    EvaluationError {
        code,
        message: Some(message),
    }
}

fn reason(flags: &FlagSet, key: &str, resolution: &super::Resolution<'_>) -> EvaluationReason {
    match flags.open_feature_reason(key, resolution) {
        "TARGETING_MATCH" => EvaluationReason::TargetingMatch,
        "SPLIT" => EvaluationReason::Split,
        "STATIC" => EvaluationReason::Static,
        "DISABLED" => EvaluationReason::Disabled,
        "ERROR" => EvaluationReason::Error,
        _ => EvaluationReason::Default,
    }
}

/// Our context from OpenFeature's.
fn context_of(context: &OfContext) -> EvaluationContext {
    let mut ctx = EvaluationContext::new(context.targeting_key.as_deref().unwrap_or("anonymous"));
    for (name, field) in &context.custom_fields {
        let text = |field: &EvaluationContextFieldValue| match field {
            EvaluationContextFieldValue::String(text) => Some(text.clone()),
            _ => None,
        };
        match name.as_str() {
            "kind" => ctx.kind = text(field).unwrap_or(ctx.kind),
            "email" => ctx.email = text(field),
            "ip" => ctx.ip = text(field),
            "country" => ctx.country = text(field),
            "app_version" => ctx.app_version = text(field),
            _ => {
                let value = match field {
                    EvaluationContextFieldValue::Bool(value) => Json::from(*value),
                    EvaluationContextFieldValue::Int(value) => Json::from(*value),
                    EvaluationContextFieldValue::Float(value) => Json::from(*value),
                    EvaluationContextFieldValue::String(value) => Json::from(value.as_str()),
                    EvaluationContextFieldValue::DateTime(at) => {
                        let seconds = at.unix_timestamp();
                        match chrono::DateTime::from_timestamp(seconds, at.nanosecond()) {
                            Some(at) => Json::from(at.to_rfc3339()),
                            None => continue,
                        }
                    }
                    EvaluationContextFieldValue::Struct(_) => continue,
                };
                ctx.attributes.insert(name.clone(), value);
            }
        }
    }
    ctx
}

/// An OpenFeature value from JSON (`null` is not one).
fn value_of(json: &Json) -> Option<Value> {
    Some(match json {
        Json::Bool(value) => Value::Bool(*value),
        Json::Number(number) => match number.as_i64() {
            Some(int) => Value::Int(int),
            None => Value::Float(number.as_f64()?),
        },
        Json::String(text) => Value::String(text.clone()),
        Json::Array(items) => Value::Array(items.iter().map(value_of).collect::<Option<_>>()?),
        Json::Object(_) => Value::Struct(struct_of(json)?),
        Json::Null => return None,
    })
}

fn struct_of(json: &Json) -> Option<StructValue> {
    let Json::Object(fields) = json else {
        return None;
    };
    let mut value = StructValue::default();
    for (name, field) in fields {
        value.add_field(name, value_of(field)?);
    }
    Some(value)
}

#[async_trait]
impl FeatureProvider for WaygateProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// Ready, unless the engine has not loaded its flags yet (a service before its first
    /// synchronisation with its server).
    fn status(&self) -> ProviderStatus {
        match self.engine.flags().is_pending() {
            true => ProviderStatus::NotReady,
            false => ProviderStatus::Ready,
        }
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        evaluation_context: &OfContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.resolve(flag_key, evaluation_context, Json::as_bool)
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        evaluation_context: &OfContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.resolve(flag_key, evaluation_context, Json::as_i64)
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        evaluation_context: &OfContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.resolve(flag_key, evaluation_context, Json::as_f64)
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        evaluation_context: &OfContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.resolve(flag_key, evaluation_context, |json| {
            json.as_str().map(str::to_owned)
        })
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        evaluation_context: &OfContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.resolve(flag_key, evaluation_context, struct_of)
    }
}
