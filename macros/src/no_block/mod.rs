//! `#[no_block]`: parse the arguments, check the fn, instrument it for debug builds (and
//! with `release-stalls`, count its polls in release builds).

pub(crate) mod args;
mod awaits;
mod expand;

pub(crate) use self::expand::Release;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

use crate::attribute::errors::Errors;
use crate::attribute::target::Target;

/// What `#[no_block]` goes on, for its errors.
const TARGET: Target = Target {
    attribute: "no_block",
    wants: "an async fn whose polls should not hold their thread too long",
    without_body: "put #[no_block] on the implementations of the method",
};

/// The whole attribute. On an error the fn is emitted as written, next to the error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_for(args, item, Release::FROM_FEATURES)
}

/// The whole attribute, for a release build that gets `release`.
pub(crate) fn expand_for(args: TokenStream, item: TokenStream, release: Release) -> TokenStream {
    let Ok(function) = syn::parse2::<ItemFn>(item.clone()) else {
        return crate::attribute::target::not_a_function(item, &TARGET);
    };
    let mut errors = Errors::default();
    let args = errors.check(args::parse(args));
    errors.check(check_async(&function));
    match (args, errors.finish(())) {
        (Some(args), Ok(())) => expand::instrumented(&args, function, release),
        (_, result) => crate::attribute::errors::with_errors(function.into_token_stream(), result),
    }
}

/// A `#[no_block]` fn must be async; a test attribute that already ran says which order
/// to write them in.
fn check_async(function: &ItemFn) -> syn::Result<()> {
    if function.sig.asyncness.is_some() {
        return Ok(());
    }
    // A test macro that has run (`#[tokio::test]` above) leaves `#[::core::prelude::v1::test]`
    // on the sync fn it made; a `#[test]` or `#[tokio::test]` the user wrote below has no
    // leading `::`, and there the fn is sync because it was written so.
    let is_test = function.attrs.iter().any(|attr| {
        let path = attr.path();
        path.leading_colon.is_some()
            && path
                .segments
                .last()
                .is_some_and(|last| last.ident == "test")
    });
    let message = if is_test {
        "#[no_block] needs the async fn, but a test attribute written above it has already \
         made it a sync fn: put #[no_block] above #[tokio::test]"
    } else {
        "#[no_block] checks the polls of an async fn; this fn is not async. \
         For a sync fn that blocks, mark it #[blocking] instead"
    };
    Err(syn::Error::new_spanned(function.sig.fn_token, message))
}
