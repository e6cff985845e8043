//! What `#[no_block]` generates, token by token: the release item is the input as written,
//! the debug item times the body and marks its own `.await`s, and a mistake yields the fn
//! and one error.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{Attribute, Item, ItemFn};

use crate::no_block::Release;

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

/// The fns of the expansion of `#[no_block(args)]` on `input`, without `release-stalls`.
fn expansion(args: TokenStream, input: TokenStream) -> Vec<ItemFn> {
    expansion_for(args, input, Release::AsWritten)
}

/// The fns of the expansion of `#[no_block(args)]` on `input`, for a release build that gets
/// `release`.
fn expansion_for(args: TokenStream, input: TokenStream, release: Release) -> Vec<ItemFn> {
    let output = crate::no_block::expand_for(args, input, release);
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
        body.contains("Duration :: new (0u64 , 2000000u32)"),
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
fn with_release_stalls_one_fn_counts_in_release_what_it_guards_in_debug() {
    let items = expansion_for(quote!(threshold = "2ms"), input(), Release::Counted);
    assert_eq!(items.len(), 1, "one fn for both builds");
    let counted = &items[0];
    let original: ItemFn = syn::parse2(input()).unwrap();
    assert_eq!(
        tokens(counted.sig.to_token_stream()),
        tokens(original.sig.to_token_stream()),
        "the same signature"
    );
    assert_eq!(
        counted.attrs.len(),
        original.attrs.len(),
        "no cfg on the fn"
    );
    let body = counted.block.to_token_stream().to_string();
    for expected in [
        "static __OFFLOAD_SITE :",
        "inventory :: submit ! { :: async_offload :: __private :: RegisteredFn (& __OFFLOAD_SITE) }",
        "# [cfg (debug_assertions)] let __offload_guarded = :: async_offload :: __private :: Guarded :: new",
        "# [cfg (not (debug_assertions))] let __offload_guarded = :: async_offload :: __private :: Counted :: new",
        "Duration :: new (0u64 , 2000000u32)",
    ] {
        assert!(body.contains(expected), "{expected}: {body}");
    }
    // The same marking of `.await`s as for the debug fn without the feature.
    assert_eq!(body.matches("__private :: at_await").count(), 2, "{body}");
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
    let error = |item: TokenStream| tokens(crate::no_block::expand(quote!(), item)).join(" ");
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
    let output = tokens(crate::no_block::expand(quote!(threshold = "fast"), input()));
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
    assert!(
        rest.contains("duration \\\"fast\\\" does not start with a number"),
        "{rest}"
    );
}
