//! The grammar of `#[route]` and of each lifecycle attribute. Parsing checks shape only (which
//! keys, which value types, which options); `validate` checks what the values mean.

use crate::args::{self, parse_list, spanned_value, unexpected, Arg, Factory};
use crate::date::{HTTP_DATE_EXAMPLE, RFC3339_EXAMPLE};
use crate::kind::Kind;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::token::{Brace, Paren};
use syn::{
    braced, parenthesized, Attribute, Error, Expr, Ident, LitStr, Meta, Path, Result, Token,
};

const USAGE: &str = "`#[route(METHOD, \"/path\")]`, e.g. `#[route(GET, \"/items/{id}\")]`";
const REASON: &str = "\"DB migration\"";

const ALGORITHMS: &[&str] = &[
    "fixed_window",
    "sliding_window",
    "moving_window",
    "token_bucket",
];
const KEY_STRATEGIES: &[&str] = &["ip", "user", "api_key", "global", "custom(path::to::fn)"];
const ROLLOUT_KEYS: &[&str] = &["user", "ip", "api_key", "custom(path::to::fn)"];
const ON_MISSING_KEY: &[&str] = &["exempt", "fallback_ip", "block"];
const IPS: &str = "\"127.0.0.1\", \"10.0.0.0/8\"";

/// `#[route(METHOD, "/path")]`.
pub(crate) struct RouteArgs {
    pub(crate) method: Ident,
    pub(crate) path: LitStr,
}

impl Parse for RouteArgs {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let method = method(input)?;
        let path = route_path(input, &method)?;
        input.parse::<Option<Token![,]>>()?;
        if !input.is_empty() {
            let message =
                format!("unexpected argument; `#[route]` takes a method and a path: {USAGE}");
            return Err(spanned_value(input, &message));
        }
        Ok(Self { method, path })
    }
}

/// The method, and the comma after it.
fn method(input: ParseStream<'_>) -> Result<Ident> {
    if input.is_empty() {
        let message = format!("`#[route]` needs a method and a path: {USAGE}");
        return Err(Error::new(Span::call_site(), message));
    }
    if input.peek(LitStr) {
        return Err(path_without_method(input));
    }
    if !input.peek(Ident::peek_any) {
        let message = format!("expected an HTTP method such as `GET`: {USAGE}");
        return Err(spanned_value(input, &message));
    }
    let method = input.call(Ident::parse_any)?;
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    Ok(method)
}

fn route_path(input: ParseStream<'_>, method: &Ident) -> Result<LitStr> {
    if input.is_empty() {
        let message =
            format!("missing path after `{method}`: write `#[route({method}, \"/path\")]`");
        return Err(Error::new_spanned(method, message));
    }
    if !input.peek(LitStr) {
        let message = format!("the path is a string literal: {USAGE}");
        return Err(spanned_value(input, &message));
    }
    input.parse()
}

/// `#[route("/x")]` or `#[route("GET", "/x")]`.
fn path_without_method(input: ParseStream<'_>) -> Error {
    let first = match input.parse::<LitStr>() {
        Ok(first) => first,
        Err(error) => return error,
    };
    let message = if input.peek(Token![,]) && input.peek2(LitStr) {
        format!(
            "the HTTP method is a bare identifier: write `{}` without quotes",
            first.value()
        )
    } else {
        format!(
            "missing HTTP method before the path: write `#[route(GET, \"{}\")]`",
            first.value()
        )
    };
    Error::new_spanned(first, message)
}

/// A lifecycle attribute as written.
pub(crate) struct Lifecycle {
    pub(crate) kind: Kind,
    /// The attribute's path, where errors about the whole attribute point.
    pub(crate) path: Path,
    pub(crate) args: Args,
}

pub(crate) enum Args {
    Maintenance(Blocking),
    Disabled(Blocking),
    EnvOnly(EnvOnly),
    DeprecatedRoute(Deprecated),
    RateLimit(Box<RateLimit>),
    Rollout(Rollout),
    FeatureFlag(FeatureFlag),
    ForceActive,
}

/// `#[feature_flag(NEW_CHECKOUT, response = ..)]` or `#[feature_flag("new-checkout")]`.
#[derive(Default)]
pub(crate) struct FeatureFlag {
    pub(crate) flag: Option<FlagRef>,
    pub(crate) response: Option<Expr>,
}

