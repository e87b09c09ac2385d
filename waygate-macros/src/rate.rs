//! The rate-string grammar of `#[rate_limit]`, as the Python `limits` library reads it:
//! case-insensitive `<amount> ("/" | "per") [<multiples>] <granularity>` with optional whitespace
//! anywhere, or `unlimited`. It refuses what the runtime's `Rate::parse` refuses, including a
//! period too long for its `u64` count of seconds, so a rate that compiles is one it can use.

/// What a valid rate looks like, for error messages.
pub(crate) const GRAMMAR: &str = "a rate is `<amount>/<period>` or `<amount> per <period>` \
    with an optional multiple, e.g. \"100/minute\", \"10 per second\", \"5/2 hours\", \
    or \"unlimited\"; periods: second, minute, hour, day, month, year (or plural)";

/// The periods and their length in seconds, as the runtime counts them (a month is 30 days,
/// a year 360).
const PERIODS: [(&str, u64); 6] = [
    ("second", 1),
    ("minute", 60),
    ("hour", 3_600),
    ("day", 86_400),
    ("month", 30 * 86_400),
    ("year", 360 * 86_400),
];

/// Short forms of a period that people write.
const ABBREVIATIONS: [(&str, &str); 7] = [
    ("s", "second"),
    ("h", "hour"),
    ("hr", "hour"),
    ("d", "day"),
    ("mo", "month"),
    ("y", "year"),
    ("yr", "year"),
];

/// Periods the grammar lacks, in days.
const IN_DAYS: [(&str, u64); 2] = [("week", 7), ("fortnight", 14)];

/// What is wrong with a rate, and what to do about it.
#[derive(Debug, PartialEq, Eq)]
struct Invalid {
    problem: String,
    hint: Hint,
}

#[derive(Debug, PartialEq, Eq)]
enum Hint {
    /// Show the grammar.
    Grammar,
    /// `write "<the rate>"`.
    Write(String),
    /// The problem says it all.
    None,
}

impl Invalid {
    fn new(problem: impl Into<String>, hint: Hint) -> Self {
        Self {
            problem: problem.into(),
            hint,
        }
    }

    /// Suggests `fix`, if it is a valid rate (else the grammar).
    fn write(problem: impl Into<String>, fix: String) -> Self {
        let hint = if parse(&fix).is_ok() {
            Hint::Write(fix)
        } else {
            Hint::Grammar
        };
        Self::new(problem, hint)
    }
}

/// Checks `rate`; the error says what is wrong with it and, where it can, the rate to write.
pub(crate) fn check(rate: &str) -> Result<(), String> {
    parse(rate).map_err(|invalid| match invalid.hint {
        Hint::Grammar => format!("{}; {GRAMMAR}", invalid.problem),
        Hint::Write(fix) => format!("{}; write \"{fix}\"", invalid.problem),
        Hint::None => invalid.problem,
    })
}

fn parse(rate: &str) -> Result<(), Invalid> {
    // ASCII lower-casing keeps byte offsets, so slices of `text` are slices of `original`.
    let original = rate.trim();
    let text = original.to_ascii_lowercase();
    if text == "unlimited" {
        return Ok(());
    }
    if let Some(at) = text.find([';', ',', '|']) {
        let problem = "a route has one rate, not a list";
        let first = original[..at].trim();
        let hint = match parse(first) {
            Ok(()) => Hint::Write(first.to_owned()),
            Err(_) => Hint::Grammar,
        };
        return Err(Invalid::new(problem, hint));
    }
    let mut rest = text.as_str();
    let Some(amount) = number(&mut rest) else {
        return Err(missing_amount(original, rest.trim_start()));
    };
    let amount = match amount {
        Some(0) => {
            return Err(Invalid::new(
                "the amount must be greater than 0",
                Hint::Grammar,
            ))
        }
        Some(amount) => amount,
        None => {
            let problem = format!(
                "the amount is too large: the most is {}; for no limit, write \"unlimited\"",
                u64::MAX
            );
            return Err(Invalid::new(problem, Hint::None));
        }
    };
    let after_amount = rest.trim_start();
    let (separator, after) = if let Some(after) = after_amount.strip_prefix('/') {
        ("/", after)
    } else if let Some(after) = after_amount.strip_prefix("per") {
        (" per ", after)
    } else {
        let problem = "expected `/` or `per` after the amount";
        return Err(Invalid::write(problem, format!("{amount}/{after_amount}")));
    };
    rest = after.trim_start();
    let multiples = number(&mut rest);
    let word = rest.trim();
    let rate = |period: &str| format!("{amount}{separator}{period}");
    match multiples {
        Some(Some(0)) => {
            let problem = "the multiple must be greater than 0";
            return Err(match unit(word) {
                Some((unit, _)) => Invalid::write(problem, rate(unit)),
                None => Invalid::new(problem, Hint::Grammar),
            });
        }
        _ if word.is_empty() => {
            return Err(Invalid::new("the period is missing", Hint::Grammar));
        }
        _ => {}
    }
    let Some((unit, seconds)) = unit(word) else {
        return Err(unknown_period(word, multiples, rate));
    };
    // `Some(None)`: a multiple too large for a `u64`.
    let fits = match multiples {
        None => true,
        Some(multiples) => multiples.and_then(|n| n.checked_mul(seconds)).is_some(),
    };
    if fits {
        return Ok(());
    }
    let most = u64::MAX / seconds;
    let problem = format!("the period is too long: the most is {most} {unit}s");
    Err(Invalid::new(problem, Hint::None))
}

