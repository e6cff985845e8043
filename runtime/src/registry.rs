//! The process-wide map of pools by name: the built-in ones, what
//! [`PoolsBuilder::install`] adds, lookup and shutdown (of every pool, or of one).

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use crate::check::{self, PoolCheck};
use crate::config::PoolConfig;
use crate::env;
use crate::error::{ConfigError, OffloadError, ShutdownPoolError, ShutdownTimeout};
use crate::metrics::PoolStats;
use crate::pool::Pool;

/// The name of the elastic pool that `#[offload]` and `run` use unless told otherwise.
pub const DEFAULT_POOL: &str = "default";
/// The name of the fixed pool with one thread per core, for CPU-bound work.
pub const CPU_POOL: &str = "cpu";
/// The environment variable [`PoolsBuilder::from_env`] reads.
pub const POOLS_ENV: &str = "OFFLOAD_POOLS";

/// Every pool of the process.
struct Registry {
    /// The pools, by name. Every offloaded call takes the read lock for one lookup; only
    /// `install` takes the write lock. No other lock is taken while it is held, except a
    /// pool's own state lock by `install` and `shutdown`, never the other way round.
    pools: RwLock<PoolMap>,
}

/// The fields behind the registry's lock.
struct PoolMap {
    /// A B-tree rather than a hash map: a call compares its pool's name with a few others
    /// instead of hashing it (with a handful of pools, the cheaper lookup).
    by_name: BTreeMap<Box<str>, Arc<Pool>>,
    /// The names `install` configured.
    configured: BTreeSet<String>,
    /// Whether `install` has run.
    installed: bool,
    /// Whether `shutdown` has run: nothing may be installed any more.
    shut_down: bool,
}

/// The registry, with the built-in pools on first use.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let by_name = builtin_configs()
            .into_iter()
            .map(|(name, config)| (name.into(), Arc::new(Pool::new(name, config))))
            .collect();
        Registry {
            pools: RwLock::new(PoolMap {
                by_name,
                configured: BTreeSet::new(),
                installed: false,
                shut_down: false,
            }),
        }
    })
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

/// The pool named `name`, marked as used.
pub(crate) fn lookup(name: &str) -> Result<Arc<Pool>, OffloadError> {
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
    pools.names().into_iter().collect()
}

impl PoolMap {
    /// The names of the pools, sorted.
    fn names(&self) -> BTreeSet<String> {
        self.by_name.keys().map(|name| name.to_string()).collect()
    }
}

/// See [`check::check_pools`].
pub(crate) fn check_pools() -> Result<PoolCheck, ConfigError> {
    let pools = registry().read();
    check::unknown_uses(&pools.names())?;
    let named: BTreeSet<&str> = check::registered_uses()
        .iter()
        .map(|usage| usage.pool)
        .collect();
    let unused = pools
        .configured
        .iter()
        // A built-in pool exists anyway, and `#[offload]` without a pool names it silently.
        .filter(|name| builtin_config(name).is_none())
        .filter(|name| !named.contains(name.as_str()))
        .filter(|name| !pools.by_name[name.as_str()].was_used())
        .cloned()
        .collect();
    Ok(PoolCheck { unused })
}

/// Entry point of pool configuration; see [`Pools::builder`].
#[derive(Debug)]
pub struct Pools(());

impl Pools {
    /// Starts a configuration of named pools, to be installed once, at start-up, before
    /// the first offloaded call.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use async_offload_runtime::{PoolConfig, Pools};
    ///
    /// # fn main() -> Result<(), async_offload_runtime::ConfigError> {
    /// Pools::builder()
    ///     .pool("db", PoolConfig::fixed(8).queue_capacity(256))
    ///     .pool("io", PoolConfig::elastic(128).keep_alive(Duration::from_secs(30)))
    ///     .from_env()? // OFFLOAD_POOLS="db=16,io=elastic:256" adds or overrides
    ///     .install()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> PoolsBuilder {
        PoolsBuilder {
            pools: BTreeMap::new(),
            duplicate: None,
        }
    }
}

/// Named pool configurations, to be installed with [`install`](Self::install).
///
/// The built-in pools `default` (elastic, up to 64 threads, 10 s keep-alive) and `cpu`
/// (fixed, one thread per core) exist without it; configuring either name replaces it.
#[derive(Debug, Clone)]
#[must_use = "the pools take effect only once installed"]
pub struct PoolsBuilder {
    /// The configurations so far, by name.
    pools: BTreeMap<String, PoolConfig>,
    /// The first name configured twice, reported by `install`.
    duplicate: Option<String>,
}

impl PoolsBuilder {
    /// Configures the pool `name`. Configuring the same name twice is an error at install.
    pub fn pool(mut self, name: impl Into<String>, config: PoolConfig) -> Self {
        let name = name.into();
        if self.pools.contains_key(&name) && self.duplicate.is_none() {
            self.duplicate = Some(name.clone());
        }
        self.pools.insert(name, config);
        self
    }

