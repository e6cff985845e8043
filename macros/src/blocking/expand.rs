//! The code `#[blocking]` generates.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::{ItemFn, ReturnType};

// Input:  fn query(db: Db) -> Rows { body }
// Output:
//     #[cfg(not(debug_assertions))]
//     fn query(db: Db) -> Rows { body }
//
//     #[cfg(debug_assertions)]
//     #[track_caller]
//     fn query(db: Db) -> Rows {
//         fn __offload_fn() {}
//         ::async_offload::__private::blocking_call(
//             ::async_offload::__private::fn_path(&__offload_fn),
//             move || -> Rows { body },
//         )
//     }
//
// The user's build decides which one exists: a release build gets the fn exactly as written.
// In a debug build the check reports the call where it was made: `#[track_caller]` makes
// the caller's location inside `blocking_call` the user's call of `query`. The body runs in
// a closure, which is not `#[track_caller]`, so that its own panics (an `unwrap()`) keep
// their lines instead of moving to the caller; `return` and `?` keep their meaning in it,
// and `move` lets it return what borrows from `&mut self`. The type name of `__offload_fn`
// is the path of the fn, with the type of a method (`my_app::Db::find`). A fn that is
// `#[track_caller]` already keeps its attribute; one with another ABI than Rust's cannot be,
// so its check reports the attribute's line. `__offload_fn` is `Span::mixed_site()`.
pub(crate) fn marked(krate: &TokenStream, function: ItemFn) -> TokenStream {
    let (outer, inner): (Vec<_>, Vec<_>) = function
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Outer));
    let track_caller = may_add_track_caller(&function).then(|| quote!(#[track_caller]));
    let output = match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            let ty = crate::attribute::impl_trait::to_infer(ty);
            quote!(#ty)
        }
    };
    let marker = Ident::new("__offload_fn", Span::mixed_site());
    let ItemFn {
        vis, sig, block, ..
    } = &function;
    quote! {
        #[cfg(not(debug_assertions))]
        #function

        #[cfg(debug_assertions)]
        #(#outer)*
        #track_caller
        #vis #sig {
            #(#inner)*
            fn #marker() {}
            #krate::__private::blocking_call(
                #krate::__private::fn_path(&#marker),
                move || -> #output #block,
            )
        }
    }
}

/// Whether the generated fn can be made `#[track_caller]`: it has Rust's ABI (the attribute
/// requires it) and is not `#[track_caller]` already (a second one is a warning).
fn may_add_track_caller(function: &ItemFn) -> bool {
    let rust_abi = function
        .sig
        .abi
        .as_ref()
        .is_none_or(|abi| abi.name.as_ref().is_some_and(|name| name.value() == "Rust"));
    rust_abi
        && !function
            .attrs
            .iter()
            .any(|attr| attr.path().is_ident("track_caller"))
}
