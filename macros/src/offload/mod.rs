//! `#[offload]`, as a pipeline: parse the arguments, check the signature, generate the
//! wrapper.

pub(crate) mod args;
mod expand;
mod validate;

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::attribute::errors::Errors;
use crate::attribute::target::Target;

/// What `#[offload]` goes on, for its errors.
const TARGET: Target = Target {
    attribute: "offload",
    wants: "a synchronous fn whose body should run on a pool thread",
    without_body: "in a trait, declare the method `async fn` and put #[offload] on its \
                   implementations",
};

/// The whole attribute: arguments and item in, wrapper (or errors) out.
///
/// On an error it still emits the item, made `async`, next to the errors: callers then see
/// the fn they expect, and the user sees the one mistake instead of a cascade.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => return crate::attribute::target::not_a_function(item, &TARGET),
    };
    let mut errors = Errors::default();
    let args = errors.check(args::parse(args));
    errors.check(validate::signature(&function.sig));
    match (args, errors.finish(())) {
        (Some(args), Ok(())) => expand::wrapper(&args, function),
        (args, result) => crate::attribute::errors::with_errors(
            expand::plausible(args.as_ref(), function),
            result,
        ),
    }
}
