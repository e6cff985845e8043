//! `#[blocking]`: marks a sync fn that blocks, so that calling it inside a poll of a
//! `#[no_block]` future fails at once in debug builds. Parse the arguments, check the fn,
//! insert the check.

mod expand;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ItemFn;

use crate::attribute::arguments;
use crate::attribute::crate_path;
use crate::attribute::errors::Errors;
use crate::attribute::target::Target;

/// What `#[blocking]` goes on, for its errors.
const TARGET: Target = Target {
    attribute: "blocking",
    wants: "a synchronous fn that blocks its thread",
    without_body: "put #[blocking] on the implementations of the method",
};

/// The whole attribute.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(function) = syn::parse2::<ItemFn>(item.clone()) else {
        return crate::attribute::target::not_a_function(item, &TARGET);
    };
    let mut errors = Errors::default();
    let krate = errors.check(parse_args(args));
    if let Some(token) = &function.sig.asyncness {
        errors.push(syn::Error::new_spanned(
            token,
            "#[blocking] marks a synchronous fn that blocks; an async fn must not block. \
             Check one with #[no_block], or make it sync and #[offload] it",
        ));
    }
    if let Some(token) = &function.sig.constness {
        errors.push(syn::Error::new_spanned(
            token,
            "a const fn cannot block; remove #[blocking] or `const`",
        ));
    }
    match (krate, errors.finish(())) {
        (Some(krate), Ok(())) => expand::marked(
            &crate_path::resolve(krate.as_ref(), Span::call_site()),
            function,
        ),
        (_, result) => crate::attribute::errors::with_errors(function.into_token_stream(), result),
    }
}

/// Parses `#[blocking]` or `#[blocking(crate = "path")]`.
fn parse_args(args: TokenStream) -> syn::Result<Option<syn::Path>> {
    let mut krate = None;
    arguments::parse_each(args, |meta| {
        if meta.path.is_ident("crate") {
            arguments::set_once(meta, &mut krate, crate_path::EXAMPLE, crate_path::parse)
        } else {
            Err(arguments::unknown(
                meta,
                "`crate = \"path\"`, the only argument of #[blocking]",
            ))
        }
    })?;
    Ok(krate)
}
