//! The code `#[no_block]` generates.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
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
//         const __OFFLOAD_SITE: ::async_offload::__private::FnSite = ::async_offload::__private::FnSite {
//             name: ::core::concat!(::core::module_path!(), "::", "handle"),
//             threshold: None, // or Some(Duration::from_nanos(..)) from the attribute
//             start: /* the body's `{` */, end: /* its `}` */,
//             awaits: &[/* each marked `.await` */],
//         };
//         let __offload_at = &::core::sync::atomic::AtomicU32::new(0);
//         let __offload_body = ::core::pin::pin!(async move {
//             if false { let __offload_return: Response = loop {}; return __offload_return; }
//             body, its .awaits marked
//         });
//         ::async_offload::__private::Guarded::new(&__OFFLOAD_SITE, __offload_at, __offload_body).await
//     }
//
// `__offload_at`, `__offload_body` and `__offload_return` are `Span::mixed_site()`: the
// body cannot see them, and an item of the user's with the same name cannot capture them.
// The user's build decides which one exists: a release build gets the fn exactly as
// written. The body moves into an `async move` block, pinned in the fn's own future; the
// guard polls it and times each poll, and reads in `__offload_at` which `.await` the body
// stopped at. `return` and `?` keep their meaning in the block. The `if false` gives the
// block the fn's return type before the body is checked, as the fn itself does: a `return`
// or tail of another type coerces to it (`Box<dyn Trait>`), and a mismatch is reported at
// the user's expression rather than at the attribute.
pub(crate) fn instrumented(args: &Args, function: ItemFn) -> TokenStream {
    let krate = &crate::crate_path::resolve(args.krate.as_ref(), Span::call_site());
    let threshold = match args.threshold_nanos {
        Some(nanos) => quote! {
            ::core::option::Option::Some(::core::time::Duration::from_nanos(#nanos))
        },
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
    let ItemFn { vis, sig, .. } = &function;
    let return_edge = return_edge(&sig.output);
    quote! {
        #[cfg(not(debug_assertions))]
        #function

        #[cfg(debug_assertions)]
        #(#outer)*
        #vis #sig {
            #(#inner)*
            const __OFFLOAD_SITE: #krate::__private::FnSite = #krate::__private::FnSite {
                name: ::core::concat!(::core::module_path!(), "::", #name),
                threshold: #threshold,
                start: #start,
                end: #end,
                awaits: &[#(#await_locations),*],
            };
            let #at = &::core::sync::atomic::AtomicU32::new(0);
            let #pinned = ::core::pin::pin!(async move { #return_edge #(#stmts)* });
            #krate::__private::Guarded::new(&__OFFLOAD_SITE, #at, #pinned).await
        }
    }
}

/// `if false { let __offload_return: T = loop {}; return __offload_return; }` for the
/// return type `T`, with each `impl Trait` in it left to inference (`_`); nothing when `T`
/// is a bare `impl Trait`.
fn return_edge(output: &ReturnType) -> TokenStream {
    let ty: Type = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => crate::impl_trait::to_infer(ty),
    };
    if let Type::Infer(_) = ty {
        return TokenStream::new();
    }
    let value = Ident::new("__offload_return", Span::mixed_site());
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

#[cfg(test)]
mod tests {
    use proc_macro2::{Delimiter, TokenStream, TokenTree};
    use quote::{ToTokens, quote};
    use syn::{Attribute, Item, ItemFn};

    /// A fn with everything a release build must keep as written: docs, outer and inner
    /// attributes, visibility, generics with bounds, a `where` clause, patterns, `?`,
    /// `return`, an `.await` in a closure and one in a macro call, a nested item.
    fn input() -> TokenStream {
        let source = r#"
            /// Loads a thing.
            #[inline]
            #[must_use = "a load does nothing unless awaited"]
            pub(crate) async fn load<'a, T: Clone + Send, const N: usize>(
                &'a self,
                (left, mut right): (T, [u8; N]),
                name: &'a str,
            ) -> Result<impl Iterator<Item = T> + 'a, Error>
            where
                T: Default + 'a,
            {
                #![allow(unused_mut)]
                let value = self.fetch(name).await?;
                if value.is_empty() {
                    return Err(Error::Empty);
                }
                let later = async move || other().await;
                let count = later().await;
                println!("{} {} {}", value.len(), count, ready().await);
                fn helper() {}
                right[0] = 1;
                Ok(std::iter::repeat(left).take(N))
            }
        "#;
        source.parse().expect("the test input lexes")
    }

    /// The tokens of `stream` one by one, groups opened and closed, without the spacing
    /// of punctuation (which parsing does not keep) and without spans.
    fn tokens(stream: TokenStream) -> Vec<String> {
        let mut flat = Vec::new();
        for token in stream {
            match token {
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => ("<none>", "</none>"),
                    };
                    flat.push(open.to_owned());
                    flat.extend(tokens(group.stream()));
                    flat.push(close.to_owned());
                }
                TokenTree::Punct(punct) => flat.push(punct.as_char().to_string()),
                TokenTree::Ident(ident) => flat.push(ident.to_string()),
                TokenTree::Literal(literal) => flat.push(literal.to_string()),
            }
        }
        flat
    }

    fn is_cfg(attr: &Attribute, predicate: &TokenStream) -> bool {
        attr.path().is_ident("cfg")
            && attr
                .meta
                .require_list()
                .is_ok_and(|list| list.tokens.to_string() == predicate.to_string())
    }

    /// The fns of the expansion of `#[no_block(args)]` on `input`.
    fn expansion(args: TokenStream, input: TokenStream) -> Vec<ItemFn> {
        let output = super::super::expand(args, input);
        let file: syn::File = syn::parse2(output.clone())
            .unwrap_or_else(|error| panic!("the expansion parses ({error}): {output}"));
        file.items
            .into_iter()
            .map(|item| match item {
                Item::Fn(function) => function,
                other => panic!(
                    "the expansion holds only fns, found {}",
                    other.into_token_stream()
                ),
            })
            .collect()
    }

    /// The one item carrying `#[cfg(predicate)]`, with that attribute removed.
    fn only_item_with(items: &[ItemFn], predicate: TokenStream) -> ItemFn {
        let mut found: Vec<ItemFn> = items
            .iter()
            .filter(|function| function.attrs.iter().any(|attr| is_cfg(attr, &predicate)))
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "one item with #[cfg({predicate})]");
        let mut function = found.remove(0);
        let before = function.attrs.len();
        function.attrs.retain(|attr| !is_cfg(attr, &predicate));
        assert_eq!(function.attrs.len(), before - 1, "the cfg is there once");
        function
    }

    #[test]
    fn the_release_item_is_the_input_token_for_token() {
        for args in [
            quote!(),
            quote!(threshold = "2ms"),
            quote!(crate = "my::offload"),
        ] {
            let items = expansion(args.clone(), input());
            assert_eq!(items.len(), 2, "a release and a debug fn for ({args})");
            let release = only_item_with(&items, quote!(not(debug_assertions)));
            assert_eq!(
                tokens(release.into_token_stream()),
                tokens(input()),
                "the release fn of #[no_block({args})] differs from its input"
            );
        }
    }

    #[test]
    fn the_debug_item_times_the_body_and_marks_its_own_awaits_only() {
        let items = expansion(quote!(threshold = "2ms"), input());
        let debug = only_item_with(&items, quote!(debug_assertions));
        let original: ItemFn = syn::parse2(input()).unwrap();
        assert_eq!(
            tokens(debug.sig.to_token_stream()),
            tokens(original.sig.to_token_stream()),
            "the debug fn has the same signature"
        );
        let attrs = |function: &ItemFn| -> Vec<Vec<String>> {
            function
                .attrs
                .iter()
                .map(|attr| tokens(attr.to_token_stream()))
                .collect()
        };
        assert_eq!(
            attrs(&debug),
            attrs(&original),
            "the same outer and inner attributes"
        );
        let body = debug.block.to_token_stream().to_string();
        assert!(body.contains("__private :: Guarded :: new"), "{body}");
        assert!(
            body.contains("from_nanos (2000000u64)"),
            "the threshold: {body}"
        );
        // The two `.await`s of the body itself are marked; the one in the closure and the
        // one in the macro call stay as written.
        assert_eq!(body.matches("__private :: at_await").count(), 2, "{body}");
        assert_eq!(body.matches("__private :: awaited").count(), 2, "{body}");
        assert!(body.contains("move | | other () . await ;"), "{body}");
        assert!(body.contains(", ready () . await)"), "{body}");
        assert!(body.contains("self . fetch (name)) . await"), "{body}");
        assert!(body.contains("later ()) . await"), "{body}");
    }

    #[test]
    fn the_body_gets_the_return_type_before_its_own_code() {
        // With each `impl Trait` left to inference.
        let items = expansion(quote!(), input());
        let body = only_item_with(&items, quote!(debug_assertions))
            .block
            .to_token_stream()
            .to_string();
        let edge = "async move { # [allow (unreachable_code , clippy :: diverging_sub_expression \
                    , clippy :: empty_loop , clippy :: let_unit_value)] if false { let \
                    __offload_return : Result < _ , Error > = loop { } ; return \
                    __offload_return ; } let value =";
        assert!(body.contains(edge), "{body}");
        // `()` when the fn names no return type; nothing for a bare `impl Trait`.
        for (signature, edge) in [
            (
                quote!(async fn f()),
                Some("let __offload_return : () = loop { } ;"),
            ),
            (quote!(async fn f() -> impl Send), None),
            (
                quote!(async fn f() -> Option<(u8, Vec<impl Send>)>),
                Some("let __offload_return : Option < (u8 , Vec < _ >) > = loop { } ;"),
            ),
        ] {
            let items = expansion(quote!(), quote!(#signature { body() }));
            let body = only_item_with(&items, quote!(debug_assertions))
                .block
                .to_token_stream()
                .to_string();
            match edge {
                Some(edge) => assert!(body.contains(edge), "{signature}: {body}"),
                None => assert!(!body.contains("__offload_return"), "{signature}: {body}"),
            }
        }
    }

    #[test]
    fn a_sync_fn_is_refused_and_told_the_order_only_after_a_test_macro_ran() {
        let error = |item: TokenStream| tokens(super::super::expand(quote!(), item)).join(" ");
        // What `#[tokio::test]` written above `#[no_block]` hands it.
        let made_by_a_test_macro = error(quote! {
            #[::core::prelude::v1::test]
            fn handler_never_blocks() { body() }
        });
        assert!(
            made_by_a_test_macro.contains("put #[no_block] above #[tokio::test]"),
            "{made_by_a_test_macro}"
        );
        // Written sync, with a test attribute below: no advice about the order.
        for attribute in [quote!(#[test]), quote!(#[tokio::test])] {
            let written_sync = error(quote! {
                #attribute
                fn handler_never_blocks() { body() }
            });
            assert!(
                written_sync.contains("this fn is not async")
                    && !written_sync.contains("put #[no_block] above"),
                "{attribute}: {written_sync}"
            );
        }
    }

    #[test]
    fn a_crate_path_is_used_for_every_generated_name() {
        let items = expansion(quote!(crate = "my::offload"), input());
        let debug = only_item_with(&items, quote!(debug_assertions));
        let body = debug.block.to_token_stream().to_string();
        let generated = body.matches("offload :: __private ::").count();
        assert!(generated > 0, "{body}");
        assert_eq!(
            body.matches("my :: offload :: __private ::").count(),
            generated,
            "{body}"
        );
    }

    #[test]
    fn a_mistake_yields_the_fn_as_written_and_one_error() {
        let output = tokens(super::super::expand(quote!(threshold = "fast"), input()));
        let original = tokens(input());
        assert_eq!(
            output[..original.len()],
            original,
            "the fn as written first"
        );
        let rest = output[original.len()..].join(" ");
        assert!(rest.starts_with(": : core : : compile_error !"), "{rest}");
        assert_eq!(
            rest.matches("compile_error").count(),
            1,
            "one error: {rest}"
        );
        assert!(rest.contains("is not a duration"), "{rest}");
    }
}
