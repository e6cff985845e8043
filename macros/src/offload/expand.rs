//! The code `#[offload]` generates.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, PatIdent, ReturnType, Token, Type};

use async_offload_rules::DEFAULT_POOL;

use super::args::Args;

// Input:
//     #[doc = "..."]
//     pub fn load(db: Db, (a, b): (u32, u32), mut buf: Vec<u8>) -> Result<User, Error> { body }
//
// Output:
//     #[doc = "..."]
//     pub async fn load(db: Db, __offload_arg1: (u32, u32), buf: Vec<u8>) -> Result<User, Error> {
//         let __offload_arg0 = ::async_offload::__private::SendArg { value: db };
//         let __offload_arg1 = ::async_offload::__private::SendArg { value: __offload_arg1 };
//         let __offload_arg2 = ::async_offload::__private::SendArg { value: buf };
//         match ::async_offload::__private::try_run_at(
//             { static __OFFLOAD_SITE: SitePool = SitePool::new(); &__OFFLOAD_SITE }, // see `run_call`
//             "default",
//             move || -> Result<User, Error> {
//                 let db = __offload_arg0.value;
//                 let __offload_arg1 = __offload_arg1.value;
//                 let (a, b) = __offload_arg1;
//                 let mut buf = __offload_arg2.value;
//                 match () { () => { body } }
//             },
//         )
//         .await {
//             ::core::result::Result::Ok(__offload_value) => __offload_value,
//             // Panics at `load`, naming it: see `run_call`.
//             ::core::result::Result::Err(__offload_error) => { /* cannot_run(..) */ }
//         }
//     }
//
// `SendArg` requires `Send + 'static`: an argument that cannot move to the pool thread is
// reported at its parameter. Each argument moves into the closure whole, so it is dropped
// on the pool thread whether the body uses it or not; for the same reason a pattern is
// applied there, not in the signature, and to a local of the closure rather than to
// `__offload_arg1.value`: a `move` closure captures only the places it uses, so
// `let (a, _) = __offload_arg1.value` would capture `.value.0` alone (`let _ = ...`,
// nothing) and leave the rest to be dropped on the executor. A receiver is captured whole
// by a borrow of `self` (`capture_whole(&self)`), which makes the `move` closure take all
// of it. The `__offload_argN` names are `Span::mixed_site()`: the body cannot see them.
pub(crate) fn wrapper(args: &Args, mut function: ItemFn) -> TokenStream {
    let params = Params::take(&mut function.sig, args);
    let Params {
        checks,
        unpacks,
        receiver,
    } = &params;
    let keep_receiver = receiver.map(|self_token| {
        let capture_whole = private_path(
            args.krate(self_token.span),
            "capture_whole",
            self_token.span,
        );
        quote_spanned! {self_token.span=> #capture_whole(&#self_token); }
    });
    let output = closure_output(&function.sig.output);
    let spans = CallSpans {
        output: output_span(&function.sig),
        name: function.sig.ident.span(),
    };
    if args.fallible.is_some() {
        make_fallible(args, &mut function.sig);
    }
    let body = body(&function.block);
    let closure_body = quote! {
        #keep_receiver
        #(#unpacks)*
        #body
    };
    let call = run_call(args, receiver.as_ref(), &output, closure_body, spans);
    function.sig.asyncness = Some(Token![async](function.sig.fn_token.span));
    let (outer, inner): (Vec<_>, Vec<_>) = function
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Outer));
    let registration = registration(args, &function.sig.ident);
    let ItemFn { vis, sig, .. } = &function;
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #registration
            #(#checks)*
            #call
        }
    }
}