    /// Configures every pool of `pools`, for example a map deserialized from the
    /// application's configuration file (with the `serde` feature).
    pub fn pools<N: Into<String>>(self, pools: impl IntoIterator<Item = (N, PoolConfig)>) -> Self {
        pools
            .into_iter()
            .fold(self, |builder, (name, config)| builder.pool(name, config))
    }

    /// The configuration given so far to the pool `name`, if any: what
    /// [`install`](Self::install) would install, for example to log it at start-up.
    #[must_use]
    pub fn config(&self, name: &str) -> Option<&PoolConfig> {
        self.pools.get(name)
    }

    /// Applies the pools written in the `OFFLOAD_POOLS` environment variable, if it is set.
    /// See [`overrides`](Self::overrides) for the syntax.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Malformed`] quoting the entry, if the variable cannot be parsed or is
    /// not Unicode.
    pub fn from_env(self) -> Result<Self, ConfigError> {
        match std::env::var(POOLS_ENV) {
            Ok(spec) => self.overrides(&spec),
            Err(std::env::VarError::NotPresent) => Ok(self),
            Err(std::env::VarError::NotUnicode(raw)) => Err(ConfigError::Malformed {
                entry: raw.to_string_lossy().into_owned(),
                reason: format!("{POOLS_ENV} is not valid Unicode"),
            }),
        }
    }

    /// Applies pool settings written in the `OFFLOAD_POOLS` syntax: each entry adds a pool
    /// or overrides the settings it names of a pool configured in code (or built in).
    ///
    /// ```text
    /// OFFLOAD_POOLS = entry { "," entry }
    /// entry         = name "=" [ kind ":" ] threads { ":" option }
    /// kind          = "fixed" | "elastic"
    /// option        = "queue=" count | "keep_alive=" duration | "stack=" bytes | "spin=" duration
    /// ```
    ///
    /// | entry | meaning |
    /// |---|---|
    /// | `db=16` | 16 threads for `db`; its kind, queue and the rest as configured in code (a new pool is fixed) |
    /// | `io=elastic:256` | `io` becomes elastic with up to 256 threads and the default 10 s keep-alive |
    /// | `db=fixed:16:queue=512` | fixed, 16 threads, 512 waiting jobs |
    /// | `io=elastic:128:keep_alive=30s:stack=4MiB` | durations take `ms`, `s`, `m`...; sizes `KiB`, `MiB`, `GiB` |
    /// | `db=4:spin=50us` | idle workers spin 50 µs before they sleep ([`PoolConfig::spin`]) |
    ///
    /// Settings an entry leaves out keep the value configured in code. White space around
    /// entries and fields is ignored. Values are checked at [`install`](Self::install), like
    /// those configured in code.
    ///
    /// ```
    /// use async_offload_runtime::{PoolConfig, Pools};
    ///
    /// # fn main() -> Result<(), async_offload_runtime::ConfigError> {
    /// let builder = Pools::builder()
    ///     .pool("db", PoolConfig::fixed(8).queue_capacity(256))
    ///     .overrides("db=16, io=elastic:32")?;
    /// # drop(builder);
    /// assert!(Pools::builder().overrides("db=sixteen").is_err());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::Malformed`] quoting the entry at fault.
    pub fn overrides(mut self, spec: &str) -> Result<Self, ConfigError> {
        for entry in env::parse_overrides(spec)? {
            let base = self.pools.remove(&entry.pool);
            let config = entry.apply(base.or_else(|| builtin_config(&entry.pool)));
            self.pools.insert(entry.pool.clone(), config);
        }
        Ok(self)
    }

    /// Checks every configuration and puts the pools in place for the whole process.
    ///
    /// # Errors
    ///
    /// - [`ConfigError::Invalid`] naming the pool, the setting and the value;
    /// - [`ConfigError::Duplicate`] if a pool was configured twice;
    /// - [`ConfigError::AlreadyInstalled`] on a second call;
    /// - [`ConfigError::ShutDown`] after [`shutdown`];
    /// - [`ConfigError::InUse`] if it would replace a built-in pool that has been used;
    /// - [`ConfigError::UnknownPools`] if an `#[offload(pool = "...")]` of the program
    ///   names a pool that would still not exist, with the fn, file and line of each.
    ///
    /// Nothing is installed when it returns an error.
    pub fn install(self) -> Result<(), ConfigError> {
        if let Some(pool) = self.duplicate {
            return Err(ConfigError::Duplicate { pool });
        }
        for (name, config) in &self.pools {
            config.validate(name)?;
        }
        let mut pools = registry().write();
        if pools.shut_down {
            return Err(ConfigError::ShutDown);
        }
        if pools.installed {
            return Err(ConfigError::AlreadyInstalled);
        }
        for name in self.pools.keys() {
            if pools
                .by_name
                .get(name.as_str())
                .is_some_and(|pool| pool.was_used())
            {
                return Err(ConfigError::InUse { pool: name.clone() });
            }
        }
        let mut names = pools.names();
        names.extend(self.pools.keys().cloned());
        check::unknown_uses(&names)?;
        for (name, config) in self.pools {
            let pool = Arc::new(Pool::new(&name, config));
            pools.configured.insert(name.clone());
            pools.by_name.insert(name.into_boxed_str(), pool);
        }
        pools.installed = true;
        Ok(())
    }
}

