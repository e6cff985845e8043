//! The attribute's arguments: `#[offload]`, `#[offload(pool = "db")]`,
//! `#[offload(crate = "path")]`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, LitStr};

use crate::crate_path;
use crate::errors::Errors;

/// The pool a fn runs on when the attribute names none.
const DEFAULT_POOL: &str = "default";

/// The parsed arguments.
pub(crate) struct Args {
    /// The pool's name, as a literal (its span points at the user's string).
    pub(crate) pool: LitStr,
    /// Where generated code finds the `offload` crate.
    pub(crate) krate: syn::Path,
}

/// Parses the arguments; every mistake becomes an error on its own tokens, all of them
/// combined.
pub(crate) fn parse(args: TokenStream) -> syn::Result<Args> {
    let mut pool: Option<LitStr> = None;
    let mut krate: Option<syn::Path> = None;
    let mut errors = Errors::default();
    if let Ok(name) = syn::parse2::<LitStr>(args.clone()) {
        return Err(syn::Error::new(
            name.span(),
            format!("name the key: `pool = {:?}`", name.value()),
        ));
    }
    let parser = syn::meta::parser(|meta| {
        let outcome = if meta.path.is_ident("pool") {
            set_once(&meta, &mut pool, parse_pool)
        } else if meta.path.is_ident("crate") {
            set_once(&meta, &mut krate, crate_path::parse)
        } else {
            Err(meta.error("unknown argument; expected `pool = \"name\"` or `crate = \"path\"`"))
        };
        if let Err(error) = outcome {
            errors.push(error);
            // Skip the rest of this argument (`= value`) so the next one still parses.
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Token![=] = meta.input.parse()?;
                let _: Expr = meta.input.parse()?;
            }
        }
        Ok(())
    });
    let parsed = syn::parse::Parser::parse2(parser, args);
    errors.check(parsed);
    errors.finish(Args {
        pool: pool.unwrap_or_else(|| LitStr::new(DEFAULT_POOL, proc_macro2::Span::call_site())),
        krate: krate.unwrap_or_else(crate_path::default),
    })
}

/// Parses a key's value into `slot`, refusing a second occurrence of the key.
fn set_once<T>(
    meta: &ParseNestedMeta<'_>,
    slot: &mut Option<T>,
    parse: impl FnOnce(&ParseNestedMeta<'_>) -> syn::Result<T>,
) -> syn::Result<()> {
    if slot.is_some() {
        let key = meta
            .path
            .get_ident()
            .map_or_else(String::new, ToString::to_string);
        return Err(meta.error(format!("`{key}` is set twice; keep one")));
    }
    *slot = Some(parse(meta)?);
    Ok(())
}

/// Parses `pool = "name"`: a non-empty string literal.
fn parse_pool(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let value: Expr = meta.value()?.parse()?;
    let Expr::Lit(ExprLit {
        lit: Lit::Str(name),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            "the pool name must be a string literal, like `pool = \"db\"`; \
             to choose a pool at run time, call `offload::run(name, || ...)`",
        ));
    };
    if name.value().is_empty() {
        return Err(syn::Error::new(
            name.span(),
            "the pool name is empty; name a configured pool, like `pool = \"db\"`, \
             or leave `pool` out to use \"default\"",
        ));
    }
    Ok(name)
}
