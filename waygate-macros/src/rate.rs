//! The rate-string grammar of `#[rate_limit]`, as the Python `limits` library reads it:
//! case-insensitive `<amount> ("/" | "per") [<multiples>] <granularity>` with optional whitespace
//! anywhere, or `unlimited`.

/// What a valid rate looks like, for error messages.
pub(crate) const GRAMMAR: &str = "a rate is `<amount>/<period>` or `<amount> per <period>` \
    with an optional multiple, e.g. \"100/minute\", \"10 per second\", \"5/2 hours\", \
    or \"unlimited\"; periods: second, minute, hour, day, month, year (or plural)";

const PERIODS: [&str; 6] = ["second", "minute", "hour", "day", "month", "year"];

/// Checks `rate`; the error says what is wrong with it.
pub(crate) fn check(rate: &str) -> Result<(), String> {
    let rate = rate.trim().to_ascii_lowercase();
    if rate == "unlimited" {
        return Ok(());
    }
    let mut rest = rate.as_str();
    let amount = number(&mut rest).ok_or("it must start with the number of requests")?;
    positive(amount, "the amount")?;
    rest = rest
        .trim_start()
        .strip_prefix('/')
        .or_else(|| rest.trim_start().strip_prefix("per"))
        .ok_or("expected `/` or `per` after the amount")?;
    rest = rest.trim_start();
    if let Some(multiples) = number(&mut rest) {
        positive(multiples, "the multiple")?;
    }
    period(rest.trim())
}

/// Parses leading decimal digits; `Some(None)` when they overflow.
fn number(rest: &mut &str) -> Option<Option<u64>> {
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let (number, after) = rest.split_at(digits);
    *rest = after;
    Some(number.parse().ok())
}

fn positive(number: Option<u64>, what: &str) -> Result<(), String> {
    match number {
        Some(0) => Err(format!("{what} must be greater than 0")),
        Some(_) => Ok(()),
        None => Err(format!("{what} is too large")),
    }
}

fn period(period: &str) -> Result<(), String> {
    let singular = period.strip_suffix('s').unwrap_or(period);
    if PERIODS.contains(&singular) {
        Ok(())
    } else if period.is_empty() {
        Err("the period is missing".to_owned())
    } else {
        Err(format!("unknown period `{period}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_grammar() {
        for rate in [
            "100/minute",
            "10 per second",
            "5/2 hours",
            "unlimited",
            " UNLIMITED ",
            "1/Day",
            "3 PER 10 Minutes",
            "7 / month",
            "1per1year",
            "2/years",
        ] {
            assert_eq!(check(rate), Ok(()), "{rate}");
        }
    }

    #[test]
    fn explains_what_is_wrong() {
        let error = |rate| check(rate).unwrap_err();
        assert_eq!(error(""), "it must start with the number of requests");
        assert_eq!(error("minute"), "it must start with the number of requests");
        assert_eq!(
            error("-1/minute"),
            "it must start with the number of requests"
        );
        assert_eq!(error("0/minute"), "the amount must be greater than 0");
        assert_eq!(error("5/0 hours"), "the multiple must be greater than 0");
        assert_eq!(
            error("99999999999999999999/second"),
            "the amount is too large"
        );
        assert_eq!(error("10 minute"), "expected `/` or `per` after the amount");
        assert_eq!(error("10:minute"), "expected `/` or `per` after the amount");
        assert_eq!(error("10/"), "the period is missing");
        assert_eq!(error("10/2"), "the period is missing");
        assert_eq!(error("10/minit"), "unknown period `minit`");
        assert_eq!(error("10/week"), "unknown period `week`");
        assert_eq!(error("10/minute x"), "unknown period `minute x`");
        assert_eq!(
            error("1.5/minute"),
            "expected `/` or `per` after the amount"
        );
    }
}