/// The built-in configuration of `name`, if it is a built-in pool.
fn builtin_config(name: &str) -> Option<PoolConfig> {
    builtin_configs()
        .into_iter()
        .find_map(|(builtin, config)| (builtin == name).then_some(config))
}

/// Shuts every pool down: no new jobs are taken, jobs already queued or running finish,
/// and the pool threads are joined, waiting at most `timeout`.
///
/// Callers waiting for room in a full queue, and every call made afterwards, get
/// [`OffloadError::ShutDown`] (`run` and `#[offload]` functions panic with it). It may be
/// called more than once. To stop one pool and leave the others running, see
/// [`shutdown_pool`].
///
/// # Errors
///
/// [`ShutdownTimeout`] naming the pools whose threads were still running at the deadline;
/// they finish their jobs, and those queued behind them, in the background.
pub fn shutdown(timeout: Duration) -> Result<(), ShutdownTimeout> {
    let deadline = deadline_after(timeout);
    let pools: Vec<Arc<Pool>> = {
        let mut pools = registry().write();
        // Pools installed after this would bring offloading back to life.
        pools.shut_down = true;
        pools.by_name.values().cloned().collect()
    };
    for pool in &pools {
        pool.begin_shutdown();
    }
    let mut busy: Vec<(String, usize)> = pools
        .iter()
        .filter_map(|pool| {
            let threads = pool.wait_for_threads(deadline).err()?;
            Some((pool.name().to_owned(), threads))
        })
        .collect();
    if busy.is_empty() {
        return Ok(());
    }
    busy.sort();
    Err(ShutdownTimeout {
        waited: timeout,
        busy,
    })
}

/// Shuts one pool down, as [`shutdown`] does every pool: it stops taking new jobs, lets
/// the jobs already queued or running finish, and joins its threads, waiting at most
/// `timeout`. The other pools go on as before.
///
/// The pool keeps its name: callers waiting for room in its queue, and every call made to
/// it afterwards, get [`OffloadError::ShutDown`] (`run` and `#[offload]` functions panic
/// with it), and [`stats_for`] still reports it. It may be called more than once, and
/// [`shutdown`] may follow it.
///
/// ```
/// use std::time::Duration;
///
/// # fn main() -> Result<(), async_offload_runtime::ShutdownPoolError> {
/// async_offload_runtime::shutdown_pool("cpu", Duration::from_secs(5))?;
/// let later = futures::executor::block_on(async_offload_runtime::try_run("cpu", || 1));
/// assert!(matches!(later, Err(async_offload_runtime::OffloadError::ShutDown { .. })));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// - [`ShutdownPoolError::UnknownPool`] if no pool has that name (nothing is shut down);
/// - [`ShutdownPoolError::TimedOut`] if the pool's threads were still running at the
///   deadline; they finish their jobs, and those queued behind them, in the background.
pub fn shutdown_pool(name: &str, timeout: Duration) -> Result<(), ShutdownPoolError> {
    let deadline = deadline_after(timeout);
    let pool = {
        let pools = registry().read();
        match pools.by_name.get(name) {
            Some(pool) => Arc::clone(pool),
            None => {
                return Err(ShutdownPoolError::UnknownPool {
                    requested: name.to_owned(),
                    available: sorted_names(&pools),
                });
            }
        }
    };
    // A shut-down built-in pool must not be replaced by `install`, as a used one may not.
    pool.mark_used();
    pool.begin_shutdown();
    pool.wait_for_threads(deadline).map_err(|threads| {
        ShutdownPoolError::TimedOut(ShutdownTimeout {
            waited: timeout,
            busy: vec![(name.to_owned(), threads)],
        })
    })
}

/// The moment `timeout` from now, or none for a timeout too long to add to the clock
/// (like `Duration::MAX`): no deadline, then.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// A snapshot of every pool, sorted by name: threads and queue now, and counters and
/// timings since the pool was created.
///
/// ```
/// for pool in async_offload_runtime::stats() {
///     println!("{}: {} threads, {} queued, {} completed", pool.name, pool.threads, pool.queued, pool.completed);
/// }
/// ```
#[must_use]
pub fn stats() -> Vec<PoolStats> {
    let pools: Vec<Arc<Pool>> = registry().read().by_name.values().cloned().collect();
    let mut stats: Vec<PoolStats> = pools.iter().map(|pool| pool.stats()).collect();
    stats.sort_by(|a, b| a.name.cmp(&b.name));
    stats
}

/// A snapshot of the pool named `pool`, if there is one; see [`stats`].
#[must_use]
pub fn stats_for(pool: &str) -> Option<PoolStats> {
    let pool = registry().read().by_name.get(pool).cloned()?;
    Some(pool.stats())
}
