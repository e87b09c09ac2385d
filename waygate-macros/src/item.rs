//! The annotated item, seen as its outer attributes plus everything else, so attributes can be
//! moved and stripped on any kind of item without re-printing the rest.

use crate::kind::{self, Ours};
use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Result};

pub(crate) struct AttributedItem {
    pub(crate) attrs: Vec<Attribute>,
    /// The item after its outer attributes, tokens untouched.
    pub(crate) rest: TokenStream,
}

impl AttributedItem {
    /// Removes our attributes (lifecycle ones and any further `#[route]`), in order.
    pub(crate) fn take_ours(&mut self) -> Vec<(Ours, Attribute)> {
        let mut ours = Vec::new();
        self.attrs.retain(|attr| match kind::classify(attr) {
            Some(found) => {
                ours.push((found, attr.clone()));
                false
            }
            None => true,
        });
        ours
    }

    /// The index of the first `#[route]`.
    pub(crate) fn route_position(&self) -> Option<usize> {
        self.attrs
            .iter()
            .position(|attr| kind::classify(attr) == Some(Ours::Route))
    }

    /// The item's head (`pub struct Name`), to point errors at without underlining its body.
    pub(crate) fn head(&self) -> TokenStream {
        let mut head = TokenStream::new();
        let mut after_pub = false;
        for token in self.rest.clone() {
            let ends_head = match &token {
                // `pub(crate)` is part of the head; any other group starts the body.
                TokenTree::Group(_) => !after_pub,
                TokenTree::Punct(punct) => matches!(punct.as_char(), ';' | '=' | '<' | ':'),
                _ => false,
            };
            if ends_head {
                break;
            }
            after_pub = matches!(&token, TokenTree::Ident(ident) if ident == "pub");
            head.append(token);
        }
        head
    }
}

impl Parse for AttributedItem {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        Ok(Self {
            attrs: input.call(Attribute::parse_outer)?,
            rest: input.parse()?,
        })
    }
}

impl ToTokens for AttributedItem {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.rest.to_tokens(tokens);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn item(tokens: TokenStream) -> AttributedItem {
        syn::parse2(tokens).unwrap()
    }

    #[test]
    fn takes_our_attributes_and_keeps_the_rest() {
        let mut item = item(quote! {
            /// Docs.
            #[maintenance(reason = "x")]
            #[route(GET, "/")]
            #[allow(unused)]
            #[waygate::rate_limit("1/second")]
            #[route(POST, "/")]
            fn handler() {}
        });
        assert_eq!(item.route_position(), Some(2));
        let ours: Vec<Ours> = item.take_ours().into_iter().map(|(o, _)| o).collect();
        assert_eq!(ours.len(), 4);
        assert_eq!(ours[1], Ours::Route);
        assert_eq!(
            item.to_token_stream().to_string(),
            quote!(
                #[doc = r" Docs."]
                #[allow(unused)]
                fn handler() {}
            )
            .to_string()
        );
    }

    #[test]
    fn head_stops_before_the_body() {
        let head = |tokens| item(tokens).head().to_string();
        assert_eq!(
            head(quote!(
                pub struct A {
                    x: u8,
                }
            )),
            "pub struct A"
        );
        assert_eq!(
            head(quote!(
                struct B<T>(T);
            )),
            "struct B"
        );
        assert_eq!(
            head(quote!(
                const C: u8 = 1;
            )),
            "const C"
        );
        assert_eq!(head(quote!(impl D {})), "impl D");
        assert_eq!(
            head(quote!(
                pub(crate) enum E {}
            )),
            "pub (crate) enum E"
        );
    }
}
