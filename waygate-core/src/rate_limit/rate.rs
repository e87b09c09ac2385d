//! Rate strings: `"100/minute"`, `"10 per second"`, `"5/2 hours"`, `"unlimited"`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds per granularity, largest first (the order [`Rate`]'s `Display` picks a unit in).
const UNITS: [(&str, u64); 6] = [
    ("year", 360 * 86_400),
    ("month", 30 * 86_400),
    ("day", 86_400),
    ("hour", 3_600),
    ("minute", 60),
    ("second", 1),
];

/// A rate string that does not follow the grammar.
///
/// The message names the grammar, as the Python original's does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid rate limit string '{input}'; use '<count>/<granularity>', e.g. '100/minute'; \
     valid granularities: second, minute, hour, day, month, year (or their plurals)"
)]
pub struct RateParseError {
    input: String,
}

impl RateParseError {
    fn new(input: &str) -> Self {
        Self {
            input: input.to_owned(),
        }
    }

    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// `amount` requests per `period`, e.g. 100 per minute.
///
/// Parsed from the Python `limits` grammar ([`Rate::parse`]). The text it was parsed from is
/// kept ([`Rate::as_str`]): the `X-RateLimit-Limit` header and `429` bodies carry the limit as
/// written. [`Display`](fmt::Display) gives a canonical text instead (`"10/minute"`,
/// `"5/2 hours"`).
///
/// Equality and hashing compare `amount` and `period` only: `"10/minute"`, `"10 per 60 seconds"`
/// and `"10 PER MINUTE"` are equal rates.
#[derive(Clone)]
pub struct Rate {
    amount: u64,
    period: Duration,
    text: Arc<str>,
}

impl Rate {
    /// `amount` requests per `period`, or `None` when either is zero or `period` is not a whole
    /// number of seconds (the resolution of the rate grammar). [`as_str`](Rate::as_str) is then
    /// the canonical text.
    pub fn new(amount: u64, period: Duration) -> Option<Self> {
        if amount == 0 || period.is_zero() || period.subsec_nanos() != 0 {
            return None;
        }
        let mut rate = Self {
            amount,
            period,
            text: Arc::from(""),
        };
        rate.text = Arc::from(rate.to_string());
        Some(rate)
    }

    /// Parses `<amount> ("/" | "per") [<multiples>] <granularity>`.
    ///
    /// The grammar is that of the Python `limits` package (`limits.parse`): case-insensitive,
    /// optional whitespace anywhere between the parts, `amount` and `multiples` decimal integers
    /// greater than zero (`multiples` defaults to 1), `granularity` one of `second`, `minute`,
    /// `hour`, `day`, `month` (30 days) or `year` (360 days), or their plural. Lists
    /// (`"10/minute;100/hour"`) are not accepted: waygate applies a single rate.
    ///
    /// ```
    /// use std::time::Duration;
    /// use waygate_core::rate_limit::Rate;
    ///
    /// let rate = Rate::parse("5 per 2 Hours").unwrap();
    /// assert_eq!(rate.amount(), 5);
    /// assert_eq!(rate.period(), Duration::from_secs(7200));
    /// assert_eq!(rate.as_str(), "5 per 2 Hours");
    /// assert_eq!(rate.to_string(), "5/2 hours");
    /// assert!(Rate::parse("5/fortnight").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, RateParseError> {
        let err = || RateParseError::new(text);
        let mut cur = Cursor::new(text);
        cur.skip_ws();
        let amount = cur.number().ok_or_else(err)?;
        cur.skip_ws();
        if !(cur.eat("/") || cur.eat("per")) {
            return Err(err());
        }
        cur.skip_ws();
        let multiples = if cur.at_digit() {
            cur.number().ok_or_else(err)?
        } else {
            1
        };
        cur.skip_ws();
        let unit = UNITS
            .iter()
            .find(|(name, _)| cur.eat(name))
            .map(|&(_, secs)| secs)
            .ok_or_else(err)?;
        cur.eat("s");
        cur.skip_ws();
        if !cur.rest.is_empty() || amount == 0 || multiples == 0 {
            return Err(err());
        }
        let secs = unit.checked_mul(multiples).ok_or_else(err)?;
        Ok(Self {
            amount,
            period: Duration::from_secs(secs),
            text: Arc::from(text),
        })
    }

    /// How many requests a period allows (before any burst).
    pub fn amount(&self) -> u64 {
        self.amount
    }

    /// The length of the window.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The text the rate was parsed from, as written (`"10 per Minute"`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rate")
            .field("amount", &self.amount)
            .field("period", &self.period)
            .field("text", &&*self.text)
            .finish()
    }
}

/// Canonical text: `"10/minute"`, `"5/2 hours"`, in the largest unit that divides the period.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.period.as_secs();
        let (name, unit) = UNITS
            .iter()
            .copied()
            .find(|&(_, unit)| secs.is_multiple_of(unit))
            .unwrap_or(("second", 1));
        match secs / unit {
            1 => write!(f, "{}/{name}", self.amount),
            n => write!(f, "{}/{n} {name}s", self.amount),
        }
    }
}

