//! The `crate = "..."` argument: the path generated code uses to reach `async_offload`.

use proc_macro2::{Span, TokenStream};
use syn::LitStr;
use syn::meta::ParseNestedMeta;

/// How `crate` is written, for messages.
pub(crate) const EXAMPLE: &str = "crate = \"my_offload\"";

/// The path of the `async_offload` crate in generated code, for all three attributes: the
/// path the user wrote in `crate = "..."`, as written, or else `::async_offload` spanned at
/// `span`, so that an error about generated code points at the user's tokens there.
pub(crate) fn resolve(written: Option<&syn::Path>, span: Span) -> TokenStream {
    match written {
        Some(path) => quote::quote!(#path),
        None => quote::quote_spanned!(span=> ::async_offload),
    }
}

/// Parses the value of `crate = "path::to::offload"`.
pub(crate) fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<syn::Path> {
    let literal: LitStr = meta.value()?.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            "the crate path must be a string literal, like `crate = \"my_offload\"`",
        )
    })?;
    let path = literal.parse_with(syn::Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            literal.span(),
            format!(
                "`{}` is not a path; write the path `async_offload` is reachable at, like `crate = \"my_offload\"` or `crate = \"::deps::async_offload\"`",
                literal.value()
            ),
        )
    })?;
    // A path through `Self` names an associated item of a type, never a crate or a module:
    // said here, once, rather than by the compiler at each use in the generated code.
    if path
        .segments
        .first()
        .is_some_and(|first| first.ident == "Self")
    {
        return Err(syn::Error::new(
            literal.span(),
            "`Self` is a type, not the crate; write the path `async_offload` is reachable at, like `crate = \"my_offload\"` or `crate = \"::deps::async_offload\"`",
        ));
    }
    Ok(path)
}
