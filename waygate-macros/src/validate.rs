//! What the attributes mean: checks the values (method, path, dates, environments, rates, IPs)
//! and the combination of attributes, and turns them into the [`Route`] that `expand` emits.

use crate::date::{self, HTTP_DATE_EXAMPLE, RFC3339_EXAMPLE};
use crate::error::{both, one_of, Errors};
use crate::kind::Kind;
use crate::parse::{self, Args, Deprecated, KeyStrategy, Keyed, Lifecycle, Limit, RouteArgs};
use crate::{path, rate};
use std::net::IpAddr;
use syn::{Error, Expr, Ident, ItemFn, LitStr, Path, Result};

const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

/// A checked route: everything `expand` needs.
#[derive(Default)]
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: Status,
    /// The blocking attribute's `response = ..` factory.
    pub(crate) response: Option<Expr>,
    pub(crate) force_active: bool,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) rollout: Option<Rollout>,
    pub(crate) feature_flag: Option<FeatureFlag>,
}

/// `#[feature_flag]`, checked.
pub(crate) struct FeatureFlag {
    pub(crate) flag: parse::FlagRef,
    pub(crate) response: Option<Expr>,
}

/// `#[rollout]`, checked.
pub(crate) struct Rollout {
    pub(crate) percent: u8,
    /// `None`: the user, else the IP.
    pub(crate) key: Option<KeyStrategy>,
    pub(crate) response: Option<Expr>,
}

#[derive(Default)]
pub(crate) enum Status {
    #[default]
    Active,
    Maintenance {
        reason: String,
        window: Option<(i64, i64)>,
    },
    Disabled {
        reason: String,
    },
    EnvOnly {
        envs: Vec<String>,
    },
    Deprecated {
        sunset: Option<String>,
        use_instead: Option<String>,
        since: Option<i64>,
    },
}

pub(crate) struct RateLimit {
    pub(crate) limit: RateLimits,
    pub(crate) algorithm: Option<String>,
    pub(crate) key: KeyStrategy,
    pub(crate) burst: u32,
    pub(crate) exempt_ips: Vec<String>,
    pub(crate) exempt_roles: Vec<String>,
    pub(crate) on_missing_key: Option<String>,
    pub(crate) response: Option<Expr>,
}

pub(crate) enum RateLimits {
    Single(String),
    Tiers(Vec<(String, String)>),
}

/// `#[route]` goes on free, non-generic functions only: the companion struct takes the
/// function's name at module level, and `routes![..]` needs a concrete handler.
pub(crate) fn free_fn(func: &ItemFn) -> Result<()> {
    const ONLY: &str = "`#[route]` works on free, non-generic functions only";
    if let Some(receiver) = func.sig.receiver() {
        let message = format!(
            "{ONLY}; this is a method: move the handler out of the `impl` block and take the \
             value it needs as an extractor (e.g. `State<AppState>`)"
        );
        return Err(Error::new_spanned(receiver, message));
    }
    let generics = &func.sig.generics;
    let message = format!("{ONLY}; remove the generic parameters and use concrete types");
    if !generics.params.is_empty() {
        return Err(Error::new_spanned(generics, message));
    }
    match &generics.where_clause {
        Some(where_clause) => Err(Error::new_spanned(where_clause, message)),
        None => Ok(()),
    }
}

/// Checks the route and its lifecycle attributes together.
pub(crate) fn route(args: &RouteArgs, attrs: Vec<Lifecycle>) -> Result<Route> {
    let mut errors = Errors::default();
    let mut route = Route::default();
    if let Some(method) = errors.take(method(&args.method)) {
        route.method = method;
    }
    if let Some(path) = errors.take(route_path(&args.path)) {
        route.path = path;
    }
    errors.take(conflicts(&attrs));
    for attr in attrs {
        errors.take(apply(&mut route, attr));
    }
    errors.finish()?;
    Ok(route)
}

fn method(method: &Ident) -> Result<String> {
    let name = method.to_string();
    if METHODS.contains(&name.as_str()) {
        return Ok(name);
    }
    let upper = name.to_ascii_uppercase();
    let message = if METHODS.contains(&upper.as_str()) {
        format!("HTTP methods are upper case: write `{upper}`, not `{name}`")
    } else {
        format!(
            "unknown HTTP method `{name}`; expected one of {}",
            one_of(&METHODS)
        )
    };
    Err(Error::new_spanned(method, message))
}

