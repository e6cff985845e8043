//! What the three attributes share: reading their arguments (`key = value`, the crate
//! path), reporting their mistakes (several errors at once, the error for an item that is
//! not a fn), and the types their generated code writes in place of `impl Trait`.
//!
//! Each attribute has its own folder beside this one (`offload/`, `no_block/`,
//! `blocking/`), in stages: its arguments, its checks, the code it generates.

pub(crate) mod arguments;
pub(crate) mod crate_path;
pub(crate) mod errors;
pub(crate) mod impl_trait;
pub(crate) mod target;
