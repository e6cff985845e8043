//! Pool names checked at start-up: every `#[offload(pool = "...")]` of the program
//! registers its pool, and installing the pools (or [`check_pools`]) compares them with
//! the pools that exist.
//!
//! The list is built at link time with `inventory`: each use is a static that the program
//! collects before `main`, so the check sees the whole program, every crate of it, without
//! anything to call per use. (`inventory` rather than `linkme`: it works on every target
//! the standard library supports and under `#![forbid(unsafe_code)]` in the user's crate.)

use std::collections::BTreeSet;
use std::fmt;

use crate::error::ConfigError;

/// One `#[offload(pool = "...")]` of the program.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolUse {
    /// The pool it names.
    pub pool: &'static str,
    /// The offloaded fn, as `module::path::name`.
    pub function: &'static str,
    /// Where the attribute is.
    pub file: &'static str,
    /// Its line.
    pub line: u32,
}

inventory::collect!(PoolUse);

impl fmt::Display for PoolUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} used by {} ({}:{})",
            self.pool, self.function, self.file, self.line
        )
    }
}

/// What [`check_pools`] found besides errors.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "it lists pools that nothing uses"]
pub struct PoolCheck {
    /// Configured pools (other than the built-in ones) that no `#[offload]` names and no
    /// call has used yet: a typo, or a pool left over.
    pub unused: Vec<String>,
}

impl fmt::Display for PoolCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unused.is_empty() {
            return f.write_str("every configured offload pool is used");
        }
        f.write_str("warning: configured offload pools that nothing names: ")?;
        for (i, pool) in self.unused.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{pool:?}")?;
        }
        Ok(())
    }
}

/// Every pool use the program registered, sorted.
pub(crate) fn registered_uses() -> Vec<PoolUse> {
    let mut uses: Vec<PoolUse> = inventory::iter::<PoolUse>.into_iter().cloned().collect();
    uses.sort();
    uses
}

/// The uses whose pool is not among `pools`, as an error; `Ok` if there are none.
pub(crate) fn unknown_uses(pools: &BTreeSet<String>) -> Result<(), ConfigError> {
    let unknown: Vec<PoolUse> = registered_uses()
        .into_iter()
        .filter(|usage| !pools.contains(usage.pool))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ConfigError::UnknownPools {
        uses: unknown,
        available: pools.iter().cloned().collect(),
    })
}

/// Checks that every `#[offload(pool = "...")]` of the program names a pool that exists,
/// as [`install`](crate::PoolsBuilder::install) does, for a test or a start-up check of a
/// program that installs no pools.
///
/// ```
/// # fn main() -> Result<(), async_offload_runtime::ConfigError> {
/// let check = async_offload_runtime::check_pools()?;
/// if !check.unused.is_empty() {
///     eprintln!("{check}");
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`ConfigError::UnknownPools`], naming each fn whose pool does not exist, with its file
/// and line.
pub fn check_pools() -> Result<PoolCheck, ConfigError> {
    crate::registry::check_pools()
}
