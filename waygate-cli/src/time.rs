//! Times on the command line: durations (`--until 2h`) and datetimes (`--start`, `--end`).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// A duration `<n>s`, `<n>m`, `<n>h`, `<n>d`, `<n>w` or `<n>y` (seconds, minutes, hours,
/// days, weeks, 365-day years), e.g. `30m`, `2h`, `1d`, `1y`.
pub(crate) fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let hint = "use seconds, minutes, hours, days, weeks or years, e.g. 30m, 2h, 1d, 1y";
    let text = text.trim();
    let Some(unit) = text.chars().last() else {
        return Err(format!("empty duration: {hint}"));
    };
    let number = &text[..text.len() - unit.len_utf8()];
    let value: i64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: {hint}"))?;
    if value <= 0 {
        return Err(format!("the duration must be positive: {hint}"));
    }
    let delta = match unit.to_ascii_lowercase() {
        's' => TimeDelta::try_seconds(value),
        'm' => TimeDelta::try_minutes(value),
        'h' => TimeDelta::try_hours(value),
        'd' => TimeDelta::try_days(value),
        'w' => TimeDelta::try_weeks(value),
        'y' => value.checked_mul(365).and_then(TimeDelta::try_days),
        _ => return Err(format!("unknown time unit {unit:?} in {text:?}: {hint}")),
    };
    delta
        .filter(|delta| Utc::now().checked_add_signed(*delta).is_some())
        .ok_or_else(|| format!("the duration {text:?} is too long"))
}

/// A datetime: RFC 3339 (`2026-12-01T02:00:00Z`, `..+02:00`), or without an offset
/// (`2026-12-01T02:00`, `2026-12-01 02:00:00`, seconds and fractions optional; a date
/// alone is midnight), taken as UTC; a trailing `Z` is accepted on those too.
pub(crate) fn parse_datetime(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let naive = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(naive, format) {
            return Ok(at.and_utc());
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    Err(format!(
        "cannot read {text:?} as a date and time: use ISO 8601, e.g. 2026-12-01T02:00:00Z \
         (without an offset, UTC)"
    ))
}

/// How datetimes are sent to the server: ISO 8601 with `+00:00`, as the Python CLI sends
/// them (both servers read it).
pub(crate) fn to_wire(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// How a server's datetime is shown: `2026-12-01 02:00 UTC`, or the text as it came if
/// it does not parse.
pub(crate) fn show_minutes(text: &str) -> String {
    show(text, "%Y-%m-%d %H:%M UTC")
}

/// How a server's timestamp is shown: `2026-12-01 02:00:00` (UTC).
pub(crate) fn show_seconds(text: &str) -> String {
    show(text, "%Y-%m-%d %H:%M:%S")
}

fn show(text: &str, format: &str) -> String {
    parse_datetime(text)
        .map(|at| at.format(format).to_string())
        .unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_minutes_hours_and_days() {
        assert_eq!(parse_duration("30m"), Ok(TimeDelta::minutes(30)));
        assert_eq!(parse_duration("2h"), Ok(TimeDelta::hours(2)));
        assert_eq!(parse_duration("1D"), Ok(TimeDelta::days(1)));
        assert_eq!(parse_duration("15s"), Ok(TimeDelta::seconds(15)));
        assert_eq!(parse_duration("2w"), Ok(TimeDelta::weeks(2)));
        assert_eq!(parse_duration("1y"), Ok(TimeDelta::days(365)));
        for bad in ["", "h", "2", "2x", "-1h", "0m", "2.5h", "1ü"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.contains("e.g. 30m, 2h, 1d") || err.contains("too long"),
                "{bad}: {err}"
            );
        }
        assert!(parse_duration("99999999999d")
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn datetimes_with_z_offsets_or_naive_as_utc() {
        let expected = "2026-12-01T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for text in [
            "2026-12-01T02:00:00Z",
            "2026-12-01T02:00Z",
            "2026-12-01T02:00",
            "2026-12-01T02:00:00",
            "2026-12-01 02:00",
            "2026-12-01T04:00:00+02:00",
            "2026-12-01T04:00+02:00",
        ] {
            assert_eq!(parse_datetime(text), Ok(expected), "{text}");
        }
        assert_eq!(
            parse_datetime("2026-12-01"),
            Ok("2026-12-01T00:00:00Z".parse().unwrap())
        );
        for bad in ["tomorrow", "2026-13-01T00:00", "12/01/2026", ""] {
            assert!(
                parse_datetime(bad).unwrap_err().contains("ISO 8601"),
                "{bad}"
            );
        }
    }

    #[test]
    fn wire_and_display_formats() {
        let at = parse_datetime("2026-12-01T02:00:00Z").unwrap();
        assert_eq!(to_wire(at), "2026-12-01T02:00:00+00:00");
        assert_eq!(show_minutes("2026-12-01T02:00:00Z"), "2026-12-01 02:00 UTC");
        assert_eq!(
            show_seconds("2026-12-01T02:00:00.123456Z"),
            "2026-12-01 02:00:00"
        );
        assert_eq!(show_minutes("soon"), "soon");
    }
}
