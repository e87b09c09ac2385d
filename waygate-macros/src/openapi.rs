//! `#[route]` with no arguments reads the method and path of the `#[utoipa::path(..)]`
//! written below it, so the path is written once. The utoipa attribute stays on the item for
//! utoipa to expand.

use crate::parse::RouteArgs;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{Attribute, Error, Ident, Lit, LitStr, Result};

/// The HTTP methods utoipa names operations by.
const METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

const WRITE_IT: &str = "write `#[route(METHOD, \"/path\")]` instead";

/// Whether `attr` is `#[utoipa::path(..)]` (by any path ending in `utoipa::path`).
fn is_utoipa_path(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.len() >= 2 && segments[segments.len() - 2..] == ["utoipa", "path"]
}

/// The route of a `#[route]` without arguments: from the item's `#[utoipa::path]`, else the
/// error a bare `#[route]` gets.
pub(crate) fn route_args(attrs: &[Attribute], missing: Error) -> Result<RouteArgs> {
    let Some(attr) = attrs.iter().find(|a| is_utoipa_path(a)) else {
        let message = format!(
            "{missing}; or put `#[route]` above a `#[utoipa::path(get, path = \"/..\")]` to \
             read its method and path"
        );
        return Err(Error::new(missing.span(), message));
    };
    let tokens = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => {
            let message = format!("`#[utoipa::path]` has no method and path to read; {WRITE_IT}");
            return Err(Error::new_spanned(attr, message));
        }
    };
    read(attr, tokens)
}

/// The method (`get`, or `method(get)`), `path = ".."` and `context_path = ".."`.
fn read(attr: &Attribute, tokens: TokenStream) -> Result<RouteArgs> {
    let mut method: Option<Ident> = None;
    let mut path: Option<LitStr> = None;
    let mut context: Option<LitStr> = None;
    for item in split_commas(tokens) {
        match item.as_slice() {
            [TokenTree::Ident(ident)] if METHODS.contains(&ident.to_string().as_str()) => {
                method = Some(ident.clone());
            }
            [TokenTree::Ident(key), TokenTree::Group(group)]
                if key == "method" && group.delimiter() == Delimiter::Parenthesis =>
            {
                let methods: Vec<TokenStream> = split_commas(group.stream())
                    .into_iter()
                    .map(|t| t.into_iter().collect())
                    .collect();
                match methods.as_slice() {
                    [one] => method = Some(syn::parse2(one.clone())?),
                    _ => {
                        let message = format!(
                            "`#[route]` declares one method, and this operation has several; \
                             {WRITE_IT} on one handler per method"
                        );
                        return Err(Error::new_spanned(group.stream(), message));
                    }
                }
            }
            [TokenTree::Ident(key), TokenTree::Punct(eq), value]
                if eq.as_char() == '=' && (key == "path" || key == "context_path") =>
            {
                let literal = match syn::parse2::<Lit>(value.clone().into()) {
                    Ok(Lit::Str(literal)) => literal,
                    _ => {
                        let message = format!(
                            "`#[route]` reads `{key}` only as a string literal; {WRITE_IT}"
                        );
                        return Err(Error::new_spanned(value, message));
                    }
                };
                match key == "path" {
                    true => path = Some(literal),
                    false => context = Some(literal),
                }
            }
            _ => {}
        }
    }
    let method = method.ok_or_else(|| {
        let message = format!(
            "`#[utoipa::path]` names no method (`get`, `post`, ...) for `#[route]` to read; \
             {WRITE_IT}"
        );
        Error::new_spanned(attr, message)
    })?;
    let path = path.ok_or_else(|| {
        let message =
            format!("`#[utoipa::path]` has no `path = \"/..\"` for `#[route]` to read; {WRITE_IT}");
        Error::new_spanned(attr, message)
    })?;
    let path = match context {
        Some(context) => LitStr::new(
            &format!("{}{}", context.value().trim_end_matches('/'), path.value()),
            path.span(),
        ),
        None => path,
    };
    Ok(RouteArgs {
        method: Ident::new(&method.to_string().to_uppercase(), method.span()),
        path,
    })
}

/// The comma-separated items of an attribute's arguments (commas inside groups stay).
fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => {
                if let Some(item) = items.last_mut() {
                    item.push(token);
                }
            }
        }
    }
    items.retain(|item| !item.is_empty());
    items
}
