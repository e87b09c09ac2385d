//! JSON request bodies, read field by field so that a malformed request gets a `400` that
//! names the field, before anything is changed.

use super::error::ApiError;
use crate::stored::is_unsafe_char;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Map, Value};
use std::fmt::Display;
use std::str::FromStr;

/// A strong `ETag` for what `value` serialises to: 24 hex digits of its SHA-256, quoted.
pub(crate) fn etag_of<T: serde::Serialize>(value: &T) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&json);
    format!("\"{}\"", super::token::hex(&digest[..12]))
}

/// The longest text an admin field takes (a reason, an exempt path, an environment, a route
/// key, a service name, ...), in bytes: it is stored, copied into the audit log (which keeps
/// 1,000 entries) and shown on every page, so a slip cannot grow the state to gigabytes.
pub(crate) const MAX_TEXT: usize = 1024;
/// The most entries a list field takes (exempt paths, environments, exempt routes).
pub(crate) const MAX_ITEMS: usize = 100;

/// `value`, if it is at most [`MAX_TEXT`] bytes and holds no control character; else a
/// `400` naming `field`.
pub(crate) fn capped<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.len() > MAX_TEXT {
        return Err(ApiError::bad_request(format!(
            "{field} is too long: {} bytes, at most {MAX_TEXT}",
            value.len()
        )));
    }
    if let Some(c) = value.chars().find(|c| is_unsafe_char(*c)) {
        return Err(ApiError::bad_request(format!(
            "{field} holds a control character (U+{:04X}); send printable text",
            u32::from(c)
        )));
    }
    Ok(value)
}

/// `items`, if there are at most [`MAX_ITEMS`] and each is at most [`MAX_TEXT`] bytes.
pub(crate) fn capped_list<S: AsRef<str>>(field: &str, items: &[S]) -> Result<(), ApiError> {
    if items.len() > MAX_ITEMS {
        return Err(ApiError::bad_request(format!(
            "{field} has too many entries: {}, at most {MAX_ITEMS}",
            items.len()
        )));
    }
    for item in items {
        capped(&format!("each of {field}"), item.as_ref())?;
    }
    Ok(())
}

/// A JSON object body.
#[derive(Debug, Default)]
pub(crate) struct JsonObject(Map<String, Value>);

impl JsonObject {
    /// A body that must be a JSON object.
    pub(crate) fn required(bytes: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::bad_request("JSON body must be an object")),
            Err(_) => Err(ApiError::bad_request("Invalid JSON body")),
        }
    }

    /// A body that may be absent (empty): then every field is absent.
    pub(crate) fn optional(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        Self::required(bytes)
    }

    /// Every field, as sent.
    #[cfg(feature = "admin")]
    pub(crate) fn into_fields(self) -> Map<String, Value> {
        self.0
    }

    /// The field's value; `null` counts as absent.
    fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// The field's raw value (`null` counts as absent).
    pub(crate) fn value(&self, field: &str) -> Option<&Value> {
        self.get(field)
    }

    /// A string field, at most [`MAX_TEXT`] bytes.
    pub(crate) fn string(&self, field: &str) -> Result<Option<&str>, ApiError> {
        self.long_string(field)?
            .map(|value| capped(field, value))
            .transpose()
    }

    /// A string field of any length (credentials, which are checked, never stored).
    pub(crate) fn long_string(&self, field: &str) -> Result<Option<&str>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request(format!("{field} must be a string"))),
        }
    }

    /// A boolean field.
    pub(crate) fn bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad_request(format!(
                "{field} must be true or false"
            ))),
        }
    }

    /// A list-of-strings field: at most [`MAX_ITEMS`] entries of at most [`MAX_TEXT`]
    /// bytes.
    pub(crate) fn strings(&self, field: &str) -> Result<Option<Vec<String>>, ApiError> {
        let error = || ApiError::bad_request(format!("{field} must be a list of strings"));
        let items: Vec<String> = match self.get(field) {
            None => return Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or_else(error))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(error()),
        };
        capped_list(field, &items)?;
        Ok(Some(items))
    }

    /// A non-negative integer field that fits a `u32`.
    pub(crate) fn count(&self, field: &str) -> Result<Option<u32>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("{field} must be a non-negative integer"))
                }),
        }
    }

    /// A date-time field in ISO 8601, as Python's `datetime.fromisoformat` reads it (what
    /// the Python CLI sends); without an offset it is UTC. An empty string is absent.
    pub(crate) fn datetime(&self, field: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.string(field)? {
            None | Some("") => Ok(None),
            Some(text) => parse_iso(text).map(Some).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid datetime for {field}: {text:?}; use ISO 8601, e.g. \
                     2026-12-01T02:00:00Z or 2026-12-01T02:00:00+00:00"
                ))
            }),
        }
    }

    /// A string field parsed with [`FromStr`] (the wire names of an enum).
    pub(crate) fn parsed<T>(&self, field: &str) -> Result<Option<T>, ApiError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.string(field)?
            .map(|text| {
                text.parse()
                    .map_err(|e| ApiError::bad_request(format!("invalid {field}: {e}")))
            })
            .transpose()
    }
}

