//! The pools the program names: every `#[offload(pool = "...")]` registers its pool, so
//! that installing the pools can compare them with the pools that will exist.
//!
//! The list is built at link time with `inventory`: each use is a static that the program
//! collects before `main`, so the check sees the whole program, every crate of it, without
//! anything to call per use. (`inventory` rather than `linkme`: it works on every target
//! the standard library supports and under `#![forbid(unsafe_code)]` in the user's crate.)

use std::fmt;

/// One `#[offload(pool = "...")]` of the program, as
/// [`ConfigError::UnknownPools`](crate::ConfigError::UnknownPools) reports it.
///
/// Only the attribute makes one: its fields are read through the methods.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolUse {
    /// The pool it names.
    pool: &'static str,
    /// The offloaded fn, as `module::path::name`.
    function: &'static str,
    /// Where the attribute is.
    file: &'static str,
    /// Its line.
    line: u32,
}

inventory::collect!(PoolUse);

impl PoolUse {
    /// The registration `#[offload]` generates; see `__private`.
    #[doc(hidden)]
    #[must_use]
    pub const fn new(
        pool: &'static str,
        function: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        PoolUse {
            pool,
            function,
            file,
            line,
        }
    }

    /// The pool it names.
    #[must_use]
    pub fn pool(&self) -> &'static str {
        self.pool
    }

    /// The offloaded fn, as `module::path::name`.
    #[must_use]
    pub fn function(&self) -> &'static str {
        self.function
    }

    /// The file of the attribute, as `file!()` gives it.
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the attribute.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }
}

impl fmt::Display for PoolUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} used by {} ({}:{})",
            self.pool, self.function, self.file, self.line
        )
    }
}

/// Every pool use the program registered, sorted.
pub(crate) fn registered() -> Vec<PoolUse> {
    let mut uses: Vec<PoolUse> = inventory::iter::<PoolUse>.into_iter().cloned().collect();
    uses.sort();
    uses
}
