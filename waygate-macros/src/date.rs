//! Timestamps in attribute values, turned into unix seconds at compile time: RFC 3339
//! (`2026-12-01T02:00:00Z`) and HTTP-dates in IMF-fixdate form (`Fri, 01 Jan 2027 00:00:00 GMT`).

use chrono::{DateTime, NaiveDateTime, Utc};

/// An RFC 3339 timestamp, for examples in messages.
pub(crate) const RFC3339_EXAMPLE: &str = "\"2026-12-01T02:00:00Z\"";
/// An HTTP-date in IMF-fixdate form, for examples in messages.
pub(crate) const HTTP_DATE_EXAMPLE: &str = "\"Fri, 01 Jan 2027 00:00:00 GMT\"";

const IMF_FIXDATE: &str = "%a, %d %b %Y %H:%M:%S GMT";

/// Unix seconds of an RFC 3339 timestamp; the error is chrono's reason.
pub(crate) fn rfc3339(value: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.timestamp())
        .map_err(|error| error.to_string())
}

/// Unix seconds of an HTTP-date in IMF-fixdate form. `Err(Some(fix))` when the value is
/// recognisably a date but needs fixing (another HTTP-date form, a wrong weekday);
/// `Err(None)` when it is no HTTP-date at all.
pub(crate) fn http_date(value: &str) -> Result<i64, Option<String>> {
    match httpdate::parse_http_date(value) {
        Ok(time) => {
            let fixdate = httpdate::fmt_http_date(time);
            if fixdate == value {
                Ok(DateTime::<Utc>::from(time).timestamp())
            } else {
                Err(Some(format!(
                    "use the IMF-fixdate form: write \"{fixdate}\""
                )))
            }
        }
        Err(_) => Err(weekday_fix(value)),
    }
}

/// For an IMF-fixdate that is right but for its weekday: says which day it is.
fn weekday_fix(value: &str) -> Option<String> {
    let (_, date) = value.split_once(", ")?;
    let time = NaiveDateTime::parse_from_str(date, "%d %b %Y %H:%M:%S GMT").ok()?;
    Some(format!(
        "{} is a {}: write \"{}\"",
        time.format("%d %b %Y"),
        time.format("%A"),
        time.format(IMF_FIXDATE)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offsets() {
        assert_eq!(rfc3339("2026-12-01T02:00:00Z"), Ok(1_796_090_400));
        assert_eq!(rfc3339("2026-12-01T03:00:00+01:00"), Ok(1_796_090_400));
        assert_eq!(rfc3339("1969-12-31T23:59:59Z"), Ok(-1));
        assert!(rfc3339("2026-12-01").is_err());
        assert!(rfc3339("2026-13-01T00:00:00Z").is_err());
        assert!(rfc3339("tomorrow").is_err());
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date("Fri, 01 Jan 2027 00:00:00 GMT"),
            Ok(1_798_761_600)
        );
        assert_eq!(
            http_date("Sat, 01 Jan 2027 00:00:00 GMT"),
            Err(Some(
                "01 Jan 2027 is a Friday: write \"Fri, 01 Jan 2027 00:00:00 GMT\"".to_owned()
            ))
        );
        assert_eq!(
            http_date("Friday, 01-Jan-27 00:00:00 GMT"),
            Err(Some(
                "use the IMF-fixdate form: write \"Fri, 01 Jan 2027 00:00:00 GMT\"".to_owned()
            ))
        );
        assert_eq!(http_date("2027-01-01"), Err(None));
        assert_eq!(http_date("Fri, 32 Jan 2027 00:00:00 GMT"), Err(None));
    }
}