/// The flag a route is served behind.
pub(crate) enum FlagRef {
    /// A static declared with `#[flag]`: its type is checked by rustc.
    Declared(Path),
    /// A key, for flags defined on the server only.
    Key(LitStr),
}

/// `#[maintenance(..)]` and `#[disabled(..)]` (which takes `reason` and `response` only).
#[derive(Default)]
pub(crate) struct Blocking {
    pub(crate) reason: Option<LitStr>,
    pub(crate) start: Option<Keyed>,
    pub(crate) end: Option<Keyed>,
    pub(crate) response: Option<Expr>,
}

/// A string value with its key, for errors that point at the key.
pub(crate) struct Keyed {
    pub(crate) key: Ident,
    pub(crate) value: LitStr,
}

#[derive(Default)]
pub(crate) struct EnvOnly {
    pub(crate) envs: Vec<LitStr>,
    pub(crate) response: Option<Expr>,
}

#[derive(Default)]
pub(crate) struct Deprecated {
    pub(crate) sunset: Option<LitStr>,
    pub(crate) use_instead: Option<LitStr>,
    pub(crate) since: Option<LitStr>,
}

#[derive(Default)]
pub(crate) struct RateLimit {
    pub(crate) limit: Option<Limit>,
    pub(crate) algorithm: Option<Ident>,
    pub(crate) key: Option<KeyStrategy>,
    pub(crate) burst: Option<u32>,
    pub(crate) exempt_ips: Vec<LitStr>,
    pub(crate) exempt_roles: Vec<LitStr>,
    pub(crate) on_missing_key: Option<Ident>,
    pub(crate) response: Option<Expr>,
}

/// `#[rollout(percent = 25, key = .., response = ..)]`.
#[derive(Default)]
pub(crate) struct Rollout {
    pub(crate) percent: Option<u8>,
    /// `None`: the user, else the IP.
    pub(crate) key: Option<KeyStrategy>,
    pub(crate) response: Option<Expr>,
}

pub(crate) enum Limit {
    Single(LitStr),
    Tiers {
        brace: Brace,
        tiers: Vec<(Ident, LitStr)>,
    },
}

/// `key = ..` of `#[rate_limit]`.
pub(crate) enum KeyStrategy {
    Ip,
    User,
    ApiKey,
    Global,
    Custom(Path),
}

/// Parses one of our lifecycle attributes.
pub(crate) fn lifecycle(kind: Kind, attr: &Attribute) -> Result<Lifecycle> {
    let parser = |input: ParseStream<'_>| arguments(kind, input);
    let args = match &attr.meta {
        Meta::Path(_) => parser.parse2(TokenStream::new())?,
        Meta::List(list) => list.parse_args_with(parser)?,
        Meta::NameValue(meta) => {
            let message = format!(
                "`#[{0} = ..]` is not supported; write `#[{0}(..)]`",
                kind.name()
            );
            return Err(Error::new_spanned(meta, message));
        }
    };
    let path = attr.path().clone();
    Ok(Lifecycle { kind, path, args })
}

fn arguments(kind: Kind, input: ParseStream<'_>) -> Result<Args> {
    Ok(match kind {
        Kind::Maintenance => Args::Maintenance(blocking(kind, input)?),
        Kind::Disabled => Args::Disabled(blocking(kind, input)?),
        Kind::EnvOnly => Args::EnvOnly(env_only(input)?),
        Kind::DeprecatedRoute => Args::DeprecatedRoute(deprecated(input)?),
        Kind::RateLimit => Args::RateLimit(Box::new(rate_limit(input)?)),
        Kind::Rollout => Args::Rollout(rollout(input)?),
        Kind::FeatureFlag => Args::FeatureFlag(feature_flag(input)?),
        Kind::ForceActive => {
            parse_list(input, kind, |input, _| Err(unexpected(kind, input)))?;
            Args::ForceActive
        }
    })
}

