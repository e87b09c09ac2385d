//! The `key = value, ..` argument grammar the lifecycle attributes share, and its value parsers.
//! Every error names the attribute or key and shows the expected form.

use crate::error::{did_you_mean, one_of};
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
    let keys = kind.keys();
    let suggestion = did_you_mean(&key.to_string(), keys);
    let mut message = match keys {
        [] => return no_arguments(kind, key),
        [only] => format!("unknown key `{key}`; {suggestion}expected `{only}`"),
        keys => format!(
            "unknown key `{key}`; {suggestion}expected one of {}",
            one_of(keys)
        ),
    };
    // A near miss is a typo; otherwise the user may have meant the positional argument.
    if let (Some(positional), true) = (kind.positional(), suggestion.is_empty()) {
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

/// What a `response = ..` factory is called with, for examples in errors.
#[derive(Clone, Copy)]
pub(crate) struct Factory {
    /// The argument's type, as users write it.
    pub(crate) argument: &'static str,
    /// A function name for examples.
    pub(crate) example: &'static str,
}

impl Factory {
    /// The factories of the blocking attributes.
    pub(crate) const BLOCKED: Self = Self {
        argument: "waygate::Blocked",
        example: "maintenance_page",
    };
    /// The factory of `#[rate_limit]`.
    pub(crate) const RATE_LIMITED: Self = Self {
        argument: "waygate::RateLimited",
        example: "too_many",
    };
}

/// `response = factory`: a path or a closure (anything callable; rustc checks the signature).
pub(crate) fn factory(input: ParseStream<'_>, key: &Ident, factory: Factory) -> Result<Expr> {
    let Factory { argument, example } = factory;
    match input.parse()? {
        // A fixed body: the closure that returns it is the fix.
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => {
            let text = text.to_token_stream();
            let message = format!(
                "`{key}` takes a factory, not a response: to answer with this text, write \
                 `{key} = |_: {argument}| {text}`, or name a function that takes a `{argument}`, \
                 e.g. `{key} = {example}`"
            );
            Err(Error::new_spanned(text, message))
        }
        Expr::Lit(lit) => Err(Error::new_spanned(
            lit,
            format!(
                "`{key}` takes a factory function or closure that takes a `{argument}`, \
                 e.g. `{key} = {example}`"
            ),
        )),
        expr => Ok(expr),
    }
}

/// `key = ["a", "b"]`.
pub(crate) fn strings(input: ParseStream<'_>, key: &Ident, example: &str) -> Result<Vec<LitStr>> {
    let message = format!("`{key}` takes a list of string literals, e.g. `{key} = [{example}]`");
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let one = lit.to_token_stream();
        let message =
            format!("`{key}` takes a list, even of one entry: write `{key} = [{one}]` in brackets");
        return Err(Error::new_spanned(lit, message));
    }
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
            // `[admin]`: the quotes are missing.
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let name = path.to_token_stream();
                let message = format!(
                    "the entries of `{key}` are string literals: write `\"{name}\"` in quotes"
                );
                Err(Error::new_spanned(path, message))
            }
            other => Err(Error::new_spanned(other, &message)),
        })
        .collect()
}

/// `key = option`, one bare identifier out of `options`; `what` names it in errors.
pub(crate) fn choice(input: ParseStream<'_>, what: &str, options: &[&str]) -> Result<Ident> {
    let expected = format!("expected one of {}", one_of(options));
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let value = lit.value();
        let message = if options.contains(&value.as_str()) {
            format!("{what} is a bare identifier, not a string: write `{value}` without quotes")
        } else {
            format!("{what} is a bare identifier, not a string: {expected}")
        };
        return Err(Error::new_spanned(lit, message));
    }
    if !input.peek(Ident::peek_any) {
        return Err(spanned_value(input, &format!("{expected} for {what}")));
    }
    let ident = input.call(Ident::parse_any)?;
    let name = ident.to_string();
    if options.contains(&name.as_str()) {
        Ok(ident)
    } else {
        let suggestion = did_you_mean(&name, options);
        let message = format!("unknown {what} `{ident}`; {suggestion}{expected}");
        Err(Error::new_spanned(ident, message))
    }
}

