//! A lifecycle attribute written above `#[route]` is expanded first (rustc expands the outermost
//! attribute first). It moves itself just below `#[route]`, where `#[route]` parses and checks
//! it with the others, so both orders give the same result.

use crate::item::AttributedItem;
use crate::kind::Kind;
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{parse_quote, Attribute, Error, Ident};

pub(crate) fn lifecycle(kind: Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: AttributedItem = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_error(input, error),
    };
    match item.route_position() {
        Some(index) => {
            item.attrs.insert(index + 1, attribute(kind, args));
            item.into_token_stream()
        }
        None => {
            // The other lifecycle attributes lack a route too: one error says it.
            item.take_ours();
            let message = format!(
                "`#[{}]` needs a `#[route(METHOD, \"/path\")]` on the same function, e.g. \
                 `#[route(GET, \"/payments\")]`",
                kind.name()
            );
            with_error(
                item.into_token_stream(),
                Error::new(Span::call_site(), message),
            )
        }
    }
}

/// The attribute itself, spanned where it was written (`call_site` is the attribute; the
/// arguments keep their own spans).
fn attribute(kind: Kind, args: TokenStream) -> Attribute {
    let name = Ident::new(kind.name(), Span::call_site());
    if args.is_empty() {
        parse_quote!(#[#name])
    } else {
        parse_quote!(#[#name(#args)])
    }
}

fn with_error(tokens: TokenStream, error: Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#tokens #error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_itself_below_the_route() {
        let input = quote! {
            #[doc = "x"]
            #[route(GET, "/")]
            #[disabled]
            fn handler() {}
        };
        let output = lifecycle(Kind::Maintenance, quote!(reason = "r"), input);
        let expected = quote! {
            #[doc = "x"]
            #[route(GET, "/")]
            #[maintenance(reason = "r")]
            #[disabled]
            fn handler() {}
        };
        assert_eq!(output.to_string(), expected.to_string());
    }

    #[test]
    fn bare_attribute_stays_bare() {
        let output = lifecycle(
            Kind::ForceActive,
            quote!(),
            quote!(
                #[route(GET, "/")]
                fn h() {}
            ),
        );
        let expected = quote!(
            #[route(GET, "/")]
            #[force_active]
            fn h() {}
        );
        assert_eq!(output.to_string(), expected.to_string());
    }

    #[test]
    fn without_route_reports_one_error() {
        let output = lifecycle(
            Kind::Disabled,
            quote!(),
            quote!(
                #[maintenance]
                #[inline]
                fn h() {}
            ),
        );
        let output = output.to_string();
        assert!(output.starts_with("# [inline] fn h () { }"), "{output}");
        assert_eq!(output.matches("compile_error").count(), 1, "{output}");
        assert!(
            output.contains("`#[disabled]` needs a `#[route(METHOD,"),
            "{output}"
        );
    }
}
