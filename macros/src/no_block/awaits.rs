//! Marking the `.await`s of a `#[no_block]` fn's own body, so that a report can say
//! between which `.await`s the fn held the thread.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::ToTokens;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprAwait, Ident, Item};

/// The local the marks are written to (visible to generated code only).
pub(crate) fn marks_local() -> Ident {
    Ident::new("__offload_at", Span::mixed_site())
}

// Input:  `fut.await`, the N-th `.await` of the body
// Output: `::async_offload::__private::awaited(__offload_at,
//              ::async_offload::__private::at_await(__offload_at, N, fut).await)`
//
// `at_await` records the mark just before the `.await` polls, `awaited` clears it once it
// has finished; the guard reads it when the body stops. The `.await` keeps its own token, so
// errors about it (a value that is not a future) still point at the user's code.
// `.await`s in closures, `async` blocks and nested items belong to other futures, and
// those in macro calls are not parsed: all of them stay as written.
//
// Returns the location of each marked `.await`, in mark order (mark N is index N - 1).
pub(crate) fn mark(block: &mut syn::Block, krate: &TokenStream) -> Vec<TokenStream> {
    let mut marker = MarkAwaits {
        krate,
        locations: Vec::new(),
    };
    marker.visit_block_mut(block);
    marker.locations
}

struct MarkAwaits<'a> {
    krate: &'a TokenStream,
    locations: Vec<TokenStream>,
}

/// A `SourceLocation` constant for the place `span` points at.
pub(crate) fn location(krate: &TokenStream, span: Span) -> TokenStream {
    quote_spanned! {span=>
        #krate::__private::SourceLocation {
            file: ::core::file!(),
            line: ::core::line!(),
            column: ::core::column!(),
        }
    }
}

impl VisitMut for MarkAwaits<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Await(ExprAwait {
                attrs,
                base,
                dot_token,
                await_token,
            }) => {
                self.visit_expr_mut(base);
                let krate = self.krate;
                self.locations.push(location(krate, await_token.span()));
                let mark = u32::try_from(self.locations.len()).unwrap_or(u32::MAX);
                let at = marks_local();
                let call = spanned_like(
                    quote!(#krate::__private::at_await),
                    quote!(#at, #mark, #base),
                    base,
                );
                let marked = quote! {
                    #(#attrs)*
                    #krate::__private::awaited(#at, #call #dot_token #await_token)
                };
                *expr = Expr::Verbatim(marked);
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut Item) {}
}

/// `path(args)`, spanned so that the compiler sees the call where `base` is: the path on
/// `base`'s first token, the parentheses on its last. Errors about the awaited value (not a
/// future) then point at the user's expression, and "remove the `.await`" removes only that.
fn spanned_like(path: TokenStream, args: TokenStream, base: &Expr) -> TokenStream {
    let tokens: Vec<TokenTree> = base.to_token_stream().into_iter().collect();
    let first = tokens.first().map_or_else(Span::call_site, TokenTree::span);
    let last = tokens.last().map_or(first, TokenTree::span);
    let mut call: TokenStream = path
        .into_iter()
        .map(|mut token| {
            token.set_span(first);
            token
        })
        .collect();
    let mut args = Group::new(Delimiter::Parenthesis, args);
    args.set_span(last);
    call.extend([TokenTree::Group(args)]);
    call
}