fn blocking(kind: Kind, input: ParseStream<'_>) -> Result<Blocking> {
    let mut args = Blocking::default();
    parse_list(input, kind, |input, arg| {
        let key = match arg {
            Arg::Positional(0) if input.peek(LitStr) => {
                args.reason = Some(input.parse()?);
                return Ok(());
            }
            Arg::Positional(_) => return Err(unexpected(kind, input)),
            Arg::Named(key) => key,
        };
        match key.to_string().as_str() {
            "reason" if args.reason.is_some() => {
                let message = "duplicate `reason`: the first argument already gave it";
                return Err(Error::new_spanned(key, message));
            }
            "reason" => args.reason = Some(args::string(input, key, REASON)?),
            "start" => args.start = Some(keyed(input, key)?),
            "end" => args.end = Some(keyed(input, key)?),
            _ => args.response = Some(args::factory(input, key, Factory::BLOCKED)?),
        }
        Ok(())
    })?;
    Ok(args)
}

fn keyed(input: ParseStream<'_>, key: &Ident) -> Result<Keyed> {
    let value = args::string(input, key, RFC3339_EXAMPLE)?;
    Ok(Keyed {
        key: key.clone(),
        value,
    })
}

fn env_only(input: ParseStream<'_>) -> Result<EnvOnly> {
    let mut args = EnvOnly::default();
    parse_list(input, Kind::EnvOnly, |input, arg| {
        match arg {
            Arg::Positional(_) if input.peek(LitStr) => args.envs.push(input.parse()?),
            Arg::Positional(_) => {
                let message = "environment names are string literals, e.g. \
                    `#[env_only(\"dev\", \"staging\")]`";
                return Err(spanned_value(input, message));
            }
            Arg::Named(key) => {
                args.response = Some(args::factory(input, key, Factory::BLOCKED)?);
            }
        }
        Ok(())
    })?;
    Ok(args)
}

fn deprecated(input: ParseStream<'_>) -> Result<Deprecated> {
    let mut args = Deprecated::default();
    parse_list(input, Kind::DeprecatedRoute, |input, arg| {
        let Arg::Named(key) = arg else {
            return Err(unexpected(Kind::DeprecatedRoute, input));
        };
        match key.to_string().as_str() {
            "sunset" => args.sunset = Some(args::string(input, key, HTTP_DATE_EXAMPLE)?),
            "use_instead" => args.use_instead = Some(args::string(input, key, "\"/v2/users\"")?),
            _ => args.since = Some(args::string(input, key, RFC3339_EXAMPLE)?),
        }
        Ok(())
    })?;
    Ok(args)
}

fn rate_limit(input: ParseStream<'_>) -> Result<RateLimit> {
    let mut args = RateLimit::default();
    parse_list(input, Kind::RateLimit, |input, arg| {
        let key = match arg {
            Arg::Positional(0) => {
                args.limit = Some(limit(input)?);
                return Ok(());
            }
            Arg::Positional(_) if input.peek(LitStr) || input.peek(Brace) => {
                return Err(second_limit(args.limit.as_ref(), input));
            }
            Arg::Positional(_) => return Err(unexpected(Kind::RateLimit, input)),
            Arg::Named(key) => key,
        };
        rate_limit_value(&mut args, key, input)
    })?;
    Ok(args)
}

fn rollout(input: ParseStream<'_>) -> Result<Rollout> {
    let mut args = Rollout::default();
    parse_list(input, Kind::Rollout, |input, arg| {
        let key = match arg {
            Arg::Positional(_) if input.peek(syn::LitInt) => {
                let value = input.fork().parse::<syn::LitInt>()?;
                let message = format!(
                    "the share is given by key: write `#[rollout(percent = {})]`",
                    value.base10_digits()
                );
                return Err(Error::new_spanned(value, message));
            }
            Arg::Positional(_) => return Err(unexpected(Kind::Rollout, input)),
            Arg::Named(key) => key,
        };
        match key.to_string().as_str() {
            "percent" => args.percent = Some(args::percent(input, key)?),
            "key" => args.key = Some(rollout_key(input)?),
            _ => args.response = Some(args::factory(input, key, Factory::BLOCKED)?),
        }
        Ok(())
    })?;
    Ok(args)
}