/// `key = 10`, an integer that fits in `u32`.
pub(crate) fn integer(input: ParseStream<'_>, key: &Ident) -> Result<u32> {
    let whole = format!("a whole number from 0 to {}, e.g. `{key} = 10`", u32::MAX);
    let range = format!("`{key}` takes {whole}");
    if input.peek(Token![-]) && input.peek2(LitInt) {
        let message = format!("`{key}` cannot be negative: it takes {whole}");
        return Err(spanned_value(input, &message));
    }
    if !input.peek(LitInt) {
        return Err(spanned_value(input, &range));
    }
    let lit: LitInt = input.parse()?;
    let value = lit.base10_parse::<u32>();
    match (lit.suffix(), value) {
        ("", Ok(value)) => Ok(value),
        ("", Err(_)) => {
            let message = format!("`{key}` is too large: it takes {whole}");
            Err(Error::new_spanned(lit, message))
        }
        (suffix, Ok(value)) => {
            let message = format!("write `{key} = {value}`, without the `{suffix}` suffix");
            Err(Error::new_spanned(lit, message))
        }
        (_, Err(_)) => Err(Error::new_spanned(lit, range)),
    }
}

/// `percent = 25`: a whole percentage, 0 to 100.
pub(crate) fn percent(input: ParseStream<'_>, key: &Ident) -> Result<u8> {
    let whole = format!("a whole number from 0 to 100, e.g. `{key} = 25`");
    if input.peek(Token![-]) && input.peek2(LitInt) {
        let message = format!("`{key}` cannot be negative: it takes {whole}");
        return Err(spanned_value(input, &message));
    }
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let text = lit.value();
        let number = text.trim().trim_end_matches('%').trim();
        let message = match number.parse::<u8>() {
            Ok(value) if value <= 100 => {
                format!("`{key}` takes a number, not a string: write `{key} = {value}`")
            }
            _ => format!("`{key}` takes a number, not a string: {whole}"),
        };
        return Err(Error::new_spanned(lit, message));
    }
    if input.peek(syn::LitFloat) {
        let lit: syn::LitFloat = input.parse()?;
        let message =
            format!("`{key}` takes {whole}: a rollout moves in steps of one percent, not {lit}");
        return Err(Error::new_spanned(lit, message));
    }
    if !input.peek(LitInt) {
        let message = format!("`{key}` takes {whole}");
        return Err(spanned_value(input, &message));
    }
    let lit: LitInt = input.parse()?;
    let value = match (lit.suffix(), lit.base10_parse::<u64>()) {
        ("", Ok(value)) => value,
        (suffix, Ok(value)) => {
            let message = format!("write `{key} = {value}`, without the `{suffix}` suffix");
            return Err(Error::new_spanned(lit, message));
        }
        (_, Err(_)) => u64::MAX,
    };
    if value > 100 {
        let message =
            format!("`{key}` is a share of clients, at most 100 (everyone): it takes {whole}");
        return Err(Error::new_spanned(lit, message));
    }
    if input.peek(Token![%]) {
        let percent: Token![%] = input.parse()?;
        let message = format!("write `{key} = {value}`, without `%`");
        return Err(Error::new_spanned(percent, message));
    }
    Ok(value as u8)
}

/// The store's rule for flag keys: not empty, at most 256 bytes, no `/`, spaces or control
/// characters (what `#[flag]` and `#[feature_flag("..")]` check).
pub(crate) fn flag_key(key: &LitStr) -> Result<()> {
    let text = key.value();
    let message = if text.is_empty() {
        "a flag key cannot be empty".to_owned()
    } else if text.len() > MAX_FLAG_KEY {
        format!("a flag key is at most {MAX_FLAG_KEY} bytes")
    } else if text
        .chars()
        .any(|c| c == '/' || c.is_whitespace() || c.is_control())
    {
        format!("flag key {text:?} may not hold `/`, spaces or control characters")
    } else {
        return Ok(());
    };
    Err(Error::new(key.span(), message))
}

