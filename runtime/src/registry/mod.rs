//! The process-wide pools by name: the built-in ones, what [`PoolsBuilder::install`] adds
//! (`builder.rs`), lookup, stats, and shutdown of every pool or of one (`shutdown.rs`).

use std::cell::RefCell;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_offload_rules::DEFAULT_POOL;

use crate::config::PoolConfig;
use crate::error::OffloadError;
use crate::pool::{Pool, PoolStats};

mod builder;
mod by_name;
mod shutdown;

use self::by_name::{ByName, insert_sorted};

pub use self::builder::{Pools, PoolsBuilder};
pub use self::shutdown::{shutdown, shutdown_pool};

/// The name of the fixed pool with one thread per core, for CPU-bound work.
pub(crate) const CPU_POOL: &str = "cpu";

/// Every pool of the process.
struct Registry {
    /// The pools, by name. Every offloaded call takes the read lock for one lookup; only
    /// `install` takes the write lock. No other lock is taken while it is held, except a
    /// pool's own state lock by `install` and `shutdown`, never the other way round.
    pools: RwLock<PoolMap>,
}

/// The fields behind the registry's lock.
struct PoolMap {
    /// Sorted rather than hashed: a call compares its pool's name with a few others instead
    /// of hashing it (with a handful of pools, the cheaper lookup).
    by_name: ByName<Arc<Pool>>,
    /// The configuration each pool was installed with: such a pool keeps it for good.
    installed: ByName<PoolConfig>,
    /// Whether `shutdown` has run: nothing may be installed any more.
    shut_down: bool,
}

/// The registry, with the built-in pools on first use.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    // Perhaps at a first call inside a poll: what setting the pools up reads (the cores the
    // process may use, from `/proc` and `/sys`) is offload's own.
    REGISTRY.get_or_init(|| crate::stall::excused(new_registry))
}

/// The registry as the process starts it, with the built-in pools.
fn new_registry() -> Registry {
    let mut by_name = ByName::new();
    for (name, config) in builtin_configs() {
        by_name.insert(name, Arc::new(Pool::new(name, config)));
    }
    Registry {
        pools: RwLock::new(PoolMap {
            by_name,
            installed: ByName::new(),
            shut_down: false,
        }),
    }
}

/// The pools that exist before any configuration.
fn builtin_configs() -> [(&'static str, PoolConfig); 2] {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    [
        (DEFAULT_POOL, PoolConfig::elastic(64)),
        (CPU_POOL, PoolConfig::fixed(cores)),
    ]
}

impl Registry {
    /// A poisoned lock still guards a consistent map: it is never held while user code runs.
    fn read(&self) -> RwLockReadGuard<'_, PoolMap> {
        self.pools.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, PoolMap> {
        self.pools.write().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    /// The pool this thread looked up last. A pool that has been looked up is never
    /// replaced nor removed (`install` refuses to change a used pool), so the entry stays
    /// right for good: a thread calling the same pool again skips the registry's lock.
    static LAST_LOOKUP: RefCell<Option<Arc<Pool>>> = const { RefCell::new(None) };
}

/// The pool named `name`, marked as used.
pub(crate) fn lookup(name: &str) -> Result<Arc<Pool>, OffloadError> {
    // `try_with`: a call from a destructor of another thread-local, after this one is gone,
    // goes to the registry.
    let cached = LAST_LOOKUP.try_with(|last| {
        last.borrow()
            .as_ref()
            .filter(|pool| pool.name() == name)
            .map(Arc::clone)
    });
    if let Ok(Some(pool)) = cached {
        return Ok(pool);
    }
    let pool = lookup_in_registry(name)?;
    let _ = LAST_LOOKUP.try_with(|last| *last.borrow_mut() = Some(Arc::clone(&pool)));
    Ok(pool)
}

/// The pool of one `#[offload]` fn: looked up by name at the fn's first call, then kept
/// in a static of the fn, so that later calls skip the lookup. A pool that has been looked
/// up is never replaced nor removed (`install` refuses to change a used pool), so what it
/// keeps stays right for good.
#[derive(Default)]
pub struct SitePool {
    pool: OnceLock<Arc<Pool>>,
}

impl SitePool {
    /// A site whose fn has not run yet.
    #[must_use]
    pub const fn new() -> Self {
        SitePool {
            pool: OnceLock::new(),
        }
    }

    /// The pool named `name`, which every call of this site names.
    #[inline]
    pub(crate) fn lookup(&self, name: &str) -> Result<Arc<Pool>, OffloadError> {
        match self.pool.get() {
            Some(pool) => Ok(Arc::clone(pool)),
            None => self.first_lookup(name),
        }
    }

    /// [`SitePool::lookup`] at the site's first call (or after failed ones): out of line,
    /// to keep what every site inlines short.
    #[inline(never)]
    fn first_lookup(&self, name: &str) -> Result<Arc<Pool>, OffloadError> {
        let pool = lookup(name)?;
        Ok(Arc::clone(self.pool.get_or_init(|| pool)))
    }
}

impl std::fmt::Debug for SitePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pool = self.pool.get().map(|pool| pool.name());
        f.debug_struct("SitePool").field("pool", &pool).finish()
    }
}

/// [`lookup`] through the registry's lock.
fn lookup_in_registry(name: &str) -> Result<Arc<Pool>, OffloadError> {
    let pools = registry().read();
    match pools.by_name.get(name) {
        Some(pool) => {
            // Marked under the read lock, so `install` (under the write lock) sees it.
            pool.mark_used();
            Ok(Arc::clone(pool))
        }
        None => Err(OffloadError::UnknownPool {
            requested: name.to_owned(),
            available: sorted_names(&pools),
        }),
    }
}

fn sorted_names(pools: &PoolMap) -> Vec<String> {
    pools.names()
}

impl PoolMap {
    /// The names of the pools, sorted (the map's order).
    fn names(&self) -> Vec<String> {
        self.by_name.names().map(str::to_owned).collect()
    }
}

/// The built-in configuration of `name`, if it is a built-in pool.
fn builtin_config(name: &str) -> Option<PoolConfig> {
    builtin_configs()
        .into_iter()
        .find_map(|(builtin, config)| (builtin == name).then_some(config))
}

/// A snapshot of every pool, sorted by name: threads and queue now, and counters and
/// timings since the pool was created.
///
/// ```
/// for pool in async_offload::stats() {
///     println!("{}: {} threads, {} queued, {} completed", pool.name, pool.threads, pool.queued, pool.completed);
/// }
/// ```
#[must_use]
pub fn stats() -> Vec<PoolStats> {
    pools().iter().map(|pool| pool.stats()).collect()
}

/// Every pool, by name.
pub(crate) fn pools() -> Vec<Arc<Pool>> {
    registry().read().by_name.values().cloned().collect()
}