fn route_path(lit: &LitStr) -> Result<String> {
    let path = lit.value();
    match path::check(&path) {
        Ok(()) => Ok(path),
        Err(message) => Err(Error::new_spanned(lit, message)),
    }
}

/// At most one status attribute, no repeated attribute, and `force_active` alone. Errors sit on
/// the later attribute in [`Kind`] order, so they do not depend on the order of the attributes.
fn conflicts(attrs: &[Lifecycle]) -> Result<()> {
    let mut sorted: Vec<&Lifecycle> = attrs.iter().collect();
    sorted.sort_by_key(|attr| attr.kind);
    let mut errors = Errors::default();
    for (index, later) in sorted.iter().enumerate() {
        let clash = sorted[..index]
            .iter()
            .find(|earlier| earlier.kind == later.kind || earlier.kind.conflicts_with(later.kind));
        if let Some(earlier) = clash {
            errors.push(conflict(earlier.kind, later));
        }
    }
    errors.finish()
}

fn conflict(earlier: Kind, later: &Lifecycle) -> Error {
    let (earlier, name) = (earlier.name(), later.kind.name());
    let message = if earlier == name {
        format!("duplicate `#[{name}]`: a route takes it once; merge the two into one attribute")
    } else if later.kind == Kind::ForceActive && earlier == "feature_flag" {
        "`#[force_active]` conflicts with `#[feature_flag]`: a force-active route is served to \
         every request; remove one of them"
            .to_owned()
    } else if later.kind == Kind::ForceActive && earlier == "rollout" {
        "`#[force_active]` conflicts with `#[rollout]`: a force-active route is served to every \
         client; remove one of them"
            .to_owned()
    } else if later.kind == Kind::ForceActive {
        format!(
            "`#[force_active]` conflicts with `#[{earlier}]`: a force-active route is never \
             blocked or rate limited; remove one of them"
        )
    } else {
        format!(
            "`#[{name}]` conflicts with `#[{earlier}]`: a route starts in one state; keep one of \
             `#[maintenance]`, `#[disabled]`, `#[env_only]`, `#[deprecated_route]`"
        )
    };
    Error::new_spanned(&later.path, message)
}

fn apply(route: &mut Route, attr: Lifecycle) -> Result<()> {
    match attr.args {
        Args::Maintenance(args) => {
            let window = window(args.start.as_ref(), args.end.as_ref())?;
            let reason = reason(args.reason.as_ref());
            route.status = Status::Maintenance { reason, window };
            route.response = args.response;
        }
        Args::Disabled(args) => {
            let reason = reason(args.reason.as_ref());
            route.status = Status::Disabled { reason };
            route.response = args.response;
        }
        Args::EnvOnly(args) => {
            let envs = envs(&attr.path, &args.envs)?;
            route.status = Status::EnvOnly { envs };
            route.response = args.response;
        }
        Args::DeprecatedRoute(args) => route.status = deprecated(&args)?,
        Args::RateLimit(args) => route.rate_limit = Some(rate_limit(&attr.path, *args)?),
        Args::Rollout(args) => route.rollout = Some(rollout(&attr.path, args)?),
        Args::FeatureFlag(args) => {
            let Some(flag) = args.flag else {
                let message = "`#[feature_flag]` needs the flag the route is served behind: \
                    `#[feature_flag(NEW_CHECKOUT)]` (a `BoolFlag` declared with `#[flag]`) or \
                    `#[feature_flag(\"new-checkout\")]`";
                return Err(Error::new_spanned(&attr.path, message));
            };
            route.feature_flag = Some(FeatureFlag {
                flag,
                response: args.response,
            });
        }
        Args::ForceActive => route.force_active = true,
    }
    Ok(())
}

fn rollout(path: &Path, args: parse::Rollout) -> Result<Rollout> {
    let Some(percent) = args.percent else {
        let message = "`#[rollout]` needs the share of clients to serve: \
            `#[rollout(percent = 25)]`, a whole number from 0 to 100";
        return Err(Error::new_spanned(path, message));
    };
    Ok(Rollout {
        percent,
        key: args.key,
        response: args.response,
    })
}

