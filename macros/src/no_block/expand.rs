//! The code `#[no_block]` generates.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

use super::args::Args;
use super::awaits;

// Input:
//     #[doc = "..."]
//     async fn handle(req: Request) -> Response { body }
//
// Output:
//     #[cfg(not(debug_assertions))]
//     #[doc = "..."]
//     async fn handle(req: Request) -> Response { body }
//
//     #[cfg(debug_assertions)]
//     #[doc = "..."]
//     async fn handle(req: Request) -> Response {
//         static __OFFLOAD_SITE: ::async_offload::__private::FnSite = ::async_offload::__private::FnSite::new(
//             ::core::concat!(::core::module_path!(), "::", "handle"),
//             None, // or Some(Duration::new(..)): the attribute's threshold
//             /* the body's `{` */, /* its `}` */,
//             &[/* each marked `.await` */],
//             ::core::cfg!(test),
//         );
//         let __offload_at = &::core::sync::atomic::AtomicU32::new(0);
//         let __offload_body = ::core::pin::pin!(async move {
//             if false { let __offload_return: Response = loop {}; return __offload_return; }
//             body, its .awaits marked
//         });
//         let __offload_guarded = ::async_offload::__private::Guarded::new(&__OFFLOAD_SITE, __offload_at, __offload_body);
//         __offload_guarded.await
//     }
//
// `__offload_at`, `__offload_body` and `__offload_guarded` are `Span::mixed_site()`: the
// body cannot see them. The last statement starts at the body's own last statement (or
// its closing brace): a test attribute below (`#[tokio::test]`) locates the code it makes
// at the first token of the last statement of the body it gets, so its errors point into
// the user's body, as without #[no_block], and not at this attribute.
// (`__offload_return` lives in a block of its own, spanned at the return type so that a
// mismatch is reported there.)
// `cfg!(test)` is evaluated in the user's crate: whether the fn is a test's own code, where
// a stall fails by default (elsewhere, a dev server, it warns).
// The user's build decides which one exists: a release build gets the fn exactly as
// written.
// The body moves into an `async move` block, pinned in the fn's own future; the
// guard polls it and times each poll, and reads in `__offload_at` which `.await` the body
// stopped at. `return` and `?` keep their meaning in the block. The `if false` gives the
// block the fn's return type before the body is checked, as the fn itself does: a `return`
// or tail of another type coerces to it (`Box<dyn Trait>`), and a mismatch is reported at
// the user's expression rather than at the attribute.
//
// With the `release-stalls` feature (`Release::Counted`), one fn for both builds:
//     #[doc = "..."]
//     async fn handle(req: Request) -> Response {
//         static __OFFLOAD_SITE: .. = ..; // as above
//         ::async_offload::__private::inventory::submit! {
//             ::async_offload::__private::RegisteredFn(&__OFFLOAD_SITE)
//         }
//         let __offload_at = ..; let __offload_body = ..; // as above
//         #[cfg(debug_assertions)]
//         let __offload_guarded = ::async_offload::__private::Guarded::new(&__OFFLOAD_SITE, __offload_at, __offload_body);
//         #[cfg(not(debug_assertions))]
//         let __offload_guarded = ::async_offload::__private::Counted::new(&__OFFLOAD_SITE, __offload_at, __offload_body);
//         __offload_guarded.await
//     }
// `Counted` counts and times each poll in the site's `static`; the link-time list is what
// `poll_stats` reads. `submit!` is an item, unconditional wherever it sits (see the same
// in `offload/expand.rs`).
pub(crate) fn instrumented(args: &Args, function: ItemFn, release: Release) -> TokenStream {
    let krate = &crate::attribute::crate_path::resolve(args.krate.as_ref(), Span::call_site());
    let threshold = match args.threshold {
        Some(threshold) => {
            let (secs, nanos) = (threshold.as_secs(), threshold.subsec_nanos());
            quote! {
                ::core::option::Option::Some(::core::time::Duration::new(#secs, #nanos))
            }
        }
        None => quote!(::core::option::Option::None),
    };
    let name = function.sig.ident.to_string();
    let braces = &function.block.brace_token.span;
    let start = awaits::location(krate, braces.open());
    let end = awaits::location(krate, braces.close());
    let (outer, inner): (Vec<_>, Vec<_>) = function
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Outer));
    let mut body = (*function.block).clone();
    let await_locations = awaits::mark(&mut body, krate);
    let stmts = &body.stmts;
    let at = awaits::marks_local();
    let pinned = Ident::new("__offload_body", Span::mixed_site());
    let last_statement = function
        .block
        .stmts
        .last()
        .and_then(|stmt| stmt.to_token_stream().into_iter().next())
        .map_or(braces.close(), |token| token.span());
    let guarded = Ident::new(
        "__offload_guarded",
        Span::mixed_site().located_at(last_statement),
    );
    let ItemFn { vis, sig, .. } = &function;
    let return_edge = return_edge(&sig.output);
    let site = quote! {
        static __OFFLOAD_SITE: #krate::__private::FnSite = #krate::__private::FnSite::new(
            ::core::concat!(::core::module_path!(), "::", #name),
            #threshold,
            #start,
            #end,
            &[#(#await_locations),*],
            ::core::cfg!(test),
        );
    };
    let body = quote! {
        let #at = &::core::sync::atomic::AtomicU32::new(0);
        let #pinned = ::core::pin::pin!(async move { #return_edge #(#stmts)* });
    };
    match release {
        Release::AsWritten => quote! {
            #[cfg(not(debug_assertions))]
            #function

            #[cfg(debug_assertions)]
            #(#outer)*
            #vis #sig {
                #(#inner)*
                #site
                #body
                let #guarded = #krate::__private::Guarded::new(&__OFFLOAD_SITE, #at, #pinned);
                #guarded.await
            }
        },
        Release::Counted => quote! {
            #(#outer)*
            #vis #sig {
                #(#inner)*
                #site
                #krate::__private::inventory::submit! {
                    #krate::__private::RegisteredFn(&__OFFLOAD_SITE)
                }
                #body
                #[cfg(debug_assertions)]
                let #guarded = #krate::__private::Guarded::new(&__OFFLOAD_SITE, #at, #pinned);
                #[cfg(not(debug_assertions))]
                let #guarded = #krate::__private::Counted::new(&__OFFLOAD_SITE, #at, #pinned);
                #guarded.await
            }
        },
    }
}

/// What a release build gets of a `#[no_block]` fn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Release {
    /// The fn exactly as written.
    AsWritten,
    /// The body counted and timed at every poll (the `release-stalls` feature).
    Counted,
}

impl Release {
    /// What the features this crate was built with ask for.
    pub(crate) const FROM_FEATURES: Release = if cfg!(feature = "release-stalls") {
        Release::Counted
    } else {
        Release::AsWritten
    };
}

/// `if false { let __offload_return: T = loop {}; return __offload_return; }` for the
/// return type `T`, with each `impl Trait` in it left to inference (`_`); nothing when `T`
/// is a bare `impl Trait`.
fn return_edge(output: &ReturnType) -> TokenStream {
    let ty: Type = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => crate::attribute::impl_trait::to_infer(ty),
    };
    if let Type::Infer(_) = ty {
        return TokenStream::new();
    }
    let value = Ident::new("__offload_return", ty.span());
    quote_spanned! {ty.span()=>
        #[allow(
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value
        )]
        if false {
            let #value: #ty = loop {};
            return #value;
        }
    }
}
