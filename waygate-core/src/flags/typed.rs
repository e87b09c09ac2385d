//! Typed evaluation: a flag's value as the type the caller asks for, or the caller's default
//! with the reason why (never a coerced value: `"off"` is not `true`, `2.9` is not `2`).

use super::context::EvaluationContext;
use super::set::{FlagSet, Reason};
use serde_json::Value;

/// Why the caller's default was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No flag has that key.
    FlagNotFound,
    /// The flag served a value of another type than the one asked for.
    TypeMismatch,
    /// The flags have not been loaded yet (a service that has not heard from its server).
    ProviderNotReady,
}

impl ErrorCode {
    /// The OpenFeature name (`FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `PROVIDER_NOT_READY`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FlagNotFound => "FLAG_NOT_FOUND",
            Self::TypeMismatch => "TYPE_MISMATCH",
            Self::ProviderNotReady => "PROVIDER_NOT_READY",
        }
    }
}

/// A value a flag can be read as.
pub trait FlagValue: Sized {
    /// The value, if `json` is one of this type.
    fn from_json(json: &Value) -> Option<Self>;
}

impl FlagValue for bool {
    fn from_json(json: &Value) -> Option<Self> {
        json.as_bool()
    }
}

impl FlagValue for String {
    fn from_json(json: &Value) -> Option<Self> {
        json.as_str().map(str::to_owned)
    }
}

impl FlagValue for i64 {
    fn from_json(json: &Value) -> Option<Self> {
        json.as_i64()
    }
}

impl FlagValue for f64 {
    fn from_json(json: &Value) -> Option<Self> {
        json.as_f64()
    }
}

impl FlagValue for Value {
    fn from_json(json: &Value) -> Option<Self> {
        Some(json.clone())
    }
}

/// A typed evaluation with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Details<T> {
    /// The flag's value, or the caller's default.
    pub value: T,
    /// The variation served (none when the default was).
    pub variation: Option<String>,
    /// Why.
    pub reason: Reason,
    /// Why the default was served, if it was.
    pub error: Option<ErrorCode>,
    /// The rule that matched.
    pub rule_id: Option<String>,
    /// The prerequisite that failed.
    pub prerequisite_key: Option<String>,
}

impl FlagSet {
    /// The boolean flag `key` for `ctx`, or `default` (unknown flag, or not a boolean).
    /// Allocates nothing.
    ///
    /// ```
    /// use waygate_core::flags::{EvaluationContext, FlagSet};
    ///
    /// let flags = FlagSet::default();
    /// assert!(!flags.bool("new-checkout", &EvaluationContext::new("user-1"), false));
    /// ```
    pub fn bool(&self, key: &str, ctx: &EvaluationContext, default: bool) -> bool {
        self.value_of(key, ctx)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    /// The string flag `key` for `ctx`, or `default`.
    pub fn string(&self, key: &str, ctx: &EvaluationContext, default: &str) -> String {
        self.value_of(key, ctx)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    }

    /// The integer flag `key` for `ctx`, or `default` (a float such as `2.9` is a type
    /// mismatch, not `2`).
    pub fn int(&self, key: &str, ctx: &EvaluationContext, default: i64) -> i64 {
        self.value_of(key, ctx)
            .and_then(Value::as_i64)
            .unwrap_or(default)
    }

    /// The number flag `key` for `ctx` (an integer reads as a float), or `default`.
    pub fn float(&self, key: &str, ctx: &EvaluationContext, default: f64) -> f64 {
        self.value_of(key, ctx)
            .and_then(Value::as_f64)
            .unwrap_or(default)
    }

    /// The JSON flag `key` for `ctx` (an object or an array), or `default`.
    pub fn json(&self, key: &str, ctx: &EvaluationContext, default: Value) -> Value {
        match self.value_of(key, ctx) {
            Some(value @ (Value::Object(_) | Value::Array(_))) => value.clone(),
            _ => default,
        }
    }

    /// The flag `key` for `ctx` as a `T`, with the variation and the reason; `default` with
    /// [`ErrorCode::FlagNotFound`], [`ErrorCode::TypeMismatch`] or (flags not loaded yet,
    /// reason [`Reason::Error`]) [`ErrorCode::ProviderNotReady`] when it cannot be.
    pub fn details<T: FlagValue>(
        &self,
        key: &str,
        ctx: &EvaluationContext,
        default: T,
    ) -> Details<T> {
        let fallback = |error| Details {
            value: default,
            variation: None,
            reason: match error {
                ErrorCode::ProviderNotReady => Reason::Error,
                _ => Reason::Default,
            },
            error: Some(error),
            rule_id: None,
            prerequisite_key: None,
        };
        let Some(resolution) = self.evaluate(key, ctx) else {
            return fallback(match self.is_pending() {
                true => ErrorCode::ProviderNotReady,
                false => ErrorCode::FlagNotFound,
            });
        };
        match T::from_json(resolution.value) {
            Some(value) => Details {
                value,
                variation: Some(resolution.variation.to_owned()),
                reason: resolution.reason,
                error: None,
                rule_id: resolution.rule_id.map(str::to_owned),
                prerequisite_key: resolution.prerequisite_key.map(str::to_owned),
            },
            None => fallback(ErrorCode::TypeMismatch),
        }
    }

    fn value_of(&self, key: &str, ctx: &EvaluationContext) -> Option<&Value> {
        self.evaluate(key, ctx).map(|resolution| resolution.value)
    }
}
