//! The `key = value, ..` argument grammar the lifecycle attributes share, and its value parsers.
//! Every error names the attribute or key and shows the expected form.

use crate::error::one_of;
use crate::kind::Kind;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{bracketed, Error, Expr, Ident, LitInt, LitStr, Result, Token};

/// The keys an attribute accepts, and those already given.
struct Keys {
    kind: Kind,
    seen: Vec<String>,
}

impl Keys {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            seen: Vec::new(),
        }
    }

    /// Parses `key =`, refusing unknown and repeated keys.
    fn key(&mut self, input: ParseStream<'_>) -> Result<Ident> {
        let key = input.call(Ident::parse_any)?;
        let name = key.to_string();
        if !self.kind.keys().contains(&name.as_str()) {
            return Err(unknown_key(self.kind, &key));
        }
        if self.seen.contains(&name) {
            let message = format!(
                "duplicate key `{name}` in `#[{}]`; give it once",
                self.kind.name()
            );
            return Err(Error::new_spanned(key, message));
        }
        self.seen.push(name);
        input.parse::<Token![=]>()?;
        Ok(key)
    }

    /// A known key written without `= value`.
    fn bare_key(&self, input: ParseStream<'_>) -> Option<Error> {
        let key = input.fork().call(Ident::parse_any).ok()?;
        let known = self.kind.keys().contains(&key.to_string().as_str());
        known.then(|| Error::new_spanned(&key, format!("`{key}` needs a value: `{key} = ..`")))
    }
}

fn unknown_key(kind: Kind, key: &Ident) -> Error {
    let mut message = match kind.keys() {
        [] => return no_arguments(kind, key),
        [only] => format!("unknown key `{key}`; expected `{only}`"),
        keys => format!("unknown key `{key}`; expected one of {}", one_of(keys)),
    };
    if let Some(positional) = kind.positional() {
        message = format!("{message} ({positional})");
    }
    Error::new_spanned(key, message)
}

fn no_arguments(kind: Kind, tokens: impl ToTokens) -> Error {
    let name = kind.name();
    let message = format!("`#[{name}]` takes no arguments: write `#[{name}]`");
    Error::new_spanned(tokens, message)
}

/// The error for an argument in a place where none fits.
pub(crate) fn unexpected(kind: Kind, input: ParseStream<'_>) -> Error {
    if kind.keys().is_empty() {
        return no_arguments(kind, input.cursor().token_stream());
    }
    if let Ok(key) = input.fork().call(Ident::parse_any) {
        return unknown_key(kind, &key);
    }
    let keys = one_of(kind.keys());
    spanned_value(
        input,
        &format!("unexpected argument; expected `key = value` with a key from {keys}"),
    )
}

/// One argument of a list, as [`parse_list`] hands it over.
pub(crate) enum Arg<'a> {
    /// Not `key = ..`; the index in the list.
    Positional(usize),
    /// `key = ..`, with the key checked and `=` consumed.
    Named(&'a Ident),
}

/// Parses a comma-separated argument list, handing each argument to `parse`.
pub(crate) fn parse_list(
    input: ParseStream<'_>,
    kind: Kind,
    mut parse: impl FnMut(ParseStream<'_>, Arg<'_>) -> Result<()>,
) -> Result<()> {
    let mut keys = Keys::new(kind);
    let mut index = 0;
    while !input.is_empty() {
        if input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key = keys.key(input)?;
            parse(input, Arg::Named(&key))?;
        } else if let Some(error) = keys.bare_key(input) {
            return Err(error);
        } else {
            parse(input, Arg::Positional(index))?;
        }
        index += 1;
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// `message`, spanned on the next value (an expression, else the next token).
pub(crate) fn spanned_value(input: ParseStream<'_>, message: &str) -> Error {
    match input.fork().parse::<Expr>() {
        Ok(expr) => Error::new_spanned(expr, message),
        Err(_) => input.error(message),
    }
}

/// `key = "text"`.
pub(crate) fn string(input: ParseStream<'_>, key: &Ident, example: &str) -> Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let message = format!("`{key}` takes a string literal, e.g. `{key} = {example}`");
    Err(spanned_value(input, &message))
}

/// `response = factory`: a path or a closure (anything callable; rustc checks the signature).
pub(crate) fn factory(input: ParseStream<'_>, key: &Ident) -> Result<Expr> {
    match input.parse()? {
        Expr::Lit(lit) => Err(Error::new_spanned(
            lit,
            format!("`{key}` takes a factory function or closure, e.g. `{key} = maintenance_page`"),
        )),
        expr => Ok(expr),
    }
}

/// `key = ["a", "b"]`.
pub(crate) fn strings(input: ParseStream<'_>, key: &Ident, example: &str) -> Result<Vec<LitStr>> {
    let message = format!("`{key}` takes a list of string literals, e.g. `{key} = [{example}]`");
    if !input.peek(syn::token::Bracket) {
        return Err(spanned_value(input, &message));
    }
    let content;
    bracketed!(content in input);
    let items = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    items
        .into_iter()
        .map(|item| match item {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => Ok(lit),
            other => Err(Error::new_spanned(other, &message)),
        })
        .collect()
}

/// `key = option`, one bare identifier out of `options`; `what` names it in errors.
pub(crate) fn choice(input: ParseStream<'_>, what: &str, options: &[&str]) -> Result<Ident> {
    let expected = format!("expected one of {}", one_of(options));
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let message = format!("{what} is a bare identifier, not a string: {expected}");
        return Err(Error::new_spanned(lit, message));
    }
    if !input.peek(Ident::peek_any) {
        return Err(spanned_value(input, &format!("{expected} for {what}")));
    }
    let ident = input.call(Ident::parse_any)?;
    if options.contains(&ident.to_string().as_str()) {
        Ok(ident)
    } else {
        let message = format!("unknown {what} `{ident}`; {expected}");
        Err(Error::new_spanned(ident, message))
    }
}

