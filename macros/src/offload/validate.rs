//! What an `#[offload]` signature may not have: everything that cannot move to another
//! thread, or cannot be an `async fn` there.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{FnArg, GenericParam, Lifetime, ReturnType, Signature, TraitBound, TypeReference};

use crate::errors::Errors;

/// Checks the signature; every problem is an error on the tokens at fault, all combined.
pub(crate) fn signature(sig: &Signature) -> syn::Result<()> {
    let mut errors = Errors::default();
    let mut error = |tokens: &dyn ToTokens, message: &str| {
        errors.push(syn::Error::new_spanned(tokens, message));
    };
    if let Some(token) = &sig.asyncness {
        error(
            token,
            "remove `async`: #[offload] makes the fn async itself, and its body must be \
             synchronous code, which runs on a pool thread",
        );
    }
    if let Some(token) = &sig.constness {
        error(
            token,
            "remove `const`: a const fn cannot be offloaded, since an #[offload] fn is an async fn",
        );
    }
    if let Some(abi) = &sig.abi {
        error(
            abi,
            "remove the ABI: an #[offload] fn is an async Rust fn; offload a Rust fn that calls \
             the extern one instead",
        );
    }
    if let Some(variadic) = &sig.variadic {
        error(
            variadic,
            "a variadic fn cannot be offloaded; take the values as an owned `Vec<T>` instead",
        );
    }
    for param in &sig.generics.params {
        if let GenericParam::Lifetime(param) = param {
            error(
                &param.lifetime,
                "remove the lifetime parameter: the arguments of an #[offload] fn move to a pool \
                 thread and must be owned ('static); use owned types such as `String`, \
                 `Vec<T>` or `Arc<T>`",
            );
        }
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) if receiver.colon_token.is_none() => {
                if receiver.reference.is_some() {
                    let written = if receiver.mutability.is_some() {
                        "&mut self"
                    } else {
                        "&self"
                    };
                    error(
                        receiver,
                        &format!(
                            "`{written}` borrows the receiver, but #[offload] moves it to a pool \
                             thread: take `self: Arc<Self>` to share it, or `self` to move it"
                        ),
                    );
                }
            }
            FnArg::Receiver(receiver) => borrowed_types(&receiver.ty, "the receiver", &mut error),
            FnArg::Typed(param) => borrowed_types(&param.ty, "an argument", &mut error),
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        borrowed_types(ty, "the result", &mut error);
    }
    errors.finish(())
}

/// Reports each borrow in `ty`: a reference or lifetime other than `'static`.
fn borrowed_types(ty: &syn::Type, what: &str, error: &mut impl FnMut(&dyn ToTokens, &str)) {
    let mut finder = Borrows::default();
    finder.visit_type(ty);
    for borrow in finder.found {
        let message = match borrow {
            Borrow::Reference(_) => format!(
                "{what} of an #[offload] fn moves between threads and must be owned: \
                 use an owned type (`String` for `&str`, `Vec<T>` for `&[T]`, `Arc<T>` to share) \
                 instead of a reference"
            ),
            Borrow::Lifetime(_) => format!(
                "{what} of an #[offload] fn moves between threads and cannot borrow: \
                 use an owned ('static) type instead of one with this lifetime"
            ),
        };
        error(&borrow, &message);
    }
}

/// A borrow found in a type.
enum Borrow<'ast> {
    /// `&T` or `&'a T`.
    Reference(&'ast TypeReference),
    /// A non-`'static` lifetime in a type's arguments or bounds.
    Lifetime(&'ast Lifetime),
}

impl ToTokens for Borrow<'_> {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Borrow::Reference(reference) => reference.to_tokens(tokens),
            Borrow::Lifetime(lifetime) => lifetime.to_tokens(tokens),
        }
    }
}

/// Finds borrows in a type, leaving out what is not a borrow of the caller's data:
/// `'static`, and the lifetimes of `for<'a>` bounds, `Fn(&T)` sugar and `fn(&T)` pointers.
#[derive(Default)]
struct Borrows<'ast> {
    found: Vec<Borrow<'ast>>,
}

fn is_static(lifetime: &Lifetime) -> bool {
    lifetime.ident == "static"
}

impl<'ast> Visit<'ast> for Borrows<'ast> {
    fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
        if reference.lifetime.as_ref().is_some_and(is_static) {
            visit::visit_type(self, &reference.elem);
        } else {
            self.found.push(Borrow::Reference(reference));
        }
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if !is_static(lifetime) {
            self.found.push(Borrow::Lifetime(lifetime));
        }
    }

    fn visit_trait_bound(&mut self, bound: &'ast TraitBound) {
        if bound.lifetimes.is_none() {
            visit::visit_trait_bound(self, bound);
        }
    }

    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }

    fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
}