// Input:  `#[offload(pool = "db")] fn load_user(..)`
// Output: ::async_offload::__private::inventory::submit! {
//             ::async_offload::__private::PoolUse::new(
//                 "db",
//                 ::core::concat!(::core::module_path!(), "::", "load_user"),
//                 ::core::file!(),
//                 ::core::line!(),
//             )
//         }
//
// A static in the link-time list that installing the pools checks: a pool name nobody
// configured is an error at start-up, not at the first call. Nothing for the default pool,
// which always exists.
//
// It is an item at the top of the wrapper's body, not beside the fn. `submit!` runs nothing
// (inventory asks for it outside fn bodies so that no one puts it under a condition, where
// it would still take effect); as an unconditional item it is the same static wherever it
// sits. Beside the fn it would break every fn in an impl block: the attribute sees only the
// fn, an associated fn without `self` looks like a free one, and an impl block takes no
// `const _` item (a trait impl takes nothing the trait does not declare).
// `tests/forbid_unsafe.rs` checks that it compiles under `#![forbid(unsafe_code)]` and is
// seen, for a free fn, an associated fn and a method.
fn registration(args: &Args, name: &syn::Ident) -> Option<TokenStream> {
    if args.pool.value() == DEFAULT_POOL {
        return None;
    }
    let pool = &args.pool;
    let krate = args.krate(pool.span());
    let name = name.to_string();
    Some(quote_spanned! {pool.span()=>
        #krate::__private::inventory::submit! {
            #krate::__private::PoolUse::new(
                #pool,
                ::core::concat!(::core::module_path!(), "::", #name),
                ::core::file!(),
                ::core::line!(),
            )
        }
    })
}

// Input:  `fn f(..) -> T` (or no return type), with `#[offload(fallible)]`.
// Output: `fn f(..) -> ::core::result::Result<T, ::async_offload::OffloadError>` (`()` for
//         no return type), spanned at the return type (or the fn's name).
//
// The wrapper then returns what `try_run_at` gives, where it otherwise panics on an error
// (see `run_call`). `OffloadError` resolves at the call site, as generated tokens: see
// `private_path`.
fn make_fallible(args: &Args, sig: &mut syn::Signature) {
    let span = output_span(sig);
    let value = match &sig.output {
        ReturnType::Type(_, ty) => quote!(#ty),
        ReturnType::Default => quote_spanned!(span=> ()),
    };
    let krate = args.krate(span);
    let error = Ident::new("OffloadError", span.resolved_at(Span::call_site()));
    sig.output = syn::parse_quote_spanned! {span=>
        -> ::core::result::Result<#value, #krate::#error>
    };
}

/// The parameters, as the wrapper takes them apart.
struct Params {
    /// `let __offload_argN = SendArg { value: db };` for each, in the wrapper.
    checks: Vec<TokenStream>,
    /// `let mut db = __offload_argN.value;` for each, in the closure; for a pattern,
    /// `let __offload_argN = __offload_argN.value; let (a, b) = __offload_argN;`.
    unpacks: Vec<TokenStream>,
    /// The `self` of a receiver, if there is one.
    receiver: Option<Token![self]>,
}

impl Params {
    /// Takes the parameters of `sig` apart, leaving in it a plain name for each: the
    /// parameter's own, without `mut`, or `__offload_argN` for a pattern.
    ///
    /// The parameter's name in the signature, a `_name` bound in the closure and the field
    /// name in `SendArg { value: .. }` resolve at the call site (`Span::resolved_at`): same
    /// place and meaning, but lints skip them as macro output, where they would otherwise
    /// blame the user for generated code (reading `_name`, `value: value`). The argument
    /// read into `SendArg` keeps the user's own tokens: a not-`Send` error points there.
    fn take(sig: &mut syn::Signature, args: &Args) -> Self {
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
            let holder = format_ident!("__offload_arg{}", index, span = Span::mixed_site());
            let (value, unpack) = match &mut *param.pat {
                // A plain name keeps its name, which rustdoc shows; `mut` goes to the closure.
                Pat::Ident(PatIdent {
                    by_ref: None,
                    mutability,
                    ident,
                    subpat: None,
                    ..
                }) => {
                    let mut binding = ident.clone();
                    if binding.to_string().starts_with('_') {
                        // Never reported unused, so it can be marked as generated, which
                        // keeps `no_effect_underscore_binding` from taking it for the user's.
                        binding.set_span(binding.span().resolved_at(Span::call_site()));
                    }
                    let unpack = quote! {
                        #(#cfgs)* let #mutability #binding = #holder.value;
                    };
                    *mutability = None;
                    let value = ident.clone();
                    ident.set_span(ident.span().resolved_at(Span::call_site()));
                    (value, unpack)
                }
                pattern => {
                    // Moved whole into a local first: see `wrapper`.
                    let unpack = quote! {
                        #(#cfgs)* let #holder = #holder.value;
                        #(#cfgs)* let #pattern = #holder;
                    };
                    // Read at the pattern's place, so that an error points there.
                    let mut value = holder.clone();
                    value.set_span(holder.span().located_at(pattern.span()));
                    *pattern = Pat::Ident(PatIdent {
                        attrs: Vec::new(),
                        by_ref: None,
                        mutability: None,
                        ident: holder.clone(),
                        subpat: None,
                    });
                    (value, unpack)
                }
            };
            let send_arg = private_path(args.krate(param.ty.span()), "SendArg", param.ty.span());
            let field = Ident::new("value", Span::call_site());
            params.checks.push(quote_spanned! {param.ty.span()=>
                #(#cfgs)* let #holder = #send_arg { #field: #value };
            });
            params.unpacks.push(unpack);
        }
        params
    }
}

