//! The code `#[blocking]` generates.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

// Input:  fn query(db: Db) -> Rows { body }
// Output: fn query(db: Db) -> Rows {
//             #[cfg(debug_assertions)]
//             ::async_offload::__private::blocking_call(::core::concat!(::core::module_path!(), "::", "query"));
//             body
//         }
pub(crate) fn marked(krate: &TokenStream, mut function: ItemFn) -> TokenStream {
    let name = function.sig.ident.to_string();
    let check: syn::Stmt = syn::parse_quote! {
        #[cfg(debug_assertions)]
        #krate::__private::blocking_call(::core::concat!(::core::module_path!(), "::", #name));
    };
    function.block.stmts.insert(0, check);
    quote!(#function)
}
