//! Attribute macros of [`async-offload`](https://docs.rs/async-offload). Depend on
//! `async-offload` and use them from there: the code they generate names items of that crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Each attribute has a folder (`offload/`, `no_block/`, `blocking/`); what they share
// is in `attribute/`, the longer tests in `tests/`.

mod attribute;
mod blocking;
mod no_block;
mod offload;
#[cfg(test)]
mod tests;

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
