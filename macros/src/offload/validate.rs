//! What an `#[offload]` signature may not have: everything that cannot move to another
//! thread, or cannot be an `async fn` there.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{FnArg, Lifetime, ReceiverKind, ReturnType, Signature, TraitBound, Type, TypeReference};

use crate::attribute::errors::Errors;

/// Checks the signature; every problem is an error on the tokens at fault, all combined,
/// in the order they appear in the source.
///
/// A lifetime parameter that a borrowed type uses is not reported on its own: the error on
/// the borrow says to remove it too, so that one mistake (`fn f<'a>(s: &'a str)`) is one
/// error.
pub(crate) fn signature(sig: &Signature) -> syn::Result<()> {
    let mut errors = Errors::default();
    let mut error = |tokens: &dyn ToTokens, message: &str| {
        errors.push(syn::Error::new_spanned(tokens, message));
    };
    if let Some(token) = &sig.constness {
        error(
            token,
            "remove `const`: a const fn cannot be offloaded, since an #[offload] fn is an async fn",
        );
    }
    if let Some(token) = &sig.asyncness {
        error(
            token,
            "remove `async`: #[offload] makes the fn async itself, and its body must be \
             synchronous code, which runs on a pool thread",
        );
    }
    if let Some(abi) = &sig.abi {
        let written = match &abi.name {
            Some(name) => format!("extern {}", name.token()),
            None => "extern".to_owned(),
        };
        error(
            abi,
            &format!(
                "remove `{written}`: an #[offload] fn is an async Rust fn; to offload a call \
                 of an extern fn, call it from the body of an #[offload] fn"
            ),
        );
    }

    // Short lists, searched in place: a set type would add its code to every build.
    let declared: Vec<String> = sig
        .generics
        .lifetimes()
        .map(|param| param.lifetime.ident.to_string())
        .collect();
    let mut borrows = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => match &receiver.kind {
                ReceiverKind::Value => {}
                ReceiverKind::Reference(_, lifetime, mutability) => {
                    // The `mut` of `&mut self` is the reference's; `receiver.mutability` is
                    // that of `mut self`.
                    let written = if mutability.is_some() {
                        "&mut self"
                    } else {
                        "&self"
                    };
                    borrows.push(Borrowed {
                        tokens: receiver.to_token_stream(),
                        kind: Kind::SelfReference(written),
                        role: Role::Receiver,
                        lifetimes: lifetime.iter().map(|l| l.ident.to_string()).collect(),
                    });
                }
                ReceiverKind::Typed(_, ty) => find_borrows(ty, Role::Receiver, &mut borrows),
                // A kind of receiver newer than this macro: it may borrow, so refuse it.
                _ => error(
                    receiver,
                    "take `self` by value or `self: Arc<Self>`: an #[offload] fn moves its \
                     receiver to a pool thread",
                ),
            },
            FnArg::Typed(param) => find_borrows(&param.ty, Role::Argument, &mut borrows),
        }
    }
    let output_borrows = match &sig.output {
        ReturnType::Type(_, ty) => {
            let mut found = Vec::new();
            find_borrows(ty, Role::Result, &mut found);
            found
        }
        ReturnType::Default => Vec::new(),
    };

    let used: Vec<&String> = borrows
        .iter()
        .chain(&output_borrows)
        .flat_map(|found| &found.lifetimes)
        .filter(|lifetime| declared.contains(*lifetime))
        .collect();
    for param in sig.generics.lifetimes() {
        if !used.contains(&&param.lifetime.ident.to_string()) {
            error(
                &param.lifetime,
                &format!(
                    "remove the lifetime parameter `{}`: an #[offload] fn moves its arguments \
                     to a pool thread, so nothing in its signature may borrow",
                    param.lifetime
                ),
            );
        }
    }
    for found in &borrows {
        error(&found.tokens, &found.message(&declared));
    }
    if let Some(variadic) = &sig.variadic {
        error(
            variadic,
            "a variadic fn cannot be offloaded; take the values as an owned `Vec<T>` instead",
        );
    }
    for found in &output_borrows {
        error(&found.tokens, &found.message(&declared));
    }
    errors.finish(())
}