fn feature_flag(input: ParseStream<'_>) -> Result<FeatureFlag> {
    let mut args = FeatureFlag::default();
    parse_list(input, Kind::FeatureFlag, |input, arg| match arg {
        Arg::Positional(0) if input.peek(LitStr) => {
            let key: LitStr = input.parse()?;
            args::flag_key(&key)?;
            args.flag = Some(FlagRef::Key(key));
            Ok(())
        }
        Arg::Positional(0) if input.peek(Ident::peek_any) || input.peek(Token![::]) => {
            args.flag = Some(FlagRef::Declared(input.parse()?));
            Ok(())
        }
        Arg::Positional(0) => Err(spanned_value(
            input,
            "the flag is a `BoolFlag` declared with `#[flag]` (`NEW_CHECKOUT`) or its key as a \
             string literal (`\"new-checkout\"`)",
        )),
        Arg::Positional(_) if input.peek(LitStr) || input.peek(Ident::peek_any) => Err(
            spanned_value(input, "a route is served behind one flag; name one"),
        ),
        Arg::Positional(_) => Err(unexpected(Kind::FeatureFlag, input)),
        Arg::Named(key) => {
            args.response = Some(args::factory(input, key, Factory::BLOCKED)?);
            Ok(())
        }
    })?;
    Ok(args)
}

/// `key = ..` of `#[rollout]`: the rate limiter's strategies but `global`, which would put
/// every client in one bucket.
fn rollout_key(input: ParseStream<'_>) -> Result<KeyStrategy> {
    if input.peek(Ident) && input.fork().parse::<Ident>()? == "global" {
        let global: Ident = input.parse()?;
        let message = format!(
            "`key = global` puts every client in one bucket, so a rollout would serve all or \
             none: bucket clients by one of {}",
            crate::error::one_of(ROLLOUT_KEYS)
        );
        return Err(Error::new_spanned(global, message));
    }
    key_strategy(input, ROLLOUT_KEYS)
}

fn rate_limit_value(args: &mut RateLimit, key: &Ident, input: ParseStream<'_>) -> Result<()> {
    match key.to_string().as_str() {
        "algorithm" => args.algorithm = Some(args::choice(input, "algorithm", ALGORITHMS)?),
        "key" => args.key = Some(key_strategy(input, KEY_STRATEGIES)?),
        "burst" => args.burst = Some(args::integer(input, key)?),
        "exempt_ips" => args.exempt_ips = args::strings(input, key, IPS)?,
        "exempt_roles" => args.exempt_roles = args::strings(input, key, "\"admin\"")?,
        "on_missing_key" => {
            let what = "`on_missing_key` behaviour";
            args.on_missing_key = Some(args::choice(input, what, ON_MISSING_KEY)?);
        }
        _ => args.response = Some(args::factory(input, key, Factory::RATE_LIMITED)?),
    }
    Ok(())
}

