//! The attribute's arguments: `#[offload]`, `#[offload(pool = "db")]`,
//! `#[offload(fallible)]`, `#[offload(crate = "path")]`.

use async_offload_rules::{BadPoolName, DEFAULT_POOL, check_pool_name};
use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, LitStr};

use crate::attribute::arguments;
use crate::attribute::crate_path;

/// The parsed arguments.
pub(crate) struct Args {
    /// The pool's name, as a literal (its span points at the user's string).
    pub(crate) pool: LitStr,
    /// Where `fallible` is written, if it is: the fn returns `Result<T, OffloadError>`
    /// instead of panicking when its job cannot run.
    pub(crate) fallible: Option<proc_macro2::Span>,
    /// Where generated code finds the `async_offload` crate, if the attribute says.
    pub(crate) krate: Option<syn::Path>,
}

impl Args {
    /// The path of the `async_offload` crate for generated code about `span`: see
    /// [`crate_path::resolve`].
    pub(crate) fn krate(&self, span: proc_macro2::Span) -> TokenStream {
        crate_path::resolve(self.krate.as_ref(), span)
    }
}

/// Parses the arguments; every mistake becomes an error on its own tokens, all of them
/// combined.
///
/// Each comma-separated argument is parsed on its own, so that a mistake in one is reported
/// once, on its tokens, and the others are still checked.
pub(crate) fn parse(args: TokenStream) -> syn::Result<Args> {
    if let Ok(name) = syn::parse2::<LitStr>(args.clone()) {
        return Err(syn::Error::new(
            name.span(),
            format!("name the argument: write `pool = {:?}`", name.value()),
        ));
    }
    let mut pool: Option<LitStr> = None;
    let mut fallible = None;
    let mut krate: Option<syn::Path> = None;
    arguments::parse_each(args, |meta| {
        if meta.path.is_ident("pool") {
            arguments::set_once(meta, &mut pool, "pool = \"db\"", parse_pool)
        } else if meta.path.is_ident("fallible") {
            arguments::set_flag(meta, &mut fallible)
        } else if meta.path.is_ident("crate") {
            arguments::set_once(meta, &mut krate, crate_path::EXAMPLE, crate_path::parse)
        } else {
            Err(arguments::unknown(
                meta,
                "`pool = \"name\"`, `fallible` or `crate = \"path\"`",
            ))
        }
    })?;
    Ok(Args {
        pool: pool.unwrap_or_else(|| LitStr::new(DEFAULT_POOL, proc_macro2::Span::call_site())),
        fallible,
        krate,
    })
}

/// Parses `pool = "name"`: a non-empty string literal.
fn parse_pool(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    const NOT_A_LITERAL: &str = "the pool name must be a string literal, like `pool = \"db\"`; \
                                 to choose a pool at run time, call `async_offload::run(name, || ...)`";
    let input = meta.value()?;
    // What follows `=`, for an error on all of it when it is no expression (`pool = a =`):
    // syn's own would point at the end of the arguments, the whole attribute.
    let written: TokenStream = input.fork().parse()?;
    let value: Expr = input
        .parse()
        .map_err(|_| syn::Error::new_spanned(&written, NOT_A_LITERAL))?;
    let Expr::Lit(ExprLit {
        lit: Lit::Str(name),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(value, NOT_A_LITERAL));
    };
    // The rule the runtime applies when pools are configured: a name it refuses could
    // never be installed, so the fn could never run.
    match check_pool_name(&name.value()) {
        Ok(()) => Ok(name),
        Err(BadPoolName::Empty) => Err(syn::Error::new(
            name.span(),
            "the pool name is empty; name a configured pool, like `pool = \"db\"`, \
             or leave `pool` out to use \"default\"",
        )),
        Err(BadPoolName::Forbidden(bad)) => Err(syn::Error::new(
            name.span(),
            format!(
                "a pool name cannot contain {bad:?} (nor white space, control characters, \
                 ',', '=' or ':'), so no pool could be configured under it; \
                 use letters, digits, '-', '_' or '.', like `pool = \"db-replica\"`"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_is_no_expression_is_refused_on_its_tokens() {
        // Found by the property tests: syn's own error pointed at the whole attribute.
        for args in ["pool = pool =", "pool = +", "pool = \"db\" ="] {
            let tokens: TokenStream = args.parse().unwrap();
            let Err(error) = parse(tokens) else {
                panic!("{args:?} was accepted");
            };
            assert!(
                error
                    .to_string()
                    .starts_with("the pool name must be a string literal"),
                "{args:?}: {error}"
            );
            assert!(
                error.span().source_text().is_some(),
                "{args:?}: at the attribute"
            );
        }
    }
}