fn reason(reason: Option<&LitStr>) -> String {
    reason.map(LitStr::value).unwrap_or_default()
}

/// A maintenance window: both ends or neither, RFC 3339, `start` before `end`.
fn window(start: Option<&Keyed>, end: Option<&Keyed>) -> Result<Option<(i64, i64)>> {
    let example = format!("e.g. `start = {RFC3339_EXAMPLE}, end = \"2026-12-01T04:00:00Z\"`");
    let (start, end) = match (start, end) {
        (None, None) => return Ok(None),
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => {
            let message =
                format!("`start` needs an `end`: a maintenance window has both, {example}");
            return Err(Error::new_spanned(&start.key, message));
        }
        (None, Some(end)) => {
            let message =
                format!("`end` needs a `start`: a maintenance window has both, {example}");
            return Err(Error::new_spanned(&end.key, message));
        }
    };
    match both(rfc3339(&start.value, "start"), rfc3339(&end.value, "end"))? {
        (from, until) if from < until => Ok(Some((from, until))),
        _ => {
            let message = format!(
                "the maintenance window is empty: `end` ({}) must be after `start` ({})",
                end.value.value(),
                start.value.value()
            );
            Err(Error::new_spanned(&end.value, message))
        }
    }
}

fn rfc3339(lit: &LitStr, key: &str) -> Result<i64> {
    let value = lit.value();
    date::rfc3339(&value).map_err(|error| {
        let message = format!(
            "invalid `{key}` \"{value}\" ({error}): expected an RFC 3339 timestamp such as \
             {RFC3339_EXAMPLE} or \"2026-12-01T02:00:00+01:00\""
        );
        Error::new_spanned(lit, message)
    })
}

fn deprecated(args: &Deprecated) -> Result<Status> {
    let mut errors = Errors::default();
    if let Some(sunset) = &args.sunset {
        errors.take(sunset_date(sunset));
    }
    if let Some(use_instead) = &args.use_instead {
        errors.take(successor(use_instead));
    }
    let since = args
        .since
        .as_ref()
        .and_then(|since| errors.take(since_date(since)));
    errors.finish()?;
    Ok(Status::Deprecated {
        sunset: args.sunset.as_ref().map(LitStr::value),
        use_instead: args.use_instead.as_ref().map(LitStr::value),
        since,
    })
}

fn sunset_date(lit: &LitStr) -> Result<()> {
    let value = lit.value();
    date::http_date(&value).map(drop).map_err(|fix| {
        let fix =
            fix.unwrap_or_else(|| format!("expected an HTTP-date such as {HTTP_DATE_EXAMPLE}"));
        Error::new_spanned(lit, format!("invalid `sunset` \"{value}\": {fix}"))
    })
}

fn since_date(lit: &LitStr) -> Result<i64> {
    let value = lit.value();
    let fix = match date::rfc3339(&value).or_else(|_| date::http_date(&value)) {
        Ok(seconds) => return Ok(seconds),
        Err(fix) => fix.unwrap_or_else(|| {
            format!(
                "expected an RFC 3339 timestamp such as {RFC3339_EXAMPLE} or an HTTP-date such \
                 as {HTTP_DATE_EXAMPLE}"
            )
        }),
    };
    Err(Error::new_spanned(
        lit,
        format!("invalid `since` \"{value}\": {fix}"),
    ))
}

/// `use_instead` ends up in a `Link: <..>` header: a path or an absolute URL, no spaces.
fn successor(lit: &LitStr) -> Result<()> {
    let value = lit.value();
    let shaped = ["/", "http://", "https://"]
        .iter()
        .any(|prefix| value.starts_with(prefix));
    let clean = !value.contains(|c: char| c.is_whitespace() || c == '<' || c == '>');
    if shaped && clean {
        return Ok(());
    }
    let message = format!(
        "invalid `use_instead` \"{value}\": expected the successor's path such as \"/v2/users\" \
         or an absolute URL, without spaces or `<>`"
    );
    Err(Error::new_spanned(lit, message))
}

