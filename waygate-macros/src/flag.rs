//! `#[flag(key = "..", default = .., description = "..")] static NAME: BoolFlag;`: a flag
//! declared in code, checked here (the arguments, the key, the type, a literal default of the
//! wrong kind) and by rustc (any other default, spanned to it), and registered at link time.

use crate::expand::runtime;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, ExprLit, ExprUnary, GenericArgument, Ident, Lit, LitStr, Meta,
    PathArguments, Result, Token, Type, UnOp, Visibility,
};

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: DeclaredStatic = match syn::parse2(input) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    let handle = match Handle::of(&item.ty) {
        Ok(handle) => handle,
        Err(error) => return error.to_compile_error(),
    };
    match parse_args(args).and_then(|args| {
        handle.check_literal(&args.default)?;
        Ok(declare(item.clone(), handle, args))
    }) {
        Ok(tokens) => tokens,
        // The static still exists (unregistered), so its uses raise no second error.
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(stub(item, handle));
            tokens
        }
    }
}

/// The static of a declaration with errors: its handle on a placeholder, not registered.
fn stub(item: DeclaredStatic, handle: Handle) -> TokenStream {
    let wg = runtime();
    let DeclaredStatic {
        attrs,
        vis,
        ident,
        ty,
    } = item;
    let (default, handle_default) = match handle {
        Handle::Bool => (quote!(Bool(false)), quote!(false)),
        Handle::String => (quote!(String("")), quote!("")),
        Handle::Int => (quote!(Int(0)), quote!(0)),
        Handle::Float => (quote!(Float(0.0)), quote!(0.0)),
        Handle::Json => (
            quote!(Json(|| #wg::__private::serde_json::Value::Null)),
            quote!(|| ::core::unreachable!()),
        ),
    };
    quote! {
        #(#attrs)*
        #vis static #ident: #ty = <#ty>::__declare(
            &#wg::__private::FlagDeclaration {
                key: "",
                default: #wg::__private::DeclaredDefault::#default,
                description: "",
                module: ::core::module_path!(),
                file: ::core::file!(),
                line: ::core::line!(),
            },
            #handle_default,
        );
    }
}

/// `static NAME: Type;` — as written, before `#[flag]` makes it a value.
#[derive(Clone)]
struct DeclaredStatic {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    ty: Type,
}

impl Parse for DeclaredStatic {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![static]) {
            return Err(Error::new(
                input.span(),
                "`#[flag]` goes on a static without a value: `static NEW_CHECKOUT: BoolFlag;`",
            ));
        }
        input.parse::<Token![static]>()?;
        if let Some(mutability) = input.parse::<Option<Token![mut]>>()? {
            return Err(Error::new(
                mutability.span(),
                "a declared flag cannot be `static mut`: its value lives in the engine",
            ));
        }
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty: Type = input.parse()?;
        if let Some(eq) = input.parse::<Option<Token![=]>>()? {
            return Err(Error::new(
                eq.span(),
                "a declared flag has no value: `#[flag]` gives it one; write `static NAME: BoolFlag;`",
            ));
        }
        input.parse::<Token![;]>()?;
        Ok(Self {
            attrs,
            vis,
            ident,
            ty,
        })
    }
}

/// The handle types, and what their default is.
#[derive(Clone, Copy, PartialEq)]
enum Handle {
    Bool,
    String,
    Int,
    Float,
    Json,
}

