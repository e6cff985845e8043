//! `#[offload]`, as a pipeline: parse the arguments, check the signature, generate the
//! wrapper.

mod args;
mod expand;
mod validate;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

use crate::errors::Errors;

/// The whole attribute: arguments and item in, wrapper (or errors) out.
///
/// On an error it still emits the item, made `async`, next to the errors: callers then see
/// the fn they expect, and the user sees the one mistake instead of a cascade.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => return not_a_function(item),
    };
    let mut errors = Errors::default();
    let args = errors.check(args::parse(args));
    errors.check(validate::signature(&function.sig));
    match (args, errors.finish(())) {
        (Some(args), Ok(())) => expand::wrapper(&args, function),
        (_, result) => {
            let mut output = expand::plausible(function);
            if let Err(errors) = result {
                output.extend(errors.to_compile_error());
            }
            output
        }
    }
}

/// The error for an attribute on anything but a fn with a body, spanned on the item's
/// first token, with the item left as it was.
fn not_a_function(item: TokenStream) -> TokenStream {
    let first = item.clone().into_iter().find(|token| {
        // Skip outer attributes (`#` and its bracket group) to reach the item's keyword.
        !matches!(token, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#')
            && !matches!(token, proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Bracket)
    });
    let span = first.map_or_else(proc_macro2::Span::call_site, |token| token.span());
    let error = syn::Error::new(
        span,
        "#[offload] goes on a fn with a body: a synchronous fn (free, or a method with an owned \
         receiver) that becomes an async fn running its body on a pool thread",
    );
    let mut output = item;
    output.extend(error.to_compile_error());
    output.into_token_stream()
}
