//! An attribute's `key = value` arguments, for all three attributes: each argument is
//! parsed on its own, so that a mistake in one is reported once, on its own tokens, and the
//! others are still checked; every error is combined into one.

use proc_macro2::{TokenStream, TokenTree};
use syn::Token;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;

use crate::attribute::errors::Errors;

/// Runs `parse_one` on each comma-separated argument of `args`; the errors of all of them,
/// and of stray commas, combined.
pub(crate) fn parse_each(
    args: TokenStream,
    mut parse_one: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    let mut errors = Errors::default();
    for argument in split(args) {
        let Some(argument) = errors.check(argument) else {
            continue;
        };
        let parser = syn::meta::parser(|meta| parse_one(&meta));
        errors.check(parser.parse2(argument));
    }
    errors.finish(())
}

/// The arguments between top-level commas, in order; a comma with no argument before it
/// is an error in their place.
fn split(args: TokenStream) -> Vec<syn::Result<TokenStream>> {
    let mut arguments = Vec::new();
    let mut current = TokenStream::new();
    for token in args {
        match token {
            TokenTree::Punct(comma) if comma.as_char() == ',' => {
                arguments.push(if current.is_empty() {
                    Err(syn::Error::new(
                        comma.span(),
                        "expected an argument before this comma",
                    ))
                } else {
                    Ok(std::mem::take(&mut current))
                });
            }
            token => current.extend([token]),
        }
    }
    if !current.is_empty() {
        arguments.push(Ok(current));
    }
    arguments
}

/// The key of `meta` as written, for messages.
pub(crate) fn key(meta: &ParseNestedMeta<'_>) -> String {
    meta.path.get_ident().map_or_else(
        || quote::ToTokens::to_token_stream(&meta.path).to_string(),
        ToString::to_string,
    )
}

/// The error for a key the attribute does not take, on the key, listing those it does.
pub(crate) fn unknown(meta: &ParseNestedMeta<'_>, expected: &str) -> syn::Error {
    meta.error(format!(
        "unknown argument `{}`; expected {expected}",
        key(meta)
    ))
}

/// Parses a key's value into `slot` with `parse`, refusing a second occurrence of the key
/// and a key without a value (`pool`, `pool("db")`, `pool =`), both on the key; syn's own
/// error for the latter would say only "expected `=`", on the whole attribute.
pub(crate) fn set_once<T>(
    meta: &ParseNestedMeta<'_>,
    slot: &mut Option<T>,
    example: &str,
    parse: impl FnOnce(&ParseNestedMeta<'_>) -> syn::Result<T>,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{}` is set twice; keep one", key(meta))));
    }
    let rest = meta.input.fork();
    if rest.parse::<Token![=]>().is_err() || rest.is_empty() {
        return Err(meta.error(format!("`{}` takes a value: write `{example}`", key(meta))));
    }
    *slot = Some(parse(meta)?);
    Ok(())
}

/// Sets a flag that takes no value (`fallible`), refusing a second occurrence and a value
/// (`fallible = true`), both on the key.
pub(crate) fn set_flag(
    meta: &ParseNestedMeta<'_>,
    flag: &mut Option<proc_macro2::Span>,
) -> syn::Result<()> {
    if flag.is_some() {
        return Err(meta.error(format!("`{}` is set twice; keep one", key(meta))));
    }
    if !meta.input.is_empty() {
        return Err(meta.error(format!(
            "`{0}` takes no value: write `{0}` alone, or leave it out",
            key(meta)
        )));
    }
    *flag = Some(meta.path.span());
    Ok(())
}