/// `YYYY-MM-DD[(T| )HH[:MM[:SS[.ffffff]]][Z|±HH[:MM]]]`: the forms of Python's
/// `datetime.fromisoformat`; no offset means UTC.
fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    if time.is_empty() {
        return Some(date.and_time(NaiveTime::MIN).and_utc());
    }
    let (time, offset) = split_offset(time)?;
    // chrono needs the minutes; Python takes a bare hour.
    let time = match time.contains(':') {
        true => time.to_owned(),
        false => format!("{time}:00"),
    };
    let time = ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(&time, format).ok())?;
    let local = NaiveDateTime::new(date, time);
    Some(local.and_local_timezone(offset).single()?.to_utc())
}

/// Splits `12:00:00+02:00` into the time and its offset (UTC when there is none).
fn split_offset(time: &str) -> Option<(&str, FixedOffset)> {
    let utc = FixedOffset::east_opt(0)?;
    if let Some(time) = time.strip_suffix(['Z', 'z']) {
        return Some((time, utc));
    }
    let Some(at) = time.rfind(['+', '-']) else {
        return Some((time, utc));
    };
    let (time, offset) = (&time[..at], &time[at..]);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4 | 6) {
        return None;
    }
    let part = |range: std::ops::Range<usize>| digits.get(range).map_or(Ok(0), str::parse::<i32>);
    let seconds = part(0..2).ok()? * 3600 + part(2..4).ok()? * 60 + part(4..6).ok()?;
    Some((time, FixedOffset::east_opt(sign * seconds)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_limit::Algorithm;
    use axum::http::StatusCode;

    fn message(error: ApiError) -> String {
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        error.message().to_owned()
    }

    #[test]
    fn python_isoformat_datetimes() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        for (text, expected) in [
            ("2026-12-01T02:00:00Z", "2026-12-01T02:00:00Z"),
            ("2026-12-01T02:00:00+00:00", "2026-12-01T02:00:00Z"),
            (
                "2026-12-01T02:00:00.123456+00:00",
                "2026-12-01T02:00:00.123456Z",
            ),
            ("2026-12-01T04:00:00+02:00", "2026-12-01T02:00:00Z"),
            ("2026-12-01T00:30:00-0130", "2026-12-01T02:00:00Z"),
            ("2026-12-01T02:00:00", "2026-12-01T02:00:00Z"),
            ("2026-12-01 02:00", "2026-12-01T02:00:00Z"),
            ("2026-12-01T02", "2026-12-01T02:00:00Z"),
            ("2026-12-01", "2026-12-01T00:00:00Z"),
        ] {
            assert_eq!(parse_iso(text), Some(utc(expected)), "{text}");
        }
        for bad in [
            "",
            "tomorrow",
            "2026-13-01",
            "2026-12-01T25:00",
            "2026-12-01T02:00+2",
            "2026-12-01T02:00+xx:00",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
        let body = JsonObject::required(br#"{"start": "soon", "end": ""}"#).unwrap();
        assert!(
            message(body.datetime("start").unwrap_err()).starts_with("Invalid datetime for start")
        );
        assert_eq!(body.datetime("end").unwrap(), None);
    }

    #[test]
    fn bodies() {
        assert!(JsonObject::optional(b"").unwrap().0.is_empty());
        assert!(JsonObject::optional(b"  \n").unwrap().0.is_empty());
        assert!(JsonObject::required(b"").is_err());
        assert!(JsonObject::required(b"[1]").is_err());
        assert!(JsonObject::optional(b"{").is_err());
        let body = JsonObject::required(
            br#"{"s": "x", "n": null, "b": true, "l": ["a"], "c": 3, "a": "fixed_window"}"#,
        )
        .unwrap();
        assert_eq!(body.string("s").unwrap(), Some("x"));
        assert_eq!(body.string("n").unwrap(), None, "null is absent");
        assert_eq!(body.string("missing").unwrap(), None);
        assert_eq!(body.bool("b").unwrap(), Some(true));
        assert_eq!(body.strings("l").unwrap(), Some(vec!["a".to_owned()]));
        assert_eq!(body.count("c").unwrap(), Some(3));
        assert_eq!(
            body.parsed::<Algorithm>("a").unwrap(),
            Some(Algorithm::FixedWindow)
        );
        assert_eq!(message(body.string("b").unwrap_err()), "b must be a string");
        assert_eq!(
            message(body.bool("s").unwrap_err()),
            "s must be true or false"
        );
        assert_eq!(
            message(body.strings("s").unwrap_err()),
            "s must be a list of strings"
        );
        assert_eq!(
            message(body.count("s").unwrap_err()),
            "s must be a non-negative integer"
        );
        assert!(message(body.parsed::<Algorithm>("s").unwrap_err())
            .starts_with("invalid s: unknown algorithm 'x'"));
        let wrong = JsonObject::required(br#"{"l": ["a", 1], "c": -1}"#).unwrap();
        assert!(wrong.strings("l").is_err());
        assert!(wrong.count("c").is_err());
        assert_eq!(
            message(JsonObject::required(b"[1]").unwrap_err()),
            "JSON body must be an object"
        );
        assert_eq!(
            message(JsonObject::optional(b"{").unwrap_err()),
            "Invalid JSON body"
        );
    }
}