/// Where a borrow was found.
#[derive(Clone, Copy)]
enum Role {
    Receiver,
    Argument,
    Result,
}

/// What kind of borrow was found.
enum Kind {
    /// `&self` or `&mut self`, as written.
    SelfReference(&'static str),
    /// `&T`, `&'a T` or `&mut T`, with the owned type to write instead.
    Reference {
        written: String,
        mutable: bool,
        instead: Instead,
    },
    /// A lifetime other than `'static` in a type's arguments or bounds: `Cow<'a, str>`.
    Lifetime(String),
}

/// What to write instead of a reference.
enum Instead {
    /// An owned type that holds the same data: `String` for `&str`.
    Owned(String),
    /// The referenced type itself, `T` for `&T` or `&mut T`.
    Value(String),
}

/// A borrow in the signature.
struct Borrowed {
    /// The tokens the error points at.
    tokens: TokenStream,
    kind: Kind,
    role: Role,
    /// The names of the lifetimes the borrow mentions (without `'`).
    lifetimes: Vec<String>,
}

impl Borrowed {
    /// The message: what borrows, why it may not, what to write instead.
    fn message(&self, declared: &[String]) -> String {
        let mut message = match (&self.kind, self.role) {
            (Kind::SelfReference(written), _) => receiver_message(written),
            (Kind::Reference { written, .. }, Role::Receiver) => receiver_message(written),
            (
                Kind::Reference {
                    written,
                    mutable,
                    instead,
                },
                Role::Argument,
            ) => {
                let instead = match (instead, *mutable) {
                    (Instead::Owned(owned), _) => format!("take `{owned}` instead"),
                    (Instead::Value(value), false) => format!(
                        "take `{value}` by value, or `Arc<{value}>` to share it (an `Arc` is \
                         `Send` only if what it holds is `Sync`: for a type that is not, \
                         like many database connections, share `Arc<Mutex<{value}>>`)"
                    ),
                    (Instead::Value(value), true) => format!(
                        "take `{value}` by value, and return it if the caller needs it back"
                    ),
                };
                format!(
                    "`{written}` borrows from the caller, but the arguments of an #[offload] fn \
                     move to a pool thread: {instead}"
                )
            }
            (
                Kind::Reference {
                    written, instead, ..
                },
                Role::Result,
            ) => {
                let instead = match instead {
                    Instead::Owned(owned) => format!("`{owned}`"),
                    Instead::Value(value) => format!("`{value}` or `Arc<{value}>`"),
                };
                format!(
                    "`{written}` is a borrow, but the result of an #[offload] fn comes back \
                     from a pool thread and must be owned: return {instead} instead"
                )
            }
            (Kind::Lifetime(lifetime), Role::Receiver) => format!(
                "`{lifetime}` lets the receiver borrow, but #[offload] moves it to a pool \
                 thread: write `'static` instead, or use an owned type"
            ),
            (Kind::Lifetime(lifetime), Role::Argument) => format!(
                "`{lifetime}` lets this argument borrow from the caller, but the arguments of \
                 an #[offload] fn move to a pool thread: write `'static` instead, or use an \
                 owned type"
            ),
            (Kind::Lifetime(lifetime), Role::Result) => format!(
                "`{lifetime}` lets the result borrow, but the result of an #[offload] fn comes \
                 back from a pool thread and must be owned: write `'static` instead, or use an \
                 owned type"
            ),
        };
        let remove: Vec<String> = self
            .lifetimes
            .iter()
            .filter(|lifetime| declared.contains(*lifetime))
            .map(|lifetime| format!("`'{lifetime}`"))
            .collect();
        let plural = if remove.len() > 1 { "s" } else { "" };
        if !remove.is_empty() {
            message.push_str("; then remove the lifetime parameter");
            message.push_str(plural);
            message.push(' ');
            message.push_str(&remove.join(", "));
        }
        message
    }
}

/// The message for a receiver that borrows, `written` as it is in the signature.
fn receiver_message(written: &str) -> String {
    format!(
        "`{written}` borrows the receiver, but #[offload] moves it to a pool thread: take \
         `self: Arc<Self>` to share it, or `self` to move it. In a trait impl, whose signature \
         the trait fixes, keep this method without #[offload] and have it await an \
         #[offload] fn that takes owned values (clones of the fields it needs, or an `Arc` \
         of them)"
    )
}

/// Adds each borrow in `ty` to `found`: a reference or lifetime other than `'static`.
fn find_borrows(ty: &Type, role: Role, found: &mut Vec<Borrowed>) {
    let mut finder = Borrows::default();
    finder.visit_type(ty);
    for borrow in finder.found {
        found.push(match borrow {
            InType::Reference(reference) => Borrowed {
                tokens: reference.to_token_stream(),
                kind: Kind::Reference {
                    written: type_text(reference),
                    mutable: reference.mutability.is_some(),
                    instead: instead_of(reference),
                },
                role,
                lifetimes: lifetimes_in(reference),
            },
            InType::Lifetime(lifetime) => Borrowed {
                tokens: lifetime.to_token_stream(),
                kind: Kind::Lifetime(lifetime.to_string()),
                role,
                lifetimes: vec![lifetime.ident.to_string()],
            },
        });
    }
}

/// The owned type to write instead of `reference`.
fn instead_of(reference: &TypeReference) -> Instead {
    match &*reference.elem {
        Type::Slice(slice) => Instead::Owned(format!("Vec<{}>", type_text(&slice.elem))),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last();
            let owned = last.and_then(|segment| match segment.ident.to_string().as_str() {
                "str" => Some("String"),
                "Path" => Some("PathBuf"),
                "OsStr" => Some("OsString"),
                "CStr" => Some("CString"),
                _ => None,
            });
            match owned {
                Some(owned) if path.path.segments.len() == 1 => Instead::Owned(owned.to_owned()),
                Some(owned) => {
                    let mut path = path.path.clone();
                    if let Some(segment) = path.segments.last_mut() {
                        segment.ident = syn::Ident::new(owned, segment.ident.span());
                    }
                    Instead::Owned(type_text(&path))
                }
                None => Instead::Value(type_text(&reference.elem)),
            }
        }
        elem => Instead::Value(type_text(elem)),
    }
}