impl PartialEq for Rate {
    fn eq(&self, other: &Self) -> bool {
        self.amount == other.amount && self.period == other.period
    }
}

impl Eq for Rate {}

impl Hash for Rate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.amount.hash(state);
        self.period.hash(state);
    }
}

impl FromStr for Rate {
    type Err = RateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Serialised as the text it was parsed from.
impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A rate, or no limit at all (a tier whose limit is `"unlimited"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Requests are never counted nor refused.
    Unlimited,
    /// At most this rate.
    Limited(Rate),
}

impl Limit {
    /// Parses a [`Rate`] or `"unlimited"` (case-insensitive, surrounding whitespace ignored).
    ///
    /// ```
    /// use waygate_core::rate_limit::Limit;
    ///
    /// assert_eq!(Limit::parse("Unlimited").unwrap(), Limit::Unlimited);
    /// assert_eq!(Limit::parse("10/minute").unwrap().as_str(), "10/minute");
    /// ```
    pub fn parse(text: &str) -> Result<Self, RateParseError> {
        if text
            .trim_matches(is_space)
            .eq_ignore_ascii_case("unlimited")
        {
            Ok(Self::Unlimited)
        } else {
            Rate::parse(text).map(Self::Limited)
        }
    }

    /// The limit as written, `"unlimited"` for [`Limit::Unlimited`]: the value of the
    /// `X-RateLimit-Limit` header and of the `limit` field of `429` bodies and hit records.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unlimited => "unlimited",
            Self::Limited(rate) => rate.as_str(),
        }
    }

    /// The rate, unless unlimited.
    pub fn rate(&self) -> Option<&Rate> {
        match self {
            Self::Unlimited => None,
            Self::Limited(rate) => Some(rate),
        }
    }

    /// Whether this is [`Limit::Unlimited`].
    pub fn is_unlimited(&self) -> bool {
        matches!(self, Self::Unlimited)
    }
}

/// Canonical text: `"unlimited"` or the rate's canonical text.
impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unlimited => f.write_str("unlimited"),
            Self::Limited(rate) => rate.fmt(f),
        }
    }
}

impl From<Rate> for Limit {
    fn from(rate: Rate) -> Self {
        Self::Limited(rate)
    }
}

