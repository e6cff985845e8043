//! The error for an attribute on something that is not a fn with a body.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::Item;

/// What an attribute goes on, for its error messages.
pub(crate) struct Target {
    /// The attribute's name, like `offload`.
    pub(crate) attribute: &'static str,
    /// The fns it goes on, like "a synchronous fn whose body should run on a pool thread".
    pub(crate) wants: &'static str,
    /// What to do instead when it is on a fn without a body (a trait's declaration).
    pub(crate) without_body: &'static str,
}

/// The item as it was, and an error that names what the item is, spanned on its keyword
/// (for a fn without a body, on its signature).
pub(crate) fn not_a_function(item: TokenStream, target: &Target) -> TokenStream {
    let error = if let Ok(function) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        syn::Error::new_spanned(
            &function.sig,
            format!(
                "#[{}] needs the fn's body: {}",
                target.attribute, target.without_body
            ),
        )
    } else {
        let (span, what, advice) = match syn::parse2::<Item>(item.clone()) {
            Ok(parsed) => describe(&parsed).unwrap_or((first_keyword(&item), "this item", None)),
            Err(_) => (first_keyword(&item), "this item", None),
        };
        let advice = advice.map_or_else(|| format!("put it on {}", target.wants), String::from);
        syn::Error::new(
            span,
            format!(
                "#[{}] goes on a fn, not on {what}: {advice}",
                target.attribute
            ),
        )
    };
    let mut output = item;
    output.extend(error.to_compile_error());
    output
}

/// Where an item's keyword is, what it is, and advice for items that hold fns.
fn describe(item: &Item) -> Option<(Span, &'static str, Option<&'static str>)> {
    let (keyword, what, advice): (&dyn ToTokens, _, _) = match item {
        Item::Struct(item) => (&item.struct_token, "a struct", None),
        Item::Enum(item) => (&item.enum_token, "an enum", None),
        Item::Union(item) => (&item.union_token, "a union", None),
        Item::Trait(item) => (
            &item.trait_token,
            "a trait",
            Some("put it on the methods of the trait's implementations"),
        ),
        Item::Impl(item) => (
            &item.impl_token,
            "an impl block",
            Some("put it on the methods themselves"),
        ),
        Item::Mod(item) => (&item.mod_token, "a module", None),
        Item::Const(item) => (&item.const_token, "a const", None),
        Item::Static(item) => (&item.static_token, "a static", None),
        Item::Type(item) => (&item.type_token, "a type alias", None),
        Item::Use(item) => (&item.use_token, "a `use`", None),
        Item::ForeignMod(item) => (&item.abi, "an extern block", None),
        Item::ExternCrate(item) => (&item.extern_token, "an `extern crate`", None),
        Item::Macro(item) => (&item.mac.path, "a macro", None),
        Item::TraitAlias(item) => (&item.trait_token, "a trait alias", None),
        _ => return None,
    };
    let span = keyword.to_token_stream().into_iter().next()?.span();
    Some((span, what, advice))
}

/// The span of the item's first token after its outer attributes.
fn first_keyword(item: &TokenStream) -> Span {
    let first = item.clone().into_iter().find(|token| match token {
        TokenTree::Punct(punct) => punct.as_char() != '#',
        TokenTree::Group(group) => group.delimiter() != Delimiter::Bracket,
        TokenTree::Ident(_) | TokenTree::Literal(_) => true,
    });
    first.map_or_else(Span::call_site, |token| token.span())
}
