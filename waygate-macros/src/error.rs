//! Collecting several errors so one expansion can report every problem at once.

use syn::{Error, Result};

/// Combines errors; [`Errors::finish`] reports them together.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Keeps the value of `result`, or records its error.
    pub(crate) fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    pub(crate) fn finish(self) -> Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Both values, or every error of the two.
pub(crate) fn both<A, B>(a: Result<A>, b: Result<B>) -> Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
    }
}

/// `` `a`, `b`, `c` ``, for "expected one of .." messages.
pub(crate) fn one_of(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|option| format!("`{option}`")).collect();
    quoted.join(", ")
}

/// The option `word` most likely stands for: the one closest in spelling (a typo, a letter
/// too many or too few, two letters swapped), else the only one it begins. `None` when no
/// option is close or two are equally close.
pub(crate) fn closest<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let tolerance = if word.chars().count() <= 3 { 1 } else { 2 };
    let mut best: Option<(usize, &str)> = None;
    let mut tied = false;
    for &option in options {
        let distance = distance(&word, option);
        if distance > tolerance || distance >= option.len() {
            continue;
        }
        match best {
            Some((least, _)) if distance > least => {}
            Some((least, _)) if distance == least => tied = true,
            _ => (best, tied) = (Some((distance, option)), false),
        }
    }
    if let Some((_, option)) = best {
        return (!tied).then_some(option);
    }
    let mut prefixed = options
        .iter()
        .filter(|option| word.len() >= 3 && option.starts_with(word.as_str()));
    match (prefixed.next(), prefixed.next()) {
        (Some(option), None) => Some(option),
        _ => None,
    }
}

/// `` did you mean `x`? `` when `word` looks like one of `options`, else nothing.
pub(crate) fn did_you_mean(word: &str, options: &[&str]) -> String {
    closest(word, options).map_or_else(String::new, |option| format!("did you mean `{option}`? "))
}

/// Edits (insertions, deletions, substitutions, swaps of neighbours) from `a` to `b`.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![(0..=b.len()).collect::<Vec<usize>>()];
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (rows[i - 1][j] + 1)
                .min(row[j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(rows[i - 2][j - 2] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn lists_options() {
        assert_eq!(one_of(&["a", "b"]), "`a`, `b`");
    }

    #[test]
    fn suggests_the_closest_option() {
        let keys = [
            "algorithm",
            "key",
            "burst",
            "exempt_ips",
            "exempt_roles",
            "response",
        ];
        assert_eq!(closest("algoritm", &keys), Some("algorithm"));
        assert_eq!(closest("Burts", &keys), Some("burst"));
        assert_eq!(closest("keys", &keys), Some("key"));
        assert_eq!(closest("algo", &keys), Some("algorithm"), "a prefix");
        assert_eq!(closest("exempt", &keys), None, "two options begin with it");
        assert_eq!(closest("exempt_ip", &keys), Some("exempt_ips"));
        assert_eq!(closest("limit", &keys), None);
        assert_eq!(closest("x", &["ip"]), None);
        assert_eq!(closest("minit", &["minute", "month"]), Some("minute"));
        assert_eq!(
            closest("dya", &["day", "year"]),
            Some("day"),
            "a swap is one edit"
        );
        assert_eq!(closest("leaky_bucket", &["token_bucket"]), None);
        assert_eq!(closest("ab", &["ac", "ad"]), None, "a tie");
        assert_eq!(
            did_you_mean("reson", &["reason"]),
            "did you mean `reason`? "
        );
        assert_eq!(did_you_mean("zzz", &["reason"]), "");
    }

    #[test]
    fn both_keeps_both_errors() {
        let error = |message| Err::<(), _>(Error::new(Span::call_site(), message));
        assert!(both(Ok::<_, Error>(1), Ok::<_, Error>(2)).is_ok());
        assert_eq!(
            both(error("a"), Ok::<_, Error>(2)).unwrap_err().to_string(),
            "a"
        );
        assert_eq!(
            both(error("a"), error("b"))
                .unwrap_err()
                .into_iter()
                .count(),
            2
        );
    }

    #[test]
    fn collects_every_error() {
        assert!(Errors::default().finish().is_ok());

        let mut errors = Errors::default();
        assert_eq!(errors.take(Ok::<_, Error>(1)), Some(1));
        errors.push(Error::new(Span::call_site(), "first"));
        errors.take(Err::<(), _>(Error::new(Span::call_site(), "second")));
        let messages: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
