//! The code `#[offload]` generates.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{FnArg, ItemFn, Pat, PatIdent, ReturnType, Token, Type};

use super::args::Args;

// Input:
//     #[doc = "..."]
//     pub fn load(db: Db, (a, b): (u32, u32), mut buf: Vec<u8>) -> Result<User, Error> { body }
//
// Output:
//     #[doc = "..."]
//     pub async fn load(db: Db, __offload_arg1: (u32, u32), buf: Vec<u8>) -> Result<User, Error> {
//         let db = ::offload::__private::SendArg { value: db };
//         let __offload_arg1 = ::offload::__private::SendArg { value: __offload_arg1 };
//         let buf = ::offload::__private::SendArg { value: buf };
//         ::offload::__private::run("default", move || -> Result<User, Error> {
//             let db = db.value;
//             let (a, b) = __offload_arg1.value;
//             let mut buf = buf.value;
//             body
//         })
//         .await
//     }
//
// `SendArg` requires `Send + 'static`: an argument that cannot move to the pool thread is
// reported at its parameter. Each argument moves into the closure whole, so it is dropped
// on the pool thread whether the body uses it or not; for the same reason a pattern is
// applied there, not in the signature. A receiver is captured whole by a borrow of `self`
// (`capture_whole(&self)`), which makes the `move` closure take all of it.
pub(crate) fn wrapper(args: &Args, mut function: ItemFn) -> TokenStream {
    let krate = &args.krate;
    let params = Params::take(&mut function.sig, krate);
    let Params {
        checks,
        unpacks,
        receiver,
    } = &params;
    let keep_receiver = receiver.map(|self_token| {
        quote_spanned! {self_token.span=> #krate::__private::capture_whole(&#self_token); }
    });
    let output = closure_output(&function.sig.output);
    let stmts = &function.block.stmts;
    let closure_body = quote! {
        #keep_receiver
        #(#unpacks)*
        #(#stmts)*
    };
    let call = run_call(
        args,
        receiver.as_ref(),
        &output,
        closure_body,
        &function.sig.output,
    );
    function.sig.asyncness = Some(Token![async](function.sig.fn_token.span));
    let (outer, inner): (Vec<_>, Vec<_>) = function
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Outer));
    let ItemFn { vis, sig, .. } = &function;
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #(#checks)*
            #call
        }
    }
}

/// The parameters, as the wrapper takes them apart.
struct Params {
    /// `let db = SendArg { value: db };` for each, in the wrapper.
    checks: Vec<TokenStream>,
    /// `let mut db = db.value;` (or the original pattern) for each, in the closure.
    unpacks: Vec<TokenStream>,
    /// The `self` of a receiver, if there is one.
    receiver: Option<Token![self]>,
}

impl Params {
    /// Takes the parameters of `sig` apart, leaving in it a plain name for each: the
    /// parameter's own, without `mut`, or `__offload_argN` for a pattern.
    fn take(sig: &mut syn::Signature, krate: &syn::Path) -> Self {
        let mut params = Params {
            checks: Vec::new(),
            unpacks: Vec::new(),
            receiver: None,
        };
        for (index, input) in sig.inputs.iter_mut().enumerate() {
            let param = match input {
                FnArg::Receiver(receiver) => {
                    params.receiver = Some(receiver.self_token);
                    continue;
                }
                FnArg::Typed(param) => param,
            };
            let cfgs: Vec<_> = param
                .attrs
                .iter()
                .filter(|attr| attr.path().is_ident("cfg"))
                .collect();
            let (name, pattern) = match &mut *param.pat {
                // A plain name keeps its name, which rustdoc shows; `mut` goes to the closure.
                Pat::Ident(PatIdent {
                    by_ref: None,
                    mutability,
                    ident,
                    subpat: None,
                    ..
                }) => {
                    let pattern = quote!(#mutability #ident);
                    *mutability = None;
                    (ident.clone(), pattern)
                }
                pattern => {
                    let name = format_ident!("__offload_arg{}", index, span = Span::mixed_site());
                    let original = quote!(#pattern);
                    *pattern = Pat::Ident(PatIdent {
                        attrs: Vec::new(),
                        by_ref: None,
                        mutability: None,
                        ident: name.clone(),
                        subpat: None,
                    });
                    (name, original)
                }
            };
            params.checks.push(quote_spanned! {param.ty.span()=>
                #(#cfgs)* let #name = #krate::__private::SendArg { value: #name };
            });
            params.unpacks.push(quote! {
                #(#cfgs)* let #pattern = #name.value;
            });
        }
        params
    }
}

// Input:  the closure's return type and statements.
// Output: `::offload::__private::run("pool", move || -> Output { statements }).await`
//
// The call's own tokens carry the span of the return type, and the closure's that of the
// receiver: the compiler reports a result that cannot move back to the caller at the
// former, a receiver that cannot move to the pool thread at the latter, each once.
fn run_call(
    args: &Args,
    receiver: Option<&Token![self]>,
    closure_output: &Type,
    closure_body: TokenStream,
    output: &ReturnType,
) -> TokenStream {
    let Args { pool, krate } = args;
    let output_span = output_span(output);
    let closure_span = receiver.map_or(output_span, |token| token.span);
    let mut closure_body = Group::new(Delimiter::Brace, closure_body);
    closure_body.set_span(closure_span);
    let mut call_args = respan(quote!(#pool,), output_span);
    call_args.extend(respan(quote!(move || ->), closure_span));
    call_args.extend(quote!(#closure_output #closure_body));
    let mut call_args = Group::new(Delimiter::Parenthesis, call_args);
    call_args.set_span(output_span);
    let run = respan(quote!(#krate::__private::run), output_span);
    let await_ = respan(quote!(.await), output_span);
    quote!(#run #call_args #await_)
}

/// The closure's return type: the fn's, with each `impl Trait` left to inference (`_`),
/// since a closure cannot name an opaque type. `()` when the fn returns nothing.
fn closure_output(output: &ReturnType) -> Type {
    let ReturnType::Type(_, ty) = output else {
        return syn::parse_quote!(());
    };
    let mut ty = (**ty).clone();
    ImplTraitToInfer.visit_type_mut(&mut ty);
    ty
}

/// Where a problem with the result (say, a type that is not `Send`) is reported.
fn output_span(output: &ReturnType) -> Span {
    match output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => Span::call_site(),
    }
}

/// `tokens` with every span set to `span`, so that an error about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}

/// Replaces `impl Trait` by `_`.
struct ImplTraitToInfer;

impl VisitMut for ImplTraitToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(opaque) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: Token![_](opaque.impl_token.span),
            });
        } else {
            visit_mut::visit_type_mut(self, ty);
        }
    }
}

// Input:  a fn the attribute refused, for example `fn f(&self) -> u32 { body }`.
// Output: the same fn, made async: `async fn f(&self) -> u32 { body }`.
//
// Emitted next to the errors, so that callers that `.await` it do not add errors of their
// own: the user sees the mistake in the attribute's use, and nothing else.
pub(crate) fn plausible(mut function: ItemFn) -> TokenStream {
    let sig = &mut function.sig;
    sig.asyncness = Some(Token![async](sig.fn_token.span));
    sig.constness = None;
    sig.abi = None;
    sig.variadic = None;
    quote!(#function)
}
