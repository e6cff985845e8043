//! Attribute macros of [`async-offload`](https://docs.rs/async-offload). Depend on
//! `async-offload` and use them from there: the code they generate names items of that crate.

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

// The three attributes are documented where users meet them: on their re-exports in
// `async-offload`, whose docs rustdoc shows above these (empty) ones.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn offload(args: TokenStream, item: TokenStream) -> TokenStream {
    offload::expand(args.into(), item.into()).into()
}

#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn no_block(args: TokenStream, item: TokenStream) -> TokenStream {
    no_block::expand(args.into(), item.into()).into()
}

#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn blocking(args: TokenStream, item: TokenStream) -> TokenStream {
    blocking::expand(args.into(), item.into()).into()
}