/// The first argument of `#[rate_limit]`: `"100/minute"` or `{ free = "10/minute", .. }`.
fn limit(input: ParseStream<'_>) -> Result<Limit> {
    if input.peek(LitStr) {
        return input.parse().map(Limit::Single);
    }
    if !input.peek(Brace) {
        let message = "the first argument of `#[rate_limit]` is the limit: a string such as \
            \"100/minute\" or a tier table such as `{ free = \"10/minute\", pro = \"100/minute\" }`";
        return Err(spanned_value(input, message));
    }
    let content;
    let brace = braced!(content in input);
    let mut tiers = Vec::new();
    while !content.is_empty() {
        tiers.push(tier(&content)?);
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(Limit::Tiers { brace, tiers })
}

/// A second limit after the first: `#[rate_limit("1/second", "2/second")]`, or a rate and a
/// tier table. The error sits on the second one and shows the single limit to write instead.
fn second_limit(first: Option<&Limit>, input: ParseStream<'_>) -> Error {
    let second = match limit(input) {
        Ok(second) => second,
        Err(error) => return error,
    };
    let (message, span) = match (first, &second) {
        // `#[rate_limit(key = ip, "1/second")]`: the first argument was an option.
        (None, second) => {
            let (limit, span) = match second {
                Limit::Single(rate) => (rate.to_token_stream().to_string(), rate.span()),
                Limit::Tiers { brace, .. } => ("{ .. }".to_owned(), brace.span.join()),
            };
            let message = format!(
                "the limit comes first: move it before the options, \
                 `#[rate_limit({limit}, ..)]`"
            );
            (message, span)
        }
        (Some(Limit::Single(first)), Limit::Single(second)) => {
            let (first, other) = (first.to_token_stream(), second.to_token_stream());
            let message = format!(
                "`#[rate_limit]` takes one limit, and a route has one rate: remove {other}; \
                 for a different rate per plan, write a tier table such as \
                 `{{ free = {first}, pro = {other} }}`"
            );
            (message, second.span())
        }
        (Some(Limit::Tiers { .. }), Limit::Tiers { brace, .. }) => {
            let message = "`#[rate_limit]` takes one tier table: merge the two into one \
                `{ .. }`, each tier listed once";
            (message.to_owned(), brace.span.join())
        }
        (Some(first), second) => {
            let (rate, tiers, span) = match (first, second) {
                (Limit::Single(rate), Limit::Tiers { tiers, brace }) => {
                    (rate, tiers, brace.span.join())
                }
                (Limit::Tiers { tiers, .. }, Limit::Single(rate)) => (rate, tiers, rate.span()),
                _ => unreachable!("the arms above take two rates and two tables"),
            };
            let message = format!(
                "the limit is a rate or a tier table, not both: move the rate into the table as \
                 its first tier, which requests without a known plan get: `{}`",
                with_first_tier(rate, tiers)
            );
            (message, span)
        }
    };
    Error::new(span, message)
}

/// `{ free = "10/minute", pro = "100/minute" }`: `tiers` with `rate` first, under a name the
/// table does not use yet.
fn with_first_tier(rate: &LitStr, tiers: &[(Ident, LitStr)]) -> String {
    let name = ["free", "default", "basic"]
        .into_iter()
        .find(|name| tiers.iter().all(|(tier, _)| tier != name))
        .unwrap_or("base");
    let rate = rate.to_token_stream();
    let tiers = tiers
        .iter()
        .map(|(tier, limit)| format!(", {tier} = {}", limit.to_token_stream()));
    format!("{{ {name} = {rate}{} }}", tiers.collect::<String>())
}

/// `free = "10/minute"` in a tier table.
fn tier(input: ParseStream<'_>) -> Result<(Ident, LitStr)> {
    if input.peek(LitStr) {
        let name: LitStr = input.parse()?;
        // The rate after `=` or `:`, to show the tier as it should be written.
        let after = input.fork();
        let separated = after.parse::<Token![=]>().is_ok() || after.parse::<Token![:]>().is_ok();
        let rate = separated.then(|| after.parse::<LitStr>().ok()).flatten();
        return Err(quoted_tier_name(&name, rate.as_ref()));
    }
    if !input.peek(Ident::peek_any) {
        let message = "tier names are identifiers, e.g. `{ free = \"10/minute\" }`";
        return Err(spanned_value(input, message));
    }
    let name = input.call(Ident::parse_any)?;
    if !input.peek(Token![=]) || input.peek(Token![==]) {
        let message =
            format!("expected `=` after tier `{name}`: a tier is written `{name} = \"10/minute\"`");
        return Err(if input.is_empty() {
            Error::new_spanned(name, message)
        } else {
            input.error(message)
        });
    }
    input.parse::<Token![=]>()?;
    if !input.peek(LitStr) {
        // `{ free = "10/minute", key = user }`: an option written inside the table.
        if Kind::RateLimit.keys().contains(&name.to_string().as_str()) {
            // The value as written when it is one word (`user`), else `..`.
            let fork = input.fork();
            let value = match (
                fork.call(Ident::parse_any),
                fork.is_empty() || fork.peek(Token![,]),
            ) {
                (Ok(value), true) => value.to_string(),
                _ => "..".to_owned(),
            };
            let message = format!(
                "`{name}` is an option of `#[rate_limit]`, not a tier: close the tier table \
                 before it, `#[rate_limit({{ free = \"10/minute\" }}, {name} = {value})]`"
            );
            return Err(Error::new_spanned(name, message));
        }
        let message = format!("the limit of tier `{name}` is a string such as \"10/minute\"");
        return Err(spanned_value(input, &message));
    }
    Ok((name, input.parse()?))
}

/// `{ "free" = .. }` or `{ "free": .. }`, as in a JSON or Python dictionary.
fn quoted_tier_name(lit: &LitStr, rate: Option<&LitStr>) -> Error {
    let name = lit.value();
    let message = if Ident::parse_any.parse_str(&name).is_ok() {
        let rate = rate.map_or_else(
            || "\"10/minute\"".to_owned(),
            |rate| rate.to_token_stream().to_string(),
        );
        format!("tier names are identifiers, not strings: write `{name} = {rate}`, without quotes")
    } else {
        format!(
            "tier names are identifiers, and \"{name}\" is not one: use letters, digits and \
             `_`, e.g. `{{ free = \"10/minute\", pro_plan = \"100/minute\" }}`"
        )
    };
    Error::new_spanned(lit, message)
}

/// One of `options` (`ip`, `user`, `api_key`, `global`) or `custom(path::to::fn)`.
fn key_strategy(input: ParseStream<'_>, options: &[&str]) -> Result<KeyStrategy> {
    if input.peek(Ident) && input.fork().parse::<Ident>()? == "custom" {
        let custom: Ident = input.parse()?;
        if !input.peek(Paren) {
            let message = "`custom` needs the key function: `key = custom(path::to::fn)`";
            return Err(Error::new_spanned(custom, message));
        }
        let content;
        let paren = parenthesized!(content in input);
        if content.is_empty() {
            let message = "`custom()` needs the key function's path: \
                `key = custom(path::to::fn)`, naming a \
                `fn(&axum::http::request::Parts) -> Option<String>`";
            return Err(Error::new(paren.span.join(), message));
        }
        if content.peek(LitStr) {
            let lit: LitStr = content.parse()?;
            let name = lit.value();
            let message = if content.is_empty() && Path::parse_mod_style.parse_str(&name).is_ok() {
                format!("the key function is a path, not a string: write `custom({name})`")
            } else {
                "the key function is a path, not a string: `custom(path::to::fn)`".to_owned()
            };
            return Err(Error::new_spanned(lit, message));
        }
        let path = content.parse::<Path>().map_err(|_| {
            let message = "`custom(..)` takes the key function's path, e.g. \
                `custom(path::to::fn)`; write the key as a \
                `fn(&axum::http::request::Parts) -> Option<String>` and name it here";
            spanned_value(&content, message)
        })?;
        if !content.is_empty() {
            return Err(content.error("expected the key function's path: `custom(path::to::fn)`"));
        }
        return Ok(KeyStrategy::Custom(path));
    }
    let strategy = args::choice(input, "key strategy", options)?;
    Ok(match strategy.to_string().as_str() {
        "ip" => KeyStrategy::Ip,
        "user" => KeyStrategy::User,
        "api_key" => KeyStrategy::ApiKey,
        _ => KeyStrategy::Global,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn route(source: &str) -> std::result::Result<(String, String), String> {
        let args: RouteArgs = syn::parse_str(source).map_err(|e| e.to_string())?;
        Ok((args.method.to_string(), args.path.value()))
    }

    fn parsed(kind: Kind, attr: Attribute) -> std::result::Result<Args, String> {
        lifecycle(kind, &attr)
            .map(|l| l.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn route_arguments() {
        assert_eq!(route(r#"GET, "/a""#), Ok(("GET".into(), "/a".into())));
        assert_eq!(route(r#"get, "/a","#), Ok(("get".into(), "/a".into())));
        let error = |source| route(source).unwrap_err();
        assert!(error("").starts_with("`#[route]` needs a method and a path"));
        assert_eq!(
            error(r#""/a""#),
            "missing HTTP method before the path: write `#[route(GET, \"/a\")]`"
        );
        assert_eq!(
            error(r#""GET", "/a""#),
            "the HTTP method is a bare identifier: write `GET` without quotes"
        );
        assert_eq!(
            error("GET"),
            "missing path after `GET`: write `#[route(GET, \"/path\")]`"
        );
        assert_eq!(error("GET,"), error("GET"));
        assert!(error("GET, a").starts_with("the path is a string literal"));
        assert!(error(r#"GET, "/a", "/b""#).starts_with("unexpected argument"));
        assert!(error("1, \"/a\"").starts_with("expected an HTTP method"));
    }

    #[test]
    fn blocking_attributes() {
        let Ok(Args::Maintenance(args)) = parsed(
            Kind::Maintenance,
            parse_quote!(#[maintenance("why", start = "a", end = "b", response = |b| page(b))]),
        ) else {
            panic!("expected maintenance");
        };
        assert_eq!(args.reason.unwrap().value(), "why");
        assert_eq!(args.start.unwrap().key, "start");
        assert_eq!(args.end.unwrap().value.value(), "b");
        assert!(args.response.is_some());

        let bare = parsed(Kind::Disabled, parse_quote!(#[disabled]));
        assert!(matches!(
            bare,
            Ok(Args::Disabled(Blocking { reason: None, .. }))
        ));
        assert_eq!(
            parsed(Kind::Disabled, parse_quote!(#[disabled(end = "x")]))
                .err()
                .unwrap(),
            "unknown key `end`; expected one of `reason`, `response`"
        );
        assert_eq!(
            parsed(Kind::Disabled, parse_quote!(#[disabled = "x"]))
                .err()
                .unwrap(),
            "`#[disabled = ..]` is not supported; write `#[disabled(..)]`"
        );
    }

    #[test]
    fn env_only_and_deprecated() {
        let Ok(Args::EnvOnly(args)) = parsed(
            Kind::EnvOnly,
            parse_quote!(#[env_only("dev", "qa", response = f)]),
        ) else {
            panic!("expected env_only");
        };
        assert_eq!(args.envs.len(), 2);
        assert!(parsed(Kind::EnvOnly, parse_quote!(#[env_only(dev)])).is_err());

        let Ok(Args::DeprecatedRoute(args)) = parsed(
            Kind::DeprecatedRoute,
            parse_quote!(#[deprecated_route(sunset = "s", use_instead = "u", since = "n")]),
        ) else {
            panic!("expected deprecated_route");
        };
        assert_eq!(args.sunset.unwrap().value(), "s");
        assert_eq!(args.use_instead.unwrap().value(), "u");
        assert_eq!(args.since.unwrap().value(), "n");
    }

    #[test]
    fn rate_limit_arguments() {
        let Ok(Args::RateLimit(args)) = parsed(
            Kind::RateLimit,
            parse_quote!(#[rate_limit(
                { free = "1/second", pro = "2/second", },
                algorithm = token_bucket,
                key = custom(crate::keys::tenant),
                burst = 3,
                exempt_ips = ["::1"],
                exempt_roles = ["admin"],
                on_missing_key = block,
                response = f,
            )]),
        ) else {
            panic!("expected rate_limit");
        };
        let Some(Limit::Tiers { tiers, .. }) = &args.limit else {
            panic!("expected tiers");
        };
        assert_eq!(tiers.len(), 2);
        assert_eq!(args.algorithm.unwrap(), "token_bucket");
        let Some(KeyStrategy::Custom(path)) = &args.key else {
            panic!("expected a custom key");
        };
        assert_eq!(
            path.to_token_stream().to_string(),
            "crate :: keys :: tenant"
        );
        assert_eq!(args.burst, Some(3));
        assert_eq!(args.exempt_ips.len(), 1);
        assert_eq!(args.exempt_roles.len(), 1);
        assert_eq!(args.on_missing_key.unwrap(), "block");
        assert!(args.response.is_some());
    }

    #[test]
    fn rate_limit_errors() {
        let error = |attr| parsed(Kind::RateLimit, attr).err().unwrap();
        assert_eq!(
            error(parse_quote!(#[rate_limit(key = ip, "1/second")])),
            "the limit comes first: move it before the options, `#[rate_limit(\"1/second\", ..)]`"
        );
        assert!(error(parse_quote!(#[rate_limit(key = ip, 5)])).starts_with("unexpected argument"));
        assert!(error(parse_quote!(#[rate_limit(limit = "1/second")]))
            .contains("the limit comes first"));
        assert_eq!(
            error(parse_quote!(#[rate_limit("1/second", key = custom)])),
            "`custom` needs the key function: `key = custom(path::to::fn)`"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit("1/second", key = custom(a, b))])),
            "expected the key function's path: `custom(path::to::fn)`"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ 1 = "1/second" })])),
            "tier names are identifiers, e.g. `{ free = \"10/minute\" }`"
        );
    }

    #[test]
    fn tier_table_errors() {
        let error = |attr| parsed(Kind::RateLimit, attr).err().unwrap();
        assert_eq!(
            error(parse_quote!(#[rate_limit({ "free" = "1/second" })])),
            "tier names are identifiers, not strings: write `free = \"1/second\"`, without quotes"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ "free": "2/second" })])),
            "tier names are identifiers, not strings: write `free = \"2/second\"`, without quotes"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ "free" })])),
            "tier names are identifiers, not strings: write `free = \"10/minute\"`, without quotes"
        );
        assert!(
            error(parse_quote!(#[rate_limit({ "pro plan": "1/second" })]))
                .starts_with("tier names are identifiers, and \"pro plan\" is not one")
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ free: "1/second" })])),
            "expected `=` after tier `free`: a tier is written `free = \"10/minute\"`"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ free })])),
            "expected `=` after tier `free`: a tier is written `free = \"10/minute\"`"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ free = "1/second", key = user })])),
            "`key` is an option of `#[rate_limit]`, not a tier: close the tier table before it, \
             `#[rate_limit({ free = \"10/minute\" }, key = user)]`"
        );
        assert!(
            error(parse_quote!(#[rate_limit({ free = "1/second", key = custom(f) })]))
                .ends_with("`#[rate_limit({ free = \"10/minute\" }, key = ..)]`")
        );
        // A tier may be named like an option; only a value that is not a rate gives it away.
        let Ok(Args::RateLimit(args)) = parsed(
            Kind::RateLimit,
            parse_quote!(#[rate_limit({ key = "1/second" })]),
        ) else {
            panic!("expected rate_limit");
        };
        assert!(matches!(args.limit, Some(Limit::Tiers { ref tiers, .. }) if tiers[0].0 == "key"));
        assert!(error(parse_quote!(#[rate_limit({ free = 10 })]))
            .starts_with("the limit of tier `free` is a string"));
    }

    #[test]
    fn one_limit_only() {
        let error = |attr| parsed(Kind::RateLimit, attr).err().unwrap();
        assert_eq!(
            error(parse_quote!(#[rate_limit("1/second", "2/second")])),
            "`#[rate_limit]` takes one limit, and a route has one rate: remove \"2/second\"; \
             for a different rate per plan, write a tier table such as \
             `{ free = \"1/second\", pro = \"2/second\" }`"
        );
        let mixed = error(parse_quote!(#[rate_limit("10/minute", { pro = "100/minute" })]));
        assert!(
            mixed.starts_with("the limit is a rate or a tier table, not both"),
            "{mixed}"
        );
        assert!(mixed.ends_with("`{ free = \"10/minute\", pro = \"100/minute\" }`"));
        assert!(
            error(parse_quote!(#[rate_limit("1/day", { free = "2/day", default = "3/day" })]))
                .ends_with("`{ basic = \"1/day\", free = \"2/day\", default = \"3/day\" }`")
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit({ pro = "100/minute" }, "10/minute", key = ip)])),
            mixed
        );
        assert!(
            error(parse_quote!(#[rate_limit({ a = "1/day" }, { b = "1/day" })]))
                .starts_with("`#[rate_limit]` takes one tier table")
        );
        // The second limit is parsed, so its own errors come first.
        assert!(
            error(parse_quote!(#[rate_limit("1/day", { "b" = "1/day" })]))
                .starts_with("tier names are identifiers")
        );
    }

    #[test]
    fn custom_key_errors() {
        let error = |attr| parsed(Kind::RateLimit, attr).err().unwrap();
        assert!(
            error(parse_quote!(#[rate_limit("1/second", key = custom())])).starts_with(
                "`custom()` needs the key function's path: `key = custom(path::to::fn)`"
            )
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit("1/second", key = custom("keys::tenant"))])),
            "the key function is a path, not a string: write `custom(keys::tenant)`"
        );
        assert_eq!(
            error(parse_quote!(#[rate_limit("1/second", key = custom("a b"))])),
            "the key function is a path, not a string: `custom(path::to::fn)`"
        );
        assert!(
            error(parse_quote!(#[rate_limit("1/second", key = custom(|p| None))]))
                .starts_with("`custom(..)` takes the key function's path")
        );
    }
}