/// `key = 10`, an integer that fits in `u32`.
pub(crate) fn integer(input: ParseStream<'_>, key: &Ident) -> Result<u32> {
    let message = format!(
        "`{key}` takes a whole number from 0 to {}, e.g. `{key} = 10`",
        u32::MAX
    );
    if !input.peek(LitInt) {
        return Err(spanned_value(input, &message));
    }
    let lit: LitInt = input.parse()?;
    if !lit.suffix().is_empty() {
        return Err(Error::new_spanned(lit, message));
    }
    lit.base10_parse()
        .map_err(|_| Error::new_spanned(lit, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse::Parser;

    /// Runs `parser` over `source`, returning its value or error message.
    fn run<T>(
        source: &str,
        parser: impl FnOnce(ParseStream<'_>) -> Result<T>,
    ) -> std::result::Result<T, String> {
        parser.parse_str(source).map_err(|e| e.to_string())
    }

    fn error<T>(result: std::result::Result<T, String>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(error) => error,
        }
    }

    fn key() -> Ident {
        Ident::new("k", proc_macro2::Span::call_site())
    }

    /// Parses a maintenance-style list, recording what went where.
    fn list(source: &str) -> std::result::Result<Vec<String>, String> {
        run(source, |input| {
            let mut seen = Vec::new();
            parse_list(input, Kind::Maintenance, |input, arg| {
                match arg {
                    Arg::Positional(index) => {
                        let lit: LitStr = input.parse()?;
                        seen.push(format!("{index}:{}", lit.value()));
                    }
                    Arg::Named(key) => {
                        let value: Expr = input.parse()?;
                        seen.push(format!("{key}={}", quote::quote!(#value)));
                    }
                }
                Ok(())
            })?;
            Ok(seen)
        })
    }

    #[test]
    fn splits_positional_and_named_arguments() {
        assert_eq!(
            list(r#""why", start = "a", response = |b| f(b, 1),"#).unwrap(),
            ["0:why", "start=\"a\"", "response=| b | f (b , 1)"]
        );
        assert_eq!(list("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn refuses_unknown_repeated_and_valueless_keys() {
        assert_eq!(
            list(r#"reson = "x""#).unwrap_err(),
            "unknown key `reson`; expected one of `reason`, `start`, `end`, `response`"
        );
        assert_eq!(
            list(r#"reason = "x", reason = "y""#).unwrap_err(),
            "duplicate key `reason` in `#[maintenance]`; give it once"
        );
        assert_eq!(
            list("reason").unwrap_err(),
            "`reason` needs a value: `reason = ..`"
        );
        assert_eq!(list(r#"reason = "x" "y""#).unwrap_err(), "expected `,`");
    }

    #[test]
    fn unexpected_names_what_fits() {
        let keys =
            |kind| move |input: ParseStream<'_>| -> Result<()> { Err(unexpected(kind, input)) };
        assert_eq!(
            run("5", keys(Kind::Disabled)).unwrap_err(),
            "unexpected argument; expected `key = value` with a key from `reason`, `response`"
        );
        assert_eq!(
            run("x", keys(Kind::ForceActive)).unwrap_err(),
            "`#[force_active]` takes no arguments: write `#[force_active]`"
        );
        assert_eq!(
            run("x", keys(Kind::EnvOnly)).unwrap_err(),
            "unknown key `x`; expected `response` (environments come first, as string \
             literals: `#[env_only(\"dev\", \"staging\")]`)"
        );
    }

    #[test]
    fn value_parsers() {
        assert_eq!(
            run(r#""a""#, |i| string(i, &key(), "\"x\""))
                .unwrap()
                .value(),
            "a"
        );
        assert_eq!(
            error(run("5", |i| string(i, &key(), "\"x\""))),
            "`k` takes a string literal, e.g. `k = \"x\"`"
        );
        let values = run(r#"["a", "b",]"#, |i| strings(i, &key(), "\"x\"")).unwrap();
        assert_eq!(values.len(), 2);
        assert!(run(r#""a""#, |i| strings(i, &key(), "\"x\"")).is_err());
        assert!(run(r#"["a", 1]"#, |i| strings(i, &key(), "\"x\"")).is_err());
        assert_eq!(run("12", |i| integer(i, &key())).unwrap(), 12);
        assert!(run("-1", |i| integer(i, &key())).is_err());
        assert!(run("1.5", |i| integer(i, &key())).is_err());
        assert!(run("5u8", |i| integer(i, &key())).is_err());
        assert!(run("99999999999", |i| integer(i, &key())).is_err());
    }

    #[test]
    fn factories() {
        assert!(run("page", |i| factory(i, &key())).is_ok());
        assert!(run("|b| async move { page(b) }", |i| factory(i, &key())).is_ok());
        assert_eq!(
            error(run("\"text\"", |i| factory(i, &key()))),
            "`k` takes a factory function or closure, e.g. `k = maintenance_page`"
        );
    }

    #[test]
    fn choices() {
        let pick = |source| run(source, |i| choice(i, "algorithm", &["a", "b"]));
        assert_eq!(pick("b").unwrap().to_string(), "b");
        assert_eq!(
            pick("c").unwrap_err(),
            "unknown algorithm `c`; expected one of `a`, `b`"
        );
        assert_eq!(
            pick("\"a\"").unwrap_err(),
            "algorithm is a bare identifier, not a string: expected one of `a`, `b`"
        );
        assert_eq!(
            pick("1").unwrap_err(),
            "expected one of `a`, `b` for algorithm"
        );
    }
}