// Input:  the fn's block, `{ statements }`.
// Output: `match () { () => { statements } }`
//
// A match arm ends the life of the temporaries made in it, so those of the body's last
// expression are dropped before the arguments' locals, as in a fn, whose arguments outlive
// them in every edition: with an owned `db`, `db.lock().unwrap().len()` compiles in an
// edition 2021 crate. The block of its own also keeps the user's items and statements
// apart from the generated `let`s, for lints such as `items_after_statements`.
fn body(block: &syn::Block) -> TokenStream {
    let stmts = &block.stmts;
    let mut inner = Group::new(Delimiter::Brace, quote!(#(#stmts)*));
    inner.set_span(block.brace_token.span.join());
    quote!(match () { () => #inner })
}

// Input:  the closure's return type and statements.
// Output:
//     match ::async_offload::__private::try_run_at(
//         {
//             static __OFFLOAD_SITE: ::async_offload::__private::SitePool =
//                 ::async_offload::__private::SitePool::new();
//             &__OFFLOAD_SITE
//         },
//         "pool",
//         move || -> Output { statements },
//     )
//     .await {
//         ::core::result::Result::Ok(__offload_value) => __offload_value,
//         ::core::result::Result::Err(__offload_error) => {
//             fn __offload_fn() {}
//             let __offload_cannot_run = ::async_offload::__private::cannot_run;
//             __offload_cannot_run(::async_offload::__private::fn_path(&__offload_fn), __offload_error)
//         }
//     }
//
// With `fallible`, only the call and its `.await`: the fn returns the `Result` itself (see
// `make_fallible`).
//
// The site is a static of the wrapper, in a block that only hands out a reference to it:
// the fn's pool, looked up at its first call, is kept there for the later ones (a static in
// a generic fn is one for all its instances, which all name the same pool).
// The call's own tokens carry the span of the return type, and the closure's that of the
// receiver: the compiler reports a result that cannot move back to the caller at the
// former, a receiver that cannot move to the pool thread at the latter, each once.
// A job that cannot run (an unknown pool, one shut down) panics in `cannot_run`, which is
// `#[track_caller]`: the panic is located where the call starts. Its first token,
// `__offload_cannot_run`, has the span of the fn's name (a span of the expansion would put
// the location at the attribute), so the panic points at the user's fn. The fn is bound to
// that name (a fn item: the call stays direct, and `#[track_caller]` holds), not called by
// its path, whose first token may be the user's `crate = ".."` string: an error about that
// path stays there, once. The message names the fn with the type name of `__offload_fn`:
// the path of the fn it is defined in, with the type of a method. A panic of the body is
// none of this: `try_run_at` resumes it with its own payload. `__offload_value`,
// `__offload_error` and `__offload_fn` are `Span::mixed_site()`; `__OFFLOAD_SITE`, an item,
// which that does not hide, is out of the body's sight by its block.
fn run_call(
    args: &Args,
    receiver: Option<&Token![self]>,
    closure_output: &Type,
    closure_body: TokenStream,
    spans: CallSpans,
) -> TokenStream {
    let CallSpans { output, name } = spans;
    let pool = &args.pool;
    let closure_span = receiver.map_or(output, |token| token.span);
    let mut closure_body = Group::new(Delimiter::Brace, closure_body);
    closure_body.set_span(closure_span);
    let site_pool = private_path(args.krate(output), "SitePool", output);
    let site = Ident::new("__OFFLOAD_SITE", Span::mixed_site());
    // Spanned by hand, not respanned: the crate path in it keeps its own spans.
    let mut call_args = quote_spanned! {output=>
        {
            static #site: #site_pool = #site_pool::new();
            &#site
        },
    };
    call_args.extend(respan(quote!(#pool,), output));
    call_args.extend(respan(quote!(move || ->), closure_span));
    call_args.extend(quote!(#closure_output #closure_body));
    let mut call_args = Group::new(Delimiter::Parenthesis, call_args);
    call_args.set_span(output);
    let try_run = private_path(args.krate(output), "try_run_at", output);
    let await_ = respan(quote!(.await), output);
    if args.fallible.is_some() {
        return quote!(#try_run #call_args #await_);
    }
    let value = Ident::new("__offload_value", Span::mixed_site());
    let error = Ident::new("__offload_error", Span::mixed_site());
    let marker = Ident::new("__offload_fn", Span::mixed_site());
    let cannot_run = private_path(args.krate(name), "cannot_run", name);
    let local_cannot_run = Ident::new("__offload_cannot_run", name);
    let fn_path = private_path(args.krate(name), "fn_path", name);
    let mut cannot_run_args = Group::new(
        Delimiter::Parenthesis,
        quote_spanned!(name=> #fn_path(&#marker), #error),
    );
    cannot_run_args.set_span(name);
    quote! {
        match #try_run #call_args #await_ {
            ::core::result::Result::Ok(#value) => #value,
            ::core::result::Result::Err(#error) => {
                fn #marker() {}
                let #local_cannot_run = #cannot_run;
                #local_cannot_run #cannot_run_args
            }
        }
    }
}

/// Where `run_call` puts the errors and the panic about its parts.
struct CallSpans {
    /// A problem with the result or the call as a whole: see [`output_span`].
    output: Span,
    /// The panic of a job that cannot run: the fn's name.
    name: Span,
}

/// The closure's return type: the fn's, with each `impl Trait` left to inference (`_`),
/// since a closure cannot name an opaque type. `()` when the fn returns nothing.
fn closure_output(output: &ReturnType) -> Type {
    let ReturnType::Type(_, ty) = output else {
        return syn::parse_quote!(());
    };
    crate::attribute::impl_trait::to_infer(ty)
}

/// Where a problem with the result (say, a type that is not `Send`) or with the call as a
/// whole is reported: the return type, or the fn's name when it has none.
fn output_span(sig: &syn::Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    }
}

/// `krate::__private::item`, its own tokens spanned by `span` so that an error about them
/// points there.
///
/// `__private` alone resolves at the call site: a path with a generated segment is not
/// `unused_qualifications`' business, which would otherwise flag
/// `async_offload::__private::PoolUse` when the user's crate path is relative
/// (`crate = "offload"`) and `async_offload::PoolUse`, the same item, is in scope. (An
/// absolute path, like the default `::async_offload`, is never.)
fn private_path(krate: TokenStream, item: &str, span: Span) -> TokenStream {
    let private = Ident::new("__private", span.resolved_at(Span::call_site()));
    let item = Ident::new(item, span);
    let mut path = krate;
    path.extend(quote_spanned!(span=> ::#private::#item));
    path
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

// Input:  a fn the attribute refused, for example `fn f(&self) -> u32 { body }`, and the
//         arguments, if they parsed.
// Output: the same fn, made async: `async fn f(&self) -> u32 { body }`; with `fallible`,
//         `async fn f(&self) -> Result<u32, OffloadError> { Ok({ body }) }`.
//
// Emitted next to the errors, so that callers that `.await` it do not add errors of their
// own: the user sees the mistake in the attribute's use, and nothing else.
pub(crate) fn plausible(args: Option<&Args>, mut function: ItemFn) -> TokenStream {
    if let Some(args) = args.filter(|args| args.fallible.is_some()) {
        make_fallible(args, &mut function.sig);
        let block = &function.block;
        *function.block = syn::parse_quote!({ ::core::result::Result::Ok(#block) });
    }
    let sig = &mut function.sig;
    sig.asyncness = Some(Token![async](sig.fn_token.span));
    sig.constness = None;
    sig.abi = None;
    sig.variadic = None;
    quote!(#function)
}
