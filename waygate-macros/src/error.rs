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

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn lists_options() {
        assert_eq!(one_of(&["a", "b"]), "`a`, `b`");
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
