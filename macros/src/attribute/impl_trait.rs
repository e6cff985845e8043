//! Types that generated code must write where an `impl Trait` of the signature cannot be
//! named.

use syn::visit_mut::{self, VisitMut};
use syn::{Token, Type};

/// `ty` with each `impl Trait` in it replaced by `_`, for a closure's or a `let`'s type
/// annotation, which cannot name an opaque type but can leave it to inference.
pub(crate) fn to_infer(ty: &Type) -> Type {
    let mut ty = ty.clone();
    ImplTraitToInfer.visit_type_mut(&mut ty);
    ty
}

/// Replaces `impl Trait` by `_`.
struct ImplTraitToInfer;

impl VisitMut for ImplTraitToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(opaque) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: Token![_](opaque.impl_token.span),
            });
        } else {
            visit_mut::visit_type_mut(self, ty);
        }
    }
}
