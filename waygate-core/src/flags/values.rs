//! How rules compare values, as the Python original's evaluator does: Python's `==`
//! (`1 == 1.0`, `True == 1`), `str()` forms for the text operators, `float()` for the
//! numeric ones.

use super::context::Attr;
use serde_json::{Number, Value};
use std::borrow::Cow;

/// Python's `actual == value` for an attribute and a clause value.
pub(crate) fn equals(actual: Attr<'_>, value: &Value) -> bool {
    match actual {
        Attr::Text(text) => value.as_str() == Some(text),
        Attr::Json(json) => json_eq(json, value),
    }
}

/// Python's `==` between two JSON values: numbers by value, `true` equal to `1`.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::Bool(x), Value::Number(y)) | (Value::Number(y), Value::Bool(x)) => {
            number_eq(&Number::from(u8::from(*x)), y)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn number_eq(x: &Number, y: &Number) -> bool {
    match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
        (Some(a), Some(b), _, _) => a == b,
        (_, _, Some(a), Some(b)) => a == b,
        _ => x.as_f64() == y.as_f64(),
    }
}

/// Python's `str()` of a value: `True`, `None`, `1.0`, `['a', 1]`, ...
pub(crate) fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        Value::Bool(true) => Cow::Borrowed("True"),
        Value::Bool(false) => Cow::Borrowed("False"),
        Value::Null => Cow::Borrowed("None"),
        Value::Number(n) => Cow::Owned(number_text(n)),
        Value::Array(_) | Value::Object(_) => Cow::Owned(repr(value)),
    }
}

/// The `str()` form of an attribute.
pub(crate) fn attr_text<'a>(actual: Attr<'a>) -> Cow<'a, str> {
    match actual {
        Attr::Text(text) => Cow::Borrowed(text),
        Attr::Json(json) => text(json),
    }
}

/// Python's `repr()` inside a list or dict: strings quoted.
fn repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{k}': {}", repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => text(other).into_owned(),
    }
}

/// A number as Python prints it: integers as they are, floats with a `.0` or in `1e+20`
/// form.
fn number_text(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    float_text(f)
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        // Python: shortest digits, exponent with a sign and at least two digits.
        let formatted = format!("{f:e}");
        let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(digits) => ('-', digits),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let shortest = format!("{f}");
    if shortest.contains('.') {
        shortest
    } else {
        format!("{shortest}.0")
    }
}

/// Python's `float()` of an attribute: numbers, `True`/`False`, and text that reads as one.
pub(crate) fn attr_number(actual: Attr<'_>) -> Option<f64> {
    match actual {
        Attr::Text(text) => text_number(text),
        Attr::Json(json) => number(json),
    }
}

/// Python's `float()` of a clause value.
pub(crate) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => text_number(s),
        _ => None,
    }
}

fn text_number(text: &str) -> Option<f64> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // Python takes `1_000`; Rust does not.
    if text.contains('_') {
        let digits = text.replace('_', "");
        return digits.parse().ok();
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_equality() {
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(json_eq(&json!(true), &json!(1)));
        assert!(!json_eq(&json!("1"), &json!(1)));
        assert!(json_eq(&json!([1, "a"]), &json!([1.0, "a"])));
        assert!(equals(Attr::Text("pro"), &json!("pro")));
        assert!(!equals(Attr::Text("1"), &json!(1)));
    }

    #[test]
    fn python_str() {
        for (value, shown) in [
            (json!(true), "True"),
            (json!(null), "None"),
            (json!(3), "3"),
            (json!(1.0), "1.0"),
            (json!(0.1), "0.1"),
            (json!(1e20), "1e+20"),
            (json!(1.5e-7), "1.5e-07"),
            (json!(["a", 1]), "['a', 1]"),
            (json!({"a": true}), "{'a': True}"),
        ] {
            assert_eq!(text(&value), shown, "{value}");
        }
    }

    #[test]
    fn python_float() {
        assert_eq!(number(&json!(" 2.5 ")), Some(2.5));
        assert_eq!(number(&json!("1_000")), Some(1000.0));
        assert_eq!(number(&json!(true)), Some(1.0));
        assert_eq!(number(&json!("two")), None);
        assert_eq!(number(&json!([1])), None);
        assert_eq!(attr_number(Attr::Text("inf")), Some(f64::INFINITY));
    }
}
