//! `#[route]`: runs the pipeline (parse, validate) and generates the code — the handler
//! unchanged, a companion struct of the same name carrying the route's consts, and the route's
//! registration. On error, the handler is emitted as written (lifecycle attributes removed) with
//! the errors, and a stub companion so `routes![..]` does not add errors of its own.

use crate::error::{both, Errors};
use crate::item::AttributedItem;
use crate::kind::Ours;
use crate::parse::FlagRef;
use crate::parse::{self, KeyStrategy, Lifecycle, RouteArgs};
use crate::validate::{self, RateLimit, RateLimits, Rollout, Route, Status};
use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, Error, Expr, Ident, ItemFn, Result};

pub(crate) fn route(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: AttributedItem = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_error(input, error),
    };
    let ours = item.take_ours();
    let checked = check(args, ours, &item.attrs);
    let wg = runtime();
    match (handler(&item), checked) {
        (Ok(func), Ok(route)) => {
            let companion = companion(&func, &route, &wg);
            let registration = registration(&func, &wg);
            quote!(#item #companion #registration)
        }
        (Ok(func), Err(error)) => {
            let stub = companion(&func, &stub(&func), &wg);
            with_error(quote!(#item #stub), error)
        }
        (Err(mut error), checked) => {
            if let Err(more) = checked {
                error.combine(more);
            }
            with_error(item.into_token_stream(), error)
        }
    }
}

fn with_error(tokens: TokenStream, error: Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#tokens #error)
}

/// The annotated item as a free, non-generic function.
fn handler(item: &AttributedItem) -> Result<ItemFn> {
    let func: ItemFn = syn::parse2(item.to_token_stream()).map_err(|_| {
        let message = "`#[route]` works on free, non-generic functions only: put it on a \
            handler function such as `async fn get_item() -> String`";
        Error::new_spanned(item.head(), message)
    })?;
    validate::free_fn(&func)?;
    Ok(func)
}

fn check(args: TokenStream, ours: Vec<(Ours, Attribute)>, rest: &[Attribute]) -> Result<Route> {
    // No arguments: the method and path come from `#[utoipa::path(..)]`.
    let args = match syn::parse2::<RouteArgs>(args.clone()) {
        Err(missing) if args.is_empty() => crate::openapi::route_args(rest, missing),
        parsed => parsed,
    };
    let (args, attrs) = both(args, lifecycle_attrs(ours))?;
    validate::route(&args, attrs)
}

fn lifecycle_attrs(ours: Vec<(Ours, Attribute)>) -> Result<Vec<Lifecycle>> {
    let mut errors = Errors::default();
    let mut attrs = Vec::new();
    for (found, attr) in ours {
        match found {
            Ours::Route => {
                let message = "duplicate `#[route]`: a function serves one route; write another \
                    handler function for the second route";
                errors.push(Error::new_spanned(attr.path(), message));
            }
            Ours::Lifecycle(kind) => attrs.extend(errors.take(parse::lifecycle(kind, &attr))),
        }
    }
    errors.finish()?;
    Ok(attrs)
}

/// The runtime crate's path, as the user's `Cargo.toml` names it: `waygate-actix` (actix-web),
/// else `waygate` (axum). Each adapter exports the same `__private` names, with its own
/// framework's types behind them. `waygate-actix` is looked for first because it may depend
/// on `waygate` itself (its `admin` feature serves the axum admin): a crate that names
/// `waygate-actix` writes actix-web handlers.
pub(crate) fn runtime() -> TokenStream {
    for (package, own) in [("waygate-actix", "waygate_actix"), ("waygate", "waygate")] {
        match crate_name(package) {
            Ok(FoundCrate::Name(name)) => {
                let name = Ident::new(&name, Span::call_site());
                return quote!(::#name);
            }
            // `Itself`: the runtime declares `extern crate self as <own>;`.
            Ok(FoundCrate::Itself) => {
                let own = Ident::new(own, Span::call_site());
                return quote!(::#own);
            }
            Err(_) => {}
        }
    }
    quote!(::waygate)
}

/// A placeholder route for a handler whose attributes have errors.
fn stub(func: &ItemFn) -> Route {
    Route {
        method: "GET".to_owned(),
        path: format!("/__waygate_invalid/{}", func.sig.ident),
        ..Route::default()
    }
}

/// The handler's `#[cfg]`s, which its companion items share.
fn cfgs(func: &ItemFn) -> impl Iterator<Item = &Attribute> {
    func.attrs.iter().filter(|attr| attr.path().is_ident("cfg"))
}

fn companion(func: &ItemFn, route: &Route, wg: &TokenStream) -> TokenStream {
    let (vis, name) = (&func.vis, &func.sig.ident);
    let cfgs: Vec<_> = cfgs(func).collect();
    let (method, path) = (&route.method, &route.path);
    let key = format!("{method}:{path}");
    let filter = Ident::new(method, Span::call_site());
    let handler = name.to_string();
    let private = quote!(#wg::__private);
    let status = status(&route.status, &private);
    let force_active = route.force_active;
    let response = factory(route.response.as_ref(), &Factory::BLOCKED, wg);
    let response_ref = option(
        route
            .response
            .as_ref()
            .map(|_| quote!(&Self::__WAYGATE_RESPONSE)),
    );
    let rate_limit_response = route
        .rate_limit
        .as_ref()
        .and_then(|limit| limit.response.as_ref());
    let rate_limit_response = factory(rate_limit_response, &Factory::RATE_LIMITED, wg);
    let rate_limit = option(
        route
            .rate_limit
            .as_ref()
            .map(|limit| rate_limit(limit, &private)),
    );
    let rollout_response = route
        .rollout
        .as_ref()
        .and_then(|rollout| rollout.response.as_ref());
    let rollout_response = factory(rollout_response, &Factory::ROLLOUT, wg);
    let with_rollout = route.rollout.as_ref().map(|rollout| {
        let rollout = rollout_meta(rollout, &private);
        quote!(.__with_rollout(#rollout))
    });
    let flag_response = route
        .feature_flag
        .as_ref()
        .and_then(|gate| gate.response.as_ref());
    let flag_response = factory(flag_response, &Factory::FEATURE_FLAG, wg);
    let with_feature_flag = route.feature_flag.as_ref().map(|gate| {
        let key = match &gate.flag {
            FlagRef::Key(key) => quote!(#key),
            FlagRef::Declared(path) => quote!(#path.key()),
        };
        let response = option(
            gate.response
                .as_ref()
                .map(|_| quote!(&Self::__WAYGATE_FLAG_RESPONSE)),
        );
        quote!(.__with_feature_flag(#private::FeatureFlagMeta::__new(#key, #response)))
    });
    // A declared flag must be a `BoolFlag`: rustc says so where it is named.
    let flag_type_check = route
        .feature_flag
        .as_ref()
        .and_then(|gate| match &gate.flag {
            FlagRef::Declared(path) => Some(quote_spanned! {path.span()=>
                #(#cfgs)*
                const _: fn() = || {
                    let _: &'static #private::BoolFlag = &#path;
                };
            }),
            FlagRef::Key(_) => None,
        });
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, missing_docs, unreachable_pub)]
        #vis struct #name {}

        #(#cfgs)*
        #[allow(dead_code, missing_docs, unreachable_pub, clippy::all)]
        impl #name {
            pub const METHOD: &'static str = #method;
            pub const PATH: &'static str = #path;
            pub const KEY: &'static str = #key;
            pub const METHOD_FILTER: #private::MethodFilter = #private::MethodFilter::#filter;
            #response
            #rate_limit_response
            #rollout_response
            #flag_response
            pub const META: &'static #private::RouteMeta = &#private::RouteMeta::__new(
                #method,
                #path,
                #key,
                #handler,
                ::core::module_path!(),
                #status,
                #force_active,
                #rate_limit,
                #response_ref,
            )#with_rollout #with_feature_flag;
        }

        #flag_type_check
    }
}

fn registration(func: &ItemFn, wg: &TokenStream) -> TokenStream {
    let name = &func.sig.ident;
    let cfgs = cfgs(func);
    quote! {
        #(#cfgs)*
        #wg::__private::submit_route! { #name::META }
    }
}

/// How a `response = ..` factory is wrapped: the request it gets and the registry's wrapper.
struct Factory {
    function: &'static str,
    constant: &'static str,
    argument: &'static str,
    argument_type: &'static str,
    wrapper: &'static str,
}

impl Factory {
    const BLOCKED: Self = Self {
        function: "__waygate_response",
        constant: "__WAYGATE_RESPONSE",
        argument: "blocked",
        argument_type: "Blocked",
        wrapper: "RouteResponse",
    };
    const RATE_LIMITED: Self = Self {
        function: "__waygate_rl_response",
        constant: "__WAYGATE_RL_RESPONSE",
        argument: "limited",
        argument_type: "RateLimited",
        wrapper: "RateLimitResponse",
    };
    const FEATURE_FLAG: Self = Self {
        function: "__waygate_flag_response",
        constant: "__WAYGATE_FLAG_RESPONSE",
        argument: "blocked",
        argument_type: "Blocked",
        wrapper: "RouteResponse",
    };
    const ROLLOUT: Self = Self {
        function: "__waygate_rollout_response",
        constant: "__WAYGATE_ROLLOUT_RESPONSE",
        argument: "blocked",
        argument_type: "Blocked",
        wrapper: "RouteResponse",
    };
}

/// The companion's function and const for a `response = ..` factory, if there is one.
fn factory(expr: Option<&Expr>, factory: &Factory, wg: &TokenStream) -> TokenStream {
    let Some(expr) = expr else {
        return TokenStream::new();
    };
    let ident = |name| Ident::new(name, Span::call_site());
    let (function, constant) = (ident(factory.function), ident(factory.constant));
    let (argument, argument_type) = (ident(factory.argument), ident(factory.argument_type));
    let wrapper = ident(factory.wrapper);
    // Spanned on the factory, so a wrong signature is reported there.
    let passed = Ident::new(factory.argument, expr.span());
    let call = quote_spanned!(expr.span()=> #wg::__private::call_factory(#expr, #passed));
    quote! {
        #[doc(hidden)]
        pub fn #function(#argument: #wg::#argument_type) -> #wg::__private::BoxResponseFuture {
            #call
        }
        #[doc(hidden)]
        pub const #constant: #wg::__private::#wrapper = #wg::__private::#wrapper(Self::#function);
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn status(status: &Status, private: &TokenStream) -> TokenStream {
    let initial = quote!(#private::InitialStatus);
    match status {
        Status::Active => quote!(#initial::Active),
        Status::Maintenance { reason, window } => {
            let window = option(window.map(|(start, end)| quote!((#start, #end))));
            quote!(#initial::Maintenance { reason: #reason, window: #window })
        }
        Status::Disabled { reason } => quote!(#initial::Disabled { reason: #reason }),
        Status::EnvOnly { envs } => quote!(#initial::EnvOnly { envs: &[#(#envs),*] }),
        Status::Deprecated {
            sunset,
            use_instead,
            since,
        } => {
            let sunset = option(sunset.as_ref().map(ToTokens::to_token_stream));
            let use_instead = option(use_instead.as_ref().map(ToTokens::to_token_stream));
            let since = option(since.as_ref().map(ToTokens::to_token_stream));
            quote!(#initial::Deprecated { sunset: #sunset, use_instead: #use_instead, since: #since })
        }
    }
}

fn rate_limit(limit: &RateLimit, private: &TokenStream) -> TokenStream {
    let limits = match &limit.limit {
        RateLimits::Single(rate) => quote!(#private::LimitMeta::Single(#rate)),
        RateLimits::Tiers(tiers) => {
            let (names, rates): (Vec<_>, Vec<_>) = tiers.iter().cloned().unzip();
            quote!(#private::LimitMeta::Tiers(&[#((#names, #rates)),*]))
        }
    };
    let algorithm = option(
        limit
            .algorithm
            .as_deref()
            .map(|name| variant(private, "Algorithm", name)),
    );
    let key = key(&limit.key, private);
    let burst = limit.burst;
    let (ips, roles) = (&limit.exempt_ips, &limit.exempt_roles);
    let on_missing_key = option(
        limit
            .on_missing_key
            .as_deref()
            .map(|name| variant(private, "OnMissingKey", name)),
    );
    let response = option(
        limit
            .response
            .as_ref()
            .map(|_| quote!(&Self::__WAYGATE_RL_RESPONSE)),
    );
    quote! {
        #private::RateLimitMeta::__new(
            #limits,
            #algorithm,
            #key,
            #burst,
            &[#(#ips),*],
            &[#(#roles),*],
            #on_missing_key,
            #response,
        )
    }
}

fn rollout_meta(rollout: &Rollout, private: &TokenStream) -> TokenStream {
    let percent = rollout.percent;
    let key_meta = quote!(#private::RolloutKeyMeta);
    let key = match &rollout.key {
        None => quote!(#key_meta::UserThenIp),
        Some(KeyStrategy::User) => quote!(#key_meta::User),
        Some(KeyStrategy::Ip) => quote!(#key_meta::Ip),
        Some(KeyStrategy::ApiKey) => quote!(#key_meta::ApiKey),
        Some(KeyStrategy::Custom(path)) => quote!(#key_meta::Custom(#path)),
        Some(KeyStrategy::Global) => unreachable!("`parse` refuses `key = global` in a rollout"),
    };
    let response = option(
        rollout
            .response
            .as_ref()
            .map(|_| quote!(&Self::__WAYGATE_ROLLOUT_RESPONSE)),
    );
    quote!(#private::RolloutMeta::__new(#percent, #key, #response))
}

/// `#private::Algorithm::TokenBucket` for the validated wire name `token_bucket`: the
/// runtime gets a typed value, never a string to parse at startup.
fn variant(private: &TokenStream, enum_name: &str, wire: &str) -> TokenStream {
    let enum_name = Ident::new(enum_name, Span::call_site());
    let camel: String = wire
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let variant = Ident::new(&camel, Span::call_site());
    quote!(#private::#enum_name::#variant)
}

fn key(key: &KeyStrategy, private: &TokenStream) -> TokenStream {
    let key_meta = quote!(#private::KeyMeta);
    match key {
        KeyStrategy::Ip => quote!(#key_meta::Ip),
        KeyStrategy::User => quote!(#key_meta::User),
        KeyStrategy::ApiKey => quote!(#key_meta::ApiKey),
        KeyStrategy::Global => quote!(#key_meta::Global),
        KeyStrategy::Custom(path) => quote!(#key_meta::Custom(#path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion documented as the contract with the runtime.
    #[test]
    fn expands_to_the_documented_contract() {
        let args = quote!(GET, "/items/{id}");
        let input = quote! {
            #[maintenance(reason = "x", start = "2026-12-01T02:00:00Z", end = "2026-12-01T04:00:00Z", response = my_factory)]
            /// Docs.
            pub async fn get_item(Path(id): Path<u32>) -> String { id.to_string() }
        };
        let expected = quote! {
            #[doc = r" Docs."]
            pub async fn get_item(Path(id): Path<u32>) -> String { id.to_string() }

            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code, missing_docs, unreachable_pub)]
            pub struct get_item {}

            #[allow(dead_code, missing_docs, unreachable_pub, clippy::all)]
            impl get_item {
                pub const METHOD: &'static str = "GET";
                pub const PATH: &'static str = "/items/{id}";
                pub const KEY: &'static str = "GET:/items/{id}";
                pub const METHOD_FILTER: ::waygate::__private::MethodFilter = ::waygate::__private::MethodFilter::GET;
                #[doc(hidden)]
                pub fn __waygate_response(blocked: ::waygate::Blocked) -> ::waygate::__private::BoxResponseFuture {
                    ::waygate::__private::call_factory(my_factory, blocked)
                }
                #[doc(hidden)]
                pub const __WAYGATE_RESPONSE: ::waygate::__private::RouteResponse = ::waygate::__private::RouteResponse(Self::__waygate_response);
                pub const META: &'static ::waygate::__private::RouteMeta = &::waygate::__private::RouteMeta::__new(
                    "GET",
                    "/items/{id}",
                    "GET:/items/{id}",
                    "get_item",
                    ::core::module_path!(),
                    ::waygate::__private::InitialStatus::Maintenance {
                        reason: "x",
                        window: ::core::option::Option::Some((1796090400i64, 1796097600i64))
                    },
                    false,
                    ::core::option::Option::None,
                    ::core::option::Option::Some(&Self::__WAYGATE_RESPONSE),
                );
            }
            ::waygate::__private::submit_route! { get_item::META }
        };
        assert_eq!(route(args, input).to_string(), expected.to_string());
    }

    #[test]
    fn expands_rate_limits() {
        let input = quote! {
            #[rate_limit({ free = "1/second" }, key = custom(tenant), exempt_ips = ["::1"], response = f)]
            #[cfg(unix)]
            fn h() {}
        };
        let output = route(quote!(POST, "/h"), input).to_string();
        let expected = quote! {
            ::core::option::Option::Some(::waygate::__private::RateLimitMeta::__new(
                ::waygate::__private::LimitMeta::Tiers(&[("free", "1/second")]),
                ::core::option::Option::None,
                ::waygate::__private::KeyMeta::Custom(tenant),
                0u32,
                &["::1"],
                &[],
                ::core::option::Option::None,
                ::core::option::Option::Some(&Self::__WAYGATE_RL_RESPONSE),
            )),
            ::core::option::Option::None,
        };
        assert!(output.contains(&expected.to_string()), "{output}");
        let rl_response = quote! {
            pub fn __waygate_rl_response(limited: ::waygate::RateLimited) -> ::waygate::__private::BoxResponseFuture {
                ::waygate::__private::call_factory(f, limited)
            }
        };
        assert!(output.contains(&rl_response.to_string()), "{output}");
        // The handler's `#[cfg]` goes on the struct, its impl and its registration.
        assert_eq!(output.matches("# [cfg (unix)]").count(), 4, "{output}");
    }

    #[test]
    fn expands_rollouts() {
        let input = quote! {
            #[rollout(percent = 25, key = custom(tenant), response = f)]
            fn h() {}
        };
        let output = route(quote!(GET, "/h"), input).to_string();
        let expected = quote! {
            .__with_rollout(::waygate::__private::RolloutMeta::__new(
                25u8,
                ::waygate::__private::RolloutKeyMeta::Custom(tenant),
                ::core::option::Option::Some(&Self::__WAYGATE_ROLLOUT_RESPONSE)
            ))
        };
        assert!(output.contains(&expected.to_string()), "{output}");
        let plain = route(
            quote!(GET, "/h"),
            quote!(
                #[rollout(percent = 0)]
                fn h() {}
            ),
        )
        .to_string();
        assert!(
            plain.contains(
                &quote!(RolloutKeyMeta::UserThenIp, ::core::option::Option::None).to_string()
            ),
            "{plain}"
        );
    }

    #[test]
    fn on_error_keeps_the_handler_and_a_stub() {
        let input = quote! {
            #[maintenance(reson = "x")]
            async fn h() {}
        };
        let output = route(quote!(GET, "/h"), input).to_string();
        assert!(output.starts_with("async fn h () { }"), "{output}");
        assert!(output.contains("\"GET:/__waygate_invalid/h\""), "{output}");
        assert!(!output.contains("submit"), "{output}");
        assert_eq!(output.matches("compile_error").count(), 1, "{output}");
    }

    #[test]
    fn on_error_in_a_non_function_keeps_the_item_alone() {
        let input = quote! {
            #[disabled]
            struct S;
        };
        let output = route(quote!(GET, "/h"), input).to_string();
        assert!(output.starts_with("struct S ;"), "{output}");
        assert!(!output.contains("impl"), "{output}");
        assert!(
            output.contains("free, non-generic functions only"),
            "{output}"
        );
    }
}