/// `"per minute"`, `"/minute"` or anything else that does not start with a number.
fn missing_amount(original: &str, rest: &str) -> Invalid {
    let problem = "it must start with the number of requests";
    if rest.starts_with('/') {
        Invalid::write(problem, format!("1{original}"))
    } else if rest.starts_with("per") {
        Invalid::write(problem, format!("1 {original}"))
    } else {
        Invalid::new(problem, Hint::Grammar)
    }
}

/// A period such as `minute` or `hours`: its singular name and length in seconds.
fn unit(word: &str) -> Option<(&'static str, u64)> {
    let singular = word.strip_suffix('s').unwrap_or(word);
    PERIODS.into_iter().find(|(name, _)| *name == singular)
}

/// The error for a period that is not one: the rate meant, when it is clear. `multiples` as
/// [`number`] read it.
fn unknown_period(
    word: &str,
    multiples: Option<Option<u64>>,
    rate: impl Fn(&str) -> String,
) -> Invalid {
    let problem = format!("unknown period `{word}`");
    let Some(multiples) = multiples.unwrap_or(Some(1)) else {
        // Too large anyway: no rate to suggest.
        return Invalid::new(problem, Hint::Grammar);
    };
    let singular = word.strip_suffix('s').unwrap_or(word);
    if let Some((_, days)) = IN_DAYS.iter().find(|(name, _)| *name == singular) {
        return match days.checked_mul(multiples) {
            Some(days) => Invalid::write(problem, rate(&format!("{days} days"))),
            None => Invalid::new(problem, Hint::Grammar),
        };
    }
    let names = PERIODS.map(|(name, _)| name);
    let meant = ABBREVIATIONS
        .iter()
        .find(|(short, _)| *short == singular)
        .map(|(_, name)| *name)
        .or_else(|| crate::error::closest(singular, &names));
    match meant {
        Some(name) if word == singular && multiples == 1 => Invalid::write(problem, rate(name)),
        Some(name) if multiples == 1 => Invalid::write(problem, rate(&format!("{name}s"))),
        Some(name) => Invalid::write(problem, rate(&format!("{multiples} {name}s"))),
        None => Invalid::new(problem, Hint::Grammar),
    }
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
            "18446744073709551615/second",
            "1/593066617596 years",
        ] {
            assert_eq!(check(rate), Ok(()), "{rate}");
        }
    }

    #[test]
    fn explains_what_is_wrong() {
        let error = |rate| parse(rate).unwrap_err().problem;
        assert_eq!(error(""), "it must start with the number of requests");
        assert_eq!(error("minute"), "it must start with the number of requests");
        assert_eq!(
            error("-1/minute"),
            "it must start with the number of requests"
        );
        assert_eq!(error("0/minute"), "the amount must be greater than 0");
        assert_eq!(error("5/0 hours"), "the multiple must be greater than 0");
        assert!(error("99999999999999999999/second").starts_with("the amount is too large"));
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

    /// What `check` reports: the problem, then the rate to write or the grammar.
    #[test]
    fn names_the_fix() {
        let fix = |rate| match parse(rate).unwrap_err().hint {
            Hint::Write(fix) => fix,
            other => panic!("{rate}: {other:?}"),
        };
        assert_eq!(fix("10/fortnight"), "10/14 days");
        assert_eq!(fix("10 per 2 weeks"), "10 per 14 days");
        assert_eq!(fix("100/minit"), "100/minute");
        assert_eq!(fix("100/MINIT"), "100/minute");
        assert_eq!(fix("5/2 hourz"), "5/2 hours");
        assert_eq!(fix("10/min"), "10/minute");
        assert_eq!(fix("10/secs"), "10/seconds");
        assert_eq!(fix("10/2 mins"), "10/2 minutes");
        assert_eq!(fix("10/hr"), "10/hour");
        assert_eq!(fix("10 per d"), "10 per day");
        assert_eq!(fix("per minute"), "1 per minute");
        assert_eq!(fix(" /Minute"), "1/Minute");
        assert_eq!(fix("100 minute"), "100/minute");
        assert_eq!(fix("5/0 hours"), "5/hour");
        assert_eq!(fix("1/second; 100/hour"), "1/second");
        // No fix to offer: the grammar instead.
        for rate in [
            "",
            "lots",
            "per fortnightly",
            "10 minit",
            "5/0 fortnights",
            "10/m",
            "1/99999999999999999999 hourz",
            "1/9999999999999999999 weeks",
        ] {
            assert_eq!(parse(rate).unwrap_err().hint, Hint::Grammar, "{rate}");
        }
    }

    #[test]
    fn refuses_what_the_runtime_refuses() {
        // The runtime counts the period in seconds, in a `u64`.
        assert_eq!(
            check("10/99999999999999999 years").unwrap_err(),
            "the period is too long: the most is 593066617596 years"
        );
        assert_eq!(
            check("1/18446744073709551616 seconds").unwrap_err(),
            "the period is too long: the most is 18446744073709551615 seconds"
        );
        assert_eq!(
            check("99999999999999999999/second").unwrap_err(),
            "the amount is too large: the most is 18446744073709551615; for no limit, write \
             \"unlimited\""
        );
        assert_eq!(
            check("1/second;100/hour").unwrap_err(),
            "a route has one rate, not a list; write \"1/second\""
        );
        assert_eq!(
            check("10/fortnight").unwrap_err(),
            "unknown period `fortnight`; write \"10/14 days\""
        );
        assert!(check("10/forever").unwrap_err().ends_with(GRAMMAR));
    }
}
