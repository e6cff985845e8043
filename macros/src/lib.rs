//! Attribute macros of [`offload`](https://docs.rs/offload). Depend on `offload` and use
//! them from there: the code they generate names items of that crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arguments;
mod blocking;
mod crate_path;
mod errors;
mod impl_trait;
mod no_block;
mod not_a_fn;
mod offload;
#[cfg(test)]
mod proptests;

use not_a_fn::not_a_function;

use proc_macro::TokenStream;

/// *The attribute is defined in `offload-macros`; the items its expansion uses are those of
/// the `offload` crate, which documents pools and their configuration.*
#[proc_macro_attribute]
pub fn offload(args: TokenStream, item: TokenStream) -> TokenStream {
    offload::expand(args.into(), item.into()).into()
}

/// *The attribute is defined in `offload-macros`; see the `offload` crate's documentation.*
#[proc_macro_attribute]
pub fn no_block(args: TokenStream, item: TokenStream) -> TokenStream {
    no_block::expand(args.into(), item.into()).into()
}

/// *The attribute is defined in `offload-macros`; see the `offload` crate's documentation.*
#[proc_macro_attribute]
pub fn blocking(args: TokenStream, item: TokenStream) -> TokenStream {
    blocking::expand(args.into(), item.into()).into()
}
