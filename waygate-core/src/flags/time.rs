//! The Python original's naive UTC datetimes (`datetime.utcnow()`, serialised by pydantic
//! without an offset: `2026-12-06T23:30:00.123456`).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC time written as the Python original writes it: ISO 8601 without an offset,
/// microseconds only when not zero. Read with or without an offset (converted to UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyDateTime(pub DateTime<Utc>);

impl PyDateTime {
    /// Now, to the microsecond.
    pub fn now() -> Self {
        Self::from(Utc::now())
    }
}

impl From<DateTime<Utc>> for PyDateTime {
    fn from(at: DateTime<Utc>) -> Self {
        // Python keeps microseconds.
        let micros = at.timestamp_micros();
        Self(DateTime::from_timestamp_micros(micros).unwrap_or(at))
    }
}

impl fmt::Display for PyDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let naive = self.0.naive_utc();
        if self.0.timestamp_subsec_micros() == 0 {
            write!(f, "{}", naive.format("%Y-%m-%dT%H:%M:%S"))
        } else {
            write!(f, "{}", naive.format("%Y-%m-%dT%H:%M:%S%.6f"))
        }
    }
}

impl Serialize for PyDateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PyDateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text)
            .map(Self::from)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid datetime {text:?}")))
    }
}

/// ISO 8601 with an offset (or `Z`), or without one (taken as UTC); `T` or a space.
fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.to_utc());
    }
    let spaced = text.replacen(' ', "T", 1);
    if let Ok(at) = DateTime::parse_from_rfc3339(&spaced) {
        return Some(at.to_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&spaced, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_read_as_python_does() {
        let at: PyDateTime = serde_json::from_str(r#""2026-12-06T23:30:00.123456""#).unwrap();
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            r#""2026-12-06T23:30:00.123456""#
        );
        let whole: PyDateTime = serde_json::from_str(r#""2026-12-06T23:30:00Z""#).unwrap();
        assert_eq!(whole.to_string(), "2026-12-06T23:30:00");
        let offset: PyDateTime = serde_json::from_str(r#""2026-12-07T01:30:00+02:00""#).unwrap();
        assert_eq!(offset, whole);
        assert!(serde_json::from_str::<PyDateTime>(r#""yesterday""#).is_err());
    }
}