/// The names of the lifetimes in `reference`.
fn lifetimes_in(reference: &TypeReference) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
            self.0.push(lifetime.ident.to_string());
        }
    }
    let mut names = Names(Vec::new());
    names.visit_type_reference(reference);
    names.0
}

/// `tokens` as a person writes them: `&'a str`, `Vec<u8>`, not `& 'a str`, `Vec < u8 >`.
fn type_text(tokens: &impl ToTokens) -> String {
    let mut text = tokens.to_token_stream().to_string();
    for (spaced, tight) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// A borrow found in a type.
enum InType<'ast> {
    /// `&T` or `&'a T`.
    Reference(&'ast TypeReference),
    /// A non-`'static` lifetime in a type's arguments or bounds.
    Lifetime(&'ast Lifetime),
}

/// Finds borrows in a type, leaving out what is not a borrow of the caller's data:
/// `'static`, and the lifetimes of `for<'a>` bounds, `Fn(&T)` sugar and `fn(&T)` pointers.
#[derive(Default)]
struct Borrows<'ast> {
    found: Vec<InType<'ast>>,
}

fn is_static(lifetime: &Lifetime) -> bool {
    lifetime.ident == "static"
}

impl<'ast> Visit<'ast> for Borrows<'ast> {
    fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
        if reference.lifetime.as_ref().is_some_and(is_static) {
            visit::visit_type(self, &reference.elem);
        } else {
            self.found.push(InType::Reference(reference));
        }
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if !is_static(lifetime) {
            self.found.push(InType::Lifetime(lifetime));
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

    fn visit_type_fn_ptr(&mut self, _: &'ast syn::TypeFnPtr) {}
}