fn envs(path: &Path, envs: &[LitStr]) -> Result<Vec<String>> {
    if envs.is_empty() {
        let message = "`#[env_only]` needs at least one environment, e.g. \
            `#[env_only(\"dev\", \"staging\")]`";
        return Err(Error::new_spanned(path, message));
    }
    let mut errors = Errors::default();
    let mut names: Vec<String> = Vec::new();
    for lit in envs {
        let name = lit.value();
        if let Some(problem) = env_problem(&name, &names) {
            errors.push(Error::new_spanned(lit, problem));
        }
        names.push(name);
    }
    errors.finish()?;
    Ok(names)
}

fn env_problem(name: &str, before: &[String]) -> Option<String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() {
        Some("empty environment name; write a name such as \"staging\"".to_owned())
    } else if !name.chars().all(valid) {
        Some(format!(
            "invalid environment name \"{name}\": use ASCII letters, digits, `-`, `_` or `.`, \
             e.g. \"staging\""
        ))
    } else if before.iter().any(|seen| seen == name) {
        Some(format!("duplicate environment \"{name}\"; list it once"))
    } else {
        None
    }
}

fn rate_limit(path: &Path, args: parse::RateLimit) -> Result<RateLimit> {
    let limit = match &args.limit {
        Some(limit) => limits(limit),
        None => {
            let message = "`#[rate_limit]` needs a limit as its first argument: a rate such as \
                `#[rate_limit(\"100/minute\")]` or a tier table such as \
                `#[rate_limit({ free = \"10/minute\", pro = \"100/minute\" })]`";
            Err(Error::new_spanned(path, message))
        }
    };
    let exempt = both(
        checked(&args.exempt_ips, ip),
        checked(&args.exempt_roles, role),
    );
    let (limit, (exempt_ips, exempt_roles)) = both(limit, exempt)?;
    let key = args.key.unwrap_or(match limit {
        RateLimits::Tiers(_) => KeyStrategy::User,
        RateLimits::Single(_) => KeyStrategy::Ip,
    });
    Ok(RateLimit {
        limit,
        algorithm: args.algorithm.as_ref().map(Ident::to_string),
        key,
        burst: args.burst.unwrap_or(0),
        exempt_ips,
        exempt_roles,
        on_missing_key: args.on_missing_key.as_ref().map(Ident::to_string),
        response: args.response,
    })
}

/// Checks each literal with `check`; returns the values, or every error.
fn checked(
    lits: &[LitStr],
    check: fn(&str) -> std::result::Result<(), String>,
) -> Result<Vec<String>> {
    let mut errors = Errors::default();
    for lit in lits {
        let result = check(&lit.value()).map_err(|message| Error::new_spanned(lit, message));
        errors.take(result);
    }
    errors.finish()?;
    Ok(lits.iter().map(LitStr::value).collect())
}

fn limits(limit: &Limit) -> Result<RateLimits> {
    match limit {
        Limit::Single(lit) => Ok(RateLimits::Single(rate_string(lit)?)),
        Limit::Tiers { brace, tiers } => {
            if tiers.is_empty() {
                let message = "empty tier table: give at least one tier, e.g. \
                    `{ free = \"10/minute\", pro = \"100/minute\" }`";
                return Err(Error::new(brace.span.join(), message));
            }
            let mut errors = Errors::default();
            let mut checked = Vec::new();
            for (index, (name, lit)) in tiers.iter().enumerate() {
                if tiers[..index].iter().any(|(earlier, _)| earlier == name) {
                    let message = format!("duplicate tier `{name}`; each tier is listed once");
                    errors.push(Error::new_spanned(name, message));
                }
                if let Some(rate) = errors.take(rate_string(lit)) {
                    checked.push((name.to_string(), rate));
                }
            }
            errors.finish()?;
            Ok(RateLimits::Tiers(checked))
        }
    }
}

/// A valid rate string, trimmed.
fn rate_string(lit: &LitStr) -> Result<String> {
    let value = lit.value();
    match rate::check(&value) {
        Ok(()) => Ok(value.trim().to_owned()),
        Err(problem) => {
            let message = format!("invalid rate \"{value}\": {problem}");
            Err(Error::new_spanned(lit, message))
        }
    }
}