/// The longest flag key the store takes (waygate-core's `MAX_KEY`).
const MAX_FLAG_KEY: usize = 256;

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
            "unknown key `reson`; did you mean `reason`? expected one of `reason`, `start`, \
             `end`, `response`"
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
        let range = "`k` takes a whole number from 0 to 4294967295, e.g. `k = 10`";
        let integer_error = |source| error(run(source, |i| integer(i, &key())));
        assert_eq!(integer_error("1.5"), range);
        assert_eq!(integer_error("\"10\""), range);
        assert_eq!(
            integer_error("-1"),
            "`k` cannot be negative: it takes a whole number from 0 to 4294967295, e.g. `k = 10`"
        );
        assert_eq!(
            integer_error("4294967296"),
            "`k` is too large: it takes a whole number from 0 to 4294967295, e.g. `k = 10`"
        );
        assert_eq!(run("4294967295", |i| integer(i, &key())).unwrap(), u32::MAX);
        assert_eq!(
            integer_error("0x10u8"),
            "write `k = 16`, without the `u8` suffix"
        );
        assert_eq!(integer_error("5000000000u64"), range);
    }

    #[test]
    fn factories() {
        let blocked = |source| run(source, |i| factory(i, &key(), Factory::BLOCKED));
        assert!(blocked("page").is_ok());
        assert!(blocked("|b| async move { page(b) }").is_ok());
        assert_eq!(
            error(blocked("\"text\"")),
            "`k` takes a factory, not a response: to answer with this text, write \
             `k = |_: waygate::Blocked| \"text\"`, or name a function that takes a \
             `waygate::Blocked`, e.g. `k = maintenance_page`"
        );
        let limited = |source| run(source, |i| factory(i, &key(), Factory::RATE_LIMITED));
        assert_eq!(
            error(limited("429")),
            "`k` takes a factory function or closure that takes a `waygate::RateLimited`, \
             e.g. `k = too_many`"
        );
        assert!(error(limited("\"slow down\""))
            .contains("write `k = |_: waygate::RateLimited| \"slow down\"`"));
    }

    #[test]
    fn lists_say_how_to_write_them() {
        let roles = |source| run(source, |i| strings(i, &key(), "\"admin\""));
        assert_eq!(
            error(roles("\"admin\"")),
            "`k` takes a list, even of one entry: write `k = [\"admin\"]` in brackets"
        );
        assert_eq!(
            error(roles("[\"ops\", admin]")),
            "the entries of `k` are string literals: write `\"admin\"` in quotes"
        );
        assert_eq!(
            error(roles("[1]")),
            "`k` takes a list of string literals, e.g. `k = [\"admin\"]`"
        );
        assert_eq!(
            error(roles("admin")),
            "`k` takes a list of string literals, e.g. `k = [\"admin\"]`"
        );
    }

    #[test]
    fn unknown_keys_suggest_the_near_miss() {
        let unknown = |kind, source| {
            run(source, |input: ParseStream<'_>| {
                parse_list(input, kind, |_, _| Ok(()))
            })
            .unwrap_err()
        };
        assert_eq!(
            unknown(Kind::RateLimit, "algoritm = token_bucket"),
            "unknown key `algoritm`; did you mean `algorithm`? expected one of `algorithm`, \
             `key`, `burst`, `exempt_ips`, `exempt_roles`, `on_missing_key`, `response`"
        );
        assert!(unknown(Kind::RateLimit, "rate = \"1/second\"").ends_with(
            "(the limit comes first: `#[rate_limit(\"100/minute\", ..)]` or \
                 `#[rate_limit({ free = \"10/minute\", pro = \"100/minute\" }, ..)]`)"
        ));
        assert_eq!(
            unknown(Kind::Disabled, "reson = \"x\""),
            "unknown key `reson`; did you mean `reason`? expected one of `reason`, `response`"
        );
        assert_eq!(
            unknown(Kind::EnvOnly, "respone = f"),
            "unknown key `respone`; did you mean `response`? expected `response`"
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
            pick("\"c\"").unwrap_err(),
            "algorithm is a bare identifier, not a string: expected one of `a`, `b`"
        );
        assert_eq!(
            pick("\"a\"").unwrap_err(),
            "algorithm is a bare identifier, not a string: write `a` without quotes"
        );
        assert_eq!(
            pick("1").unwrap_err(),
            "expected one of `a`, `b` for algorithm"
        );
        let behaviour = |source| run(source, |i| choice(i, "`k` behaviour", &["exempt", "block"]));
        assert_eq!(
            behaviour("\"block\"").unwrap_err(),
            "`k` behaviour is a bare identifier, not a string: write `block` without quotes"
        );
        assert_eq!(
            behaviour("blok").unwrap_err(),
            "unknown `k` behaviour `blok`; did you mean `block`? expected one of `exempt`, `block`"
        );
    }
}