impl Handle {
    fn of(ty: &Type) -> Result<Self> {
        let wrong = || {
            Error::new(
                ty.span(),
                "a declared flag is a `BoolFlag`, `StringFlag`, `IntFlag`, `FloatFlag` or \
                 `JsonFlag<T>` (T: a serde type)",
            )
        };
        let Type::Path(path) = ty else {
            return Err(wrong());
        };
        let last = path.path.segments.last().ok_or_else(wrong)?;
        let handle = match last.ident.to_string().as_str() {
            "BoolFlag" => Self::Bool,
            "StringFlag" => Self::String,
            "IntFlag" => Self::Int,
            "FloatFlag" => Self::Float,
            "JsonFlag" => Self::Json,
            _ => return Err(wrong()),
        };
        let has_type_argument = matches!(
            &last.arguments,
            PathArguments::AngleBracketed(args)
                if args.args.len() == 1 && matches!(args.args[0], GenericArgument::Type(_))
        );
        match (handle, has_type_argument) {
            (Self::Json, false) => Err(Error::new(
                last.span(),
                "`JsonFlag` needs the type it reads: `JsonFlag<Config>`",
            )),
            (Self::Json, true) => Ok(handle),
            (_, false) if last.arguments.is_empty() => Ok(handle),
            _ => Err(Error::new(
                last.arguments.span(),
                "only `JsonFlag<T>` takes a type argument",
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Bool => "BoolFlag",
            Self::String => "StringFlag",
            Self::Int => "IntFlag",
            Self::Float => "FloatFlag",
            Self::Json => "JsonFlag",
        }
    }

    /// What a default of this handle is, for messages.
    fn expected(self) -> &'static str {
        match self {
            Self::Bool => "`true` or `false`",
            Self::String => "a string literal",
            Self::Int => "an integer such as `10`",
            Self::Float => "a float such as `0.5`",
            Self::Json => "a value of its type",
        }
    }

    /// `Err` for a literal default of another kind (other expressions: rustc checks them).
    fn check_literal(self, default: &Expr) -> Result<()> {
        let literal = match default {
            Expr::Lit(ExprLit { lit, .. }) => lit,
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr,
                ..
            }) => match &**expr {
                Expr::Lit(ExprLit { lit, .. }) => lit,
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        let fits = matches!(
            (self, literal),
            (Self::Bool, Lit::Bool(_))
                | (Self::String, Lit::Str(_))
                | (Self::Int, Lit::Int(_))
                | (Self::Float, Lit::Float(_))
                | (Self::Json, _)
        );
        match fits {
            true => Ok(()),
            false => Err(Error::new(
                default.span(),
                format!("the default of a `{}` is {}", self.name(), self.expected()),
            )),
        }
    }
}

/// The attribute's arguments.
struct Args {
    key: LitStr,
    default: Expr,
    description: Option<LitStr>,
}

fn parse_args(args: TokenStream) -> Result<Args> {
    let metas = syn::parse::Parser::parse2(Punctuated::<Meta, Token![,]>::parse_terminated, args)?;
    let (mut key, mut default, mut description) = (None, None, None);
    for meta in metas {
        let Meta::NameValue(pair) = &meta else {
            return Err(Error::new(
                meta.span(),
                "`#[flag]` takes `key = \"..\"`, `default = ..` and `description = \"..\"`",
            ));
        };
        let name = pair
            .path
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        let slot = match name.as_str() {
            "key" => &mut key,
            "default" => &mut default,
            "description" => &mut description,
            _ => {
                return Err(Error::new(
                    pair.path.span(),
                    format!(
                        "unknown `#[flag]` argument `{name}`: expected `key`, `default` or \
                         `description`"
                    ),
                ))
            }
        };
        if slot.is_some() {
            return Err(Error::new(
                pair.path.span(),
                format!("`{name}` is given twice"),
            ));
        }
        *slot = Some(pair.value.clone());
    }
    let text = |value: Option<Expr>, what: &str| -> Result<Option<LitStr>> {
        match value {
            None => Ok(None),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            })) => Ok(Some(text)),
            Some(other) => Err(Error::new(
                other.span(),
                format!("`{what}` is a string literal"),
            )),
        }
    };
    let key = text(key, "key")?.ok_or_else(|| {
        Error::new(
            Span::call_site(),
            "`#[flag]` needs its key: `#[flag(key = \"new-checkout\", default = false)]`",
        )
    })?;
    crate::args::flag_key(&key)?;
    let default = default.ok_or_else(|| {
        Error::new(
            Span::call_site(),
            "`#[flag]` needs a default, served when the flag cannot be evaluated: \
             `default = false`",
        )
    })?;
    Ok(Args {
        key,
        default,
        description: text(description, "description")?,
    })
}

fn declare(item: DeclaredStatic, handle: Handle, args: Args) -> TokenStream {
    let wg = runtime();
    let DeclaredStatic {
        attrs,
        vis,
        ident,
        ty,
    } = item;
    let Args {
        key,
        default,
        description,
    } = args;
    let description = description.unwrap_or_else(|| LitStr::new("", Span::call_site()));
    let declaration = format_ident!("__WAYGATE_FLAG_{}", ident);
    let default_item = format_ident!("__WAYGATE_FLAG_DEFAULT_{}", ident);
    let span = default.span();
    // The default, typed by rustc where it is written.
    let (default_def, declared_default, handle_default) = match handle {
        Handle::Json => {
            let Type::Path(path) = &ty else {
                unreachable!("Handle::of checked the type")
            };
            let value_type = match &path.path.segments.last().map(|s| &s.arguments) {
                Some(PathArguments::AngleBracketed(args)) => args.args.first().cloned(),
                _ => None,
            };
            let json = format_ident!("__waygate_flag_json_{}", ident);
            let default_fn = format_ident!("__waygate_flag_default_{}", ident);
            (
                quote_spanned! {span=>
                    #[doc(hidden)]
                    #[allow(non_snake_case)]
                    fn #default_fn() -> #value_type { #default }
                    #[doc(hidden)]
                    #[allow(non_snake_case)]
                    fn #json() -> #wg::__private::serde_json::Value {
                        #wg::__private::serde_json::to_value(#default_fn())
                            .unwrap_or(#wg::__private::serde_json::Value::Null)
                    }
                },
                quote!(#wg::__private::DeclaredDefault::Json(#json)),
                quote!(#default_fn),
            )
        }
        _ => {
            let (value_type, variant) = match handle {
                Handle::Bool => (quote!(bool), quote!(Bool)),
                Handle::String => (quote!(&str), quote!(String)),
                Handle::Int => (quote!(i64), quote!(Int)),
                _ => (quote!(f64), quote!(Float)),
            };
            (
                quote_spanned! {span=>
                    #[doc(hidden)]
                    #[allow(non_upper_case_globals)]
                    const #default_item: #value_type = #default;
                },
                quote!(#wg::__private::DeclaredDefault::#variant(#default_item)),
                quote!(#default_item),
            )
        }
    };
    quote! {
        #default_def
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #declaration: #wg::__private::FlagDeclaration = #wg::__private::FlagDeclaration {
            key: #key,
            default: #declared_default,
            description: #description,
            module: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
        };
        #wg::__private::submit_flag! { &#declaration }
        #(#attrs)*
        #vis static #ident: #ty = <#ty>::__declare(&#declaration, #handle_default);
    }
}