/// An IPv4/IPv6 address or CIDR block.
fn ip(value: &str) -> std::result::Result<(), String> {
    let expected = "expected an IPv4 or IPv6 address or CIDR block such as \"127.0.0.1\", \
        \"10.0.0.0/8\", \"::1\" or \"fd00::/8\"";
    let (address, prefix) = match value.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (value, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return Err(format!(
            "invalid IP address \"{value}\" in `exempt_ips`; {expected}"
        ));
    };
    let Some(prefix) = prefix else {
        return Ok(());
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    match prefix.parse::<u8>() {
        Ok(bits) if bits <= max && prefix.chars().all(|c| c.is_ascii_digit()) => Ok(()),
        _ => Err(format!(
            "invalid CIDR block \"{value}\" in `exempt_ips`: the prefix length must be 0 to \
             {max}; {expected}"
        )),
    }
}

fn role(value: &str) -> std::result::Result<(), String> {
    if value.trim().is_empty() {
        Err("empty role in `exempt_roles`; write a role name such as \"admin\"".to_owned())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn attr(kind: Kind, attr: syn::Attribute) -> Lifecycle {
        parse::lifecycle(kind, &attr).unwrap_or_else(|e| panic!("{e}"))
    }

    fn messages(result: Result<Route>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn get() -> RouteArgs {
        parse_quote!(GET, "/a")
    }

    #[test]
    fn methods_and_paths() {
        let check = |args: RouteArgs| messages(route(&args, Vec::new()));
        assert!(check(get()).is_empty());
        assert!(check(parse_quote!(CONNECT, "/a")).is_empty());
        assert_eq!(
            check(parse_quote!(post, "/a")),
            ["HTTP methods are upper case: write `POST`, not `post`"]
        );
        assert_eq!(check(parse_quote!(get, "a")).len(), 2);
    }

    #[test]
    fn conflicts_do_not_depend_on_order() {
        let maintenance = || attr(Kind::Maintenance, parse_quote!(#[maintenance]));
        let disabled = || attr(Kind::Disabled, parse_quote!(#[disabled]));
        let one = messages(route(&get(), vec![maintenance(), disabled()]));
        let other = messages(route(&get(), vec![disabled(), maintenance()]));
        assert_eq!(one, other);
        assert_eq!(one.len(), 1);
        assert!(one[0].starts_with("`#[disabled]` conflicts with `#[maintenance]`"));
    }

    #[test]
    fn one_error_per_extra_attribute() {
        let force = || attr(Kind::ForceActive, parse_quote!(#[force_active]));
        let limit = attr(Kind::RateLimit, parse_quote!(#[rate_limit("1/second")]));
        let errors = messages(route(&get(), vec![force(), limit, force()]));
        assert_eq!(
            errors,
            [
                "`#[force_active]` conflicts with `#[rate_limit]`: a force-active route is never \
                 blocked or rate limited; remove one of them",
                "`#[force_active]` conflicts with `#[rate_limit]`: a force-active route is never \
                 blocked or rate limited; remove one of them",
            ]
        );
        let stacked = vec![
            attr(Kind::RateLimit, parse_quote!(#[rate_limit("1/second")])),
            attr(Kind::DeprecatedRoute, parse_quote!(#[deprecated_route])),
        ];
        assert!(messages(route(&get(), stacked)).is_empty());
    }

    #[test]
    fn maintenance_window() {
        let route_with = |attribute| route(&get(), vec![attr(Kind::Maintenance, attribute)]);
        let ok = route_with(parse_quote!(#[maintenance(
            reason = "r",
            start = "2026-12-01T02:00:00Z",
            end = "2026-12-01T04:40:00+02:00",
        )]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            ok.status,
            Status::Maintenance { ref reason, window: Some((1_796_090_400, 1_796_092_800)) }
                if reason == "r"
        ));
        let empty = route_with(parse_quote!(#[maintenance(
            start = "2026-12-01T02:00:00Z",
            end = "2026-12-01T04:00:00+02:00",
        )]));
        assert!(messages(empty)[0].starts_with("the maintenance window is empty"));
    }

    #[test]
    fn environments() {
        let path: Path = parse_quote!(env_only);
        let names = |names: &[&str]| {
            let lits: Vec<LitStr> = names.iter().map(|name| parse_quote!(#name)).collect();
            envs(&path, &lits)
        };
        assert_eq!(
            names(&["dev", "qa-1", "eu_west.2"]).unwrap(),
            ["dev", "qa-1", "eu_west.2"]
        );
        assert!(names(&[]).is_err());
        assert_eq!(
            names(&["", "a b", "dev", "dev"])
                .unwrap_err()
                .into_iter()
                .count(),
            3
        );
    }

    #[test]
    fn ip_addresses() {
        for valid in [
            "127.0.0.1",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "::1",
            "fd00::/8",
            "::/128",
        ] {
            assert_eq!(ip(valid), Ok(()), "{valid}");
        }
        for invalid in [
            "localhost",
            "10.0.0.256",
            "10.0.0.0/33",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/+8",
        ] {
            assert!(ip(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn rate_limit_defaults() {
        let limit_of = |attribute| {
            let route = route(&get(), vec![attr(Kind::RateLimit, attribute)]);
            route.unwrap_or_else(|e| panic!("{e}")).rate_limit.unwrap()
        };
        let single = limit_of(parse_quote!(#[rate_limit(" 1/second ")]));
        assert!(matches!(single.limit, RateLimits::Single(ref rate) if rate == "1/second"));
        assert!(matches!(single.key, KeyStrategy::Ip));
        assert_eq!(single.burst, 0);
        let tiers = limit_of(parse_quote!(#[rate_limit({ free = "1/second" })]));
        assert!(matches!(tiers.key, KeyStrategy::User));
        let keyed = limit_of(parse_quote!(#[rate_limit({ free = "1/second" }, key = global)]));
        assert!(matches!(keyed.key, KeyStrategy::Global));
    }

    #[test]
    fn rate_limit_errors() {
        let errors = |attribute| messages(route(&get(), vec![attr(Kind::RateLimit, attribute)]));
        assert_eq!(
            errors(parse_quote!(#[rate_limit({ a = "x", a = "1/day" }, exempt_ips = ["x"])])).len(),
            3
        );
        assert!(
            errors(parse_quote!(#[rate_limit()]))[0].starts_with("`#[rate_limit]` needs a limit")
        );
        assert!(errors(parse_quote!(#[rate_limit({})]))[0].starts_with("empty tier table"));
        assert!(
            errors(parse_quote!(#[rate_limit("1/s", exempt_roles = [""])]))[1]
                .starts_with("empty role")
        );
    }

    #[test]
    fn rate_errors_name_the_rate_to_write() {
        let errors = |attribute| messages(route(&get(), vec![attr(Kind::RateLimit, attribute)]));
        assert_eq!(
            errors(parse_quote!(#[rate_limit("10/fortnight")])),
            ["invalid rate \"10/fortnight\": unknown period `fortnight`; write \"10/14 days\""]
        );
        assert_eq!(
            errors(parse_quote!(#[rate_limit({ free = "per minute" })])),
            [
                "invalid rate \"per minute\": it must start with the number of requests; \
              write \"1 per minute\""
            ]
        );
        // The runtime could not use it: the period overflows its seconds counter.
        assert_eq!(
            errors(parse_quote!(#[rate_limit("10/99999999999999999 years")])),
            [
                "invalid rate \"10/99999999999999999 years\": the period is too long: the most \
              is 593066617596 years"
            ]
        );
        assert!(errors(parse_quote!(#[rate_limit("10/forever")]))[0].ends_with(rate::GRAMMAR));
    }

    #[test]
    fn free_functions_only() {
        let check = |func: ItemFn| free_fn(&func).map_err(|e| e.to_string());
        assert!(check(parse_quote!(
            async fn a() {}
        ))
        .is_ok());
        assert!(check(parse_quote!(
            async fn a(&self) {}
        ))
        .unwrap_err()
        .contains("this is a method"));
        assert!(check(parse_quote!(
            fn a<T>() {}
        ))
        .unwrap_err()
        .contains("generic"));
        assert!(check(parse_quote!(
            fn a()
            where
                u8: Copy,
            {
            }
        ))
        .unwrap_err()
        .contains("generic"));
    }
}