impl FromStr for Limit {
    type Err = RateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Serialised as the text it was parsed from.
impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Whitespace as Python's `re` `\s` matches it in a `str` pattern (`str.isspace`): Unicode
/// whitespace plus the information separators U+001C..U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A forward-only reader over the rate text.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self { rest: text }
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start_matches(is_space);
    }

    fn at_digit(&self) -> bool {
        self.rest.starts_with(|c: char| c.is_ascii_digit())
    }

    /// ASCII digits as a `u64`; `None` when there are none or the value overflows.
    fn number(&mut self) -> Option<u64> {
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at(end);
        if digits.is_empty() {
            return None;
        }
        self.rest = rest;
        digits.parse().ok()
    }

    /// Consumes `word` (ASCII, matched case-insensitively) if the text continues with it.
    fn eat(&mut self, word: &str) -> bool {
        match self.rest.get(..word.len()) {
            Some(head) if head.eq_ignore_ascii_case(word) => {
                self.rest = &self.rest[word.len()..];
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (u64, u64) {
        let rate = Rate::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        (rate.amount(), rate.period().as_secs())
    }

    #[test]
    fn parses_every_form_of_the_grammar() {
        assert_eq!(parsed("100/minute"), (100, 60));
        assert_eq!(parsed("10 per second"), (10, 1));
        assert_eq!(parsed("5/2 hours"), (5, 7200));
        assert_eq!(parsed("5/2hours"), (5, 7200));
        assert_eq!(parsed("1/day"), (1, 86_400));
        assert_eq!(parsed("1/days"), (1, 86_400));
        assert_eq!(parsed("3/month"), (3, 30 * 86_400));
        assert_eq!(parsed("3/2 months"), (3, 60 * 86_400));
        assert_eq!(parsed("7/year"), (7, 360 * 86_400));
        assert_eq!(parsed("7 per 1 years"), (7, 360 * 86_400));
        assert_eq!(parsed("10/seconds"), (10, 1));
        assert_eq!(parsed("10/minutes"), (10, 60));
        assert_eq!(parsed("10/hour"), (10, 3600));
    }

    #[test]
    fn parse_is_case_insensitive_and_allows_whitespace_anywhere() {
        assert_eq!(parsed("10 PER MINUTE"), (10, 60));
        assert_eq!(parsed("10 Per 2 Minutes"), (10, 120));
        assert_eq!(parsed("  10  /  2  hours  "), (10, 7200));
        assert_eq!(parsed("\t10\n/\r\nsecond\n"), (10, 1));
        assert_eq!(parsed("10per minute"), (10, 60));
        assert_eq!(parsed("10perminute"), (10, 60));
        assert_eq!(parsed("10 per2hours"), (10, 7200));
        assert_eq!(parsed("10/MINUTES"), (10, 60));
        assert_eq!(parsed("10\u{a0}/\u{2003}minute"), (10, 60));
    }

    #[test]
    fn parse_rejects_what_the_grammar_does_not_allow() {
        for bad in [
            "",
            " ",
            "minute",
            "/minute",
            "10",
            "10/",
            "10 minute",
            "10 / per minute",
            "10 perr minute",
            "10/fortnight",
            "10/minutess",
            "10/minute s",
            "10/min",
            "-1/minute",
            "+1/minute",
            "1.5/minute",
            "10/1.5 minutes",
            "10/2 3 hours",
            "0/minute",
            "10/0 minutes",
            "10/minute;100/hour",
            "10/minute,",
            "unlimited",
            "ten/minute",
            "１０/minute",
            "10/ſecond",
            "99999999999999999999/minute",
            "10/99999999999999999 years",
            "10/minuteé",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn parse_error_names_the_grammar() {
        let err = Rate::parse("10/fortnight").unwrap_err();
        assert_eq!(err.input(), "10/fortnight");
        assert_eq!(
            err.to_string(),
            "invalid rate limit string '10/fortnight'; use '<count>/<granularity>', e.g. \
             '100/minute'; valid granularities: second, minute, hour, day, month, year \
             (or their plurals)"
        );
    }

    #[test]
    fn keeps_the_text_as_written_and_displays_a_canonical_one() {
        let rate = Rate::parse(" 10 Per Minute ").unwrap();
        assert_eq!(rate.as_str(), " 10 Per Minute ");
        assert_eq!(rate.to_string(), "10/minute");
        assert_eq!(
            Rate::parse("5 per 2 hours").unwrap().to_string(),
            "5/2 hours"
        );
        assert_eq!(Rate::parse("1/60 seconds").unwrap().to_string(), "1/minute");
        assert_eq!(
            Rate::parse("1/90 seconds").unwrap().to_string(),
            "1/90 seconds"
        );
        assert_eq!(Rate::parse("1/12 months").unwrap().to_string(), "1/year");
        assert_eq!(
            Rate::parse("1/13 months").unwrap().to_string(),
            "1/13 months"
        );
        // The canonical text parses back to the same rate.
        for text in [
            "10/minute",
            "5/2 hours",
            "1/90 seconds",
            "3/7 days",
            "1/13 months",
        ] {
            let rate = Rate::parse(text).unwrap();
            assert_eq!(Rate::parse(&rate.to_string()).unwrap(), rate);
        }
    }

    #[test]
    fn equality_compares_amount_and_period() {
        assert_eq!(
            Rate::parse("10/minute").unwrap(),
            Rate::parse("10 per 60 seconds").unwrap()
        );
        assert_ne!(
            Rate::parse("10/minute").unwrap(),
            Rate::parse("11/minute").unwrap()
        );
    }

    #[test]
    fn new_rejects_zero_and_sub_second_periods() {
        let rate = Rate::new(3, Duration::from_secs(7200)).unwrap();
        assert_eq!(rate.as_str(), "3/2 hours");
        assert!(Rate::new(0, Duration::from_secs(1)).is_none());
        assert!(Rate::new(1, Duration::ZERO).is_none());
        assert!(Rate::new(1, Duration::from_millis(1500)).is_none());
    }

    #[test]
    fn limit_parses_unlimited_and_rates() {
        assert_eq!(Limit::parse("unlimited").unwrap(), Limit::Unlimited);
        assert_eq!(Limit::parse("UNLIMITED").unwrap(), Limit::Unlimited);
        assert_eq!(Limit::parse(" Unlimited ").unwrap(), Limit::Unlimited);
        assert!(Limit::parse("unlimited/minute").is_err());
        assert!(Limit::parse("limitless").is_err());
        let limit = Limit::parse("10 per minute").unwrap();
        assert_eq!(limit.as_str(), "10 per minute");
        assert_eq!(limit.to_string(), "10/minute");
        assert_eq!(limit.rate().map(Rate::amount), Some(10));
        assert_eq!(Limit::Unlimited.as_str(), "unlimited");
        assert!(Limit::Unlimited.is_unlimited());
    }

    #[test]
    fn serde_uses_the_text_as_written() {
        let limit: Limit = serde_json::from_str(r#""10 per Minute""#).unwrap();
        assert_eq!(serde_json::to_string(&limit).unwrap(), r#""10 per Minute""#);
        let rate: Rate = serde_json::from_str(r#""5/2 hours""#).unwrap();
        assert_eq!(rate.period(), Duration::from_secs(7200));
        assert!(serde_json::from_str::<Rate>(r#""unlimited""#).is_err());
        assert!(serde_json::from_str::<Limit>(r#""10/fortnight""#).is_err());
        assert_eq!(
            serde_json::from_str::<Limit>(r#""unlimited""#).unwrap(),
            Limit::Unlimited
        );
    }
}
