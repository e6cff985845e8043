//! `#[blocking]`: marks a sync fn that blocks, so that calling it inside a poll of a
//! `#[no_block]` future fails at once in debug builds.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ItemFn;

use crate::arguments;
use crate::crate_path;
use crate::errors::Errors;
use crate::not_a_fn::Target;

/// What `#[blocking]` goes on, for its errors.
const TARGET: Target = Target {
    attribute: "blocking",
    wants: "a synchronous fn that blocks its thread",
    without_body: "put #[blocking] on the implementations of the method",
};

/// The whole attribute.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(function) = syn::parse2::<ItemFn>(item.clone()) else {
        return crate::not_a_function(item, &TARGET);
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
        (Some(krate), Ok(())) => marked(
            &crate_path::resolve(krate.as_ref(), Span::call_site()),
            function,
        ),
        (_, result) => crate::errors::with_errors(function.into_token_stream(), result),
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

// Input:  fn query(db: Db) -> Rows { body }
// Output: fn query(db: Db) -> Rows {
//             #[cfg(debug_assertions)]
//             ::async_offload::__private::blocking_call(::core::concat!(::core::module_path!(), "::", "query"));
//             body
//         }
fn marked(krate: &TokenStream, mut function: ItemFn) -> TokenStream {
    let name = function.sig.ident.to_string();
    let check: syn::Stmt = syn::parse_quote! {
        #[cfg(debug_assertions)]
        #krate::__private::blocking_call(::core::concat!(::core::module_path!(), "::", #name));
    };
    function.block.stmts.insert(0, check);
    quote!(#function)
}
