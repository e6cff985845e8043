//! Configuring the pools: [`Pools::builder`], and installing what it holds into the
//! registry, once, after checking every setting and every pool the program names.

use std::sync::Arc;

use super::{ByName, builtin_config, builtin_configs, insert_sorted, registry};
use crate::config::near_miss::{differ_only_in_case, is_near_miss};
use crate::config::{PoolConfig, env};
use crate::error::ConfigError;
use crate::pool::Pool;
use crate::pool_use::{self, PoolUse};

/// Entry point of pool configuration; see [`Pools::builder`].
#[derive(Debug)]
pub struct Pools(());

impl Pools {
    /// Starts a configuration of named pools, to be installed at start-up, before
    /// the first offloaded call.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use async_offload::{PoolConfig, Pools};
    ///
    /// # fn main() -> Result<(), async_offload::ConfigError> {
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
            pools: ByName::new(),
            duplicate: None,
            from_overrides: Vec::new(),
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
    pools: ByName<PoolConfig>,
    /// The first name configured twice, reported by `install`.
    duplicate: Option<String>,
    /// The pools that only [`overrides`](Self::overrides) (or `OFFLOAD_POOLS`) names: not
    /// configured in code, nor built in.
    from_overrides: Vec<String>,
}

impl PoolsBuilder {
    /// Configures the pool `name`. Configuring the same name twice is an error at install.
    pub fn pool(mut self, name: impl Into<String>, config: PoolConfig) -> Self {
        let name = name.into();
        if self.pools.contains(&name) && self.duplicate.is_none() {
            self.duplicate = Some(name.clone());
        }
        self.pools.insert(&name, config);
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
        match env::read()? {
            Some(spec) => self.overrides(&spec),
            None => Ok(self),
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
    ///               | "nice=" integer | "when_full=" ( "wait" | "refuse" )
    /// ```
    ///
    /// | entry | meaning |
    /// |---|---|
    /// | `db=16` | 16 threads for `db`; its kind, queue and the rest as configured in code (a new pool is fixed) |
    /// | `io=elastic:256` | `io` becomes elastic with up to 256 threads and the default 10 s keep-alive |
    /// | `db=fixed:16:queue=512` | fixed, 16 threads, 512 waiting jobs |
    /// | `io=elastic:128:keep_alive=30s:stack=4MiB` | durations take `ms`, `s`, `m`...; sizes `KiB`, `MiB`, `GiB` |
    /// | `db=4:spin=50us` | idle workers spin 50 µs before they sleep ([`PoolConfig::spin`]) |
    /// | `cpu=2:nice=10` | threads at nice 10, a lower priority, on Linux ([`PoolConfig::nice`], 1 to 19) |
    /// | `render=4:queue=32:when_full=refuse` | a full queue refuses jobs at once ([`PoolConfig::refuse_when_full`]); `wait` is the default |
    ///
    /// Settings an entry leaves out keep the value configured in code. White space around
    /// entries and fields is ignored. Values are checked at [`install`](Self::install), like
    /// those configured in code.
    ///
    /// ```
    /// use async_offload::{PoolConfig, Pools};
    ///
    /// # fn main() -> Result<(), async_offload::ConfigError> {
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
            let builtin = builtin_config(&entry.pool);
            if base.is_none() && builtin.is_none() {
                insert_sorted(&mut self.from_overrides, entry.pool.clone());
            }
            let config = entry.apply(base.or(builtin));
            self.pools.insert(&entry.pool, config);
        }
        Ok(self)
    }

    /// Checks every configuration and puts the pools in place for the whole process.
    ///
    /// # Errors
    ///
    /// - [`ConfigError::Invalid`] naming the pool, the setting and the value;
    /// - [`ConfigError::Duplicate`] if a pool was configured twice;
    /// - [`ConfigError::NearMiss`] if a pool that no `#[offload]` fn uses, and that is not
    ///   built in, is named nearly as one that is: in another case (`DB` for `db`), or, for
    ///   a pool only [`from_env`](Self::from_env) or [`overrides`](Self::overrides) names,
    ///   also one character added, left out, replaced or swapped (`dbb`, `bd`). A pool
    ///   configured in code and used only through `run` may be named `gpu` next to `cpu`;
    ///   one that only `OFFLOAD_POOLS` names, or that differs from a used one only in case,
    ///   is taken for a typo;
    /// - [`ConfigError::AlreadyInstalled`] if it would change a pool installed before;
    /// - [`ConfigError::ShutDown`] after [`shutdown`](crate::shutdown);
    /// - [`ConfigError::InUse`] if it would replace a built-in pool that has been used;
    /// - [`ConfigError::UnknownPools`] if an `#[offload(pool = "...")]` of the program
    ///   names a pool that would still not exist, with the fn, file and line of each, and
    ///   the configured name it nearly matches, if any.
    ///
    /// Nothing is installed when it returns an error.
    ///
    /// # Installing more than once
    ///
    /// A later call adds the pools with new names. A pool installed before keeps its
    /// configuration for good: the same configuration again is accepted (and changes
    /// nothing), another one is an error naming the pool. So code that needs a pool can
    /// install it where it starts, however often that runs. In a test binary, whose tests
    /// each install their own pools, see
    /// [`testing::install_pools`](crate::testing::install_pools): this check of every
    /// `#[offload(pool = "...")]` of the program would refuse the first test's pools
    /// until the others' are there.
    pub fn install(self) -> Result<(), ConfigError> {
        self.install_checking(true)
    }

    /// [`install`](Self::install), checking that every pool the program names exists
    /// afterwards only if `all_uses`.
    pub(crate) fn install_checking(self, all_uses: bool) -> Result<(), ConfigError> {
        // Often inside a test's first poll: what setting the pools up reads is offload's.
        crate::stall::excused(|| self.install_now(all_uses))
    }

    /// [`install_checking`](Self::install_checking)'s work.
    fn install_now(self, all_uses: bool) -> Result<(), ConfigError> {
        if let Some(pool) = self.duplicate {
            return Err(ConfigError::Duplicate { pool });
        }
        for (name, config) in self.pools.iter() {
            config.validate(name)?;
        }
        let uses = pool_use::registered();
        self.near_miss(&uses)?;
        let mut pools = registry().write();
        if pools.shut_down {
            return Err(ConfigError::ShutDown);
        }
        let mut new = Vec::with_capacity(self.pools.len());
        for (name, config) in self.pools {
            match pools.installed.get(&name) {
                Some(installed) if *installed == config => continue,
                Some(installed) => {
                    return Err(ConfigError::AlreadyInstalled {
                        pool: name.into(),
                        installed: Box::new(installed.clone()),
                        requested: Box::new(config),
                    });
                }
                None => {}
            }
            if pools.by_name.get(&name).is_some_and(|pool| pool.was_used()) {
                return Err(ConfigError::InUse { pool: name.into() });
            }
            new.push((name, config));
        }
        if all_uses {
            let mut names = pools.names();
            for (name, _) in &new {
                insert_sorted(&mut names, name.to_string());
            }
            unknown_uses(&uses, &names)?;
        }
        for (name, config) in new {
            let pool = Arc::new(Pool::new(&name, config.clone()));
            pools.by_name.insert(&name, pool);
            pools.installed.insert(&name, config);
        }
        Ok(())
    }
}

impl PoolsBuilder {
    /// The first pool configured under a name that nearly matches a pool of the program
    /// (used by an `#[offload]` fn, or built in) and is not itself one, as an error; see
    /// [`install`](Self::install) for what nearly matches.
    fn near_miss(&self, uses: &[PoolUse]) -> Result<(), ConfigError> {
        let mut used: Vec<&str> = Vec::new();
        for name in uses
            .iter()
            .map(PoolUse::pool)
            .chain(builtin_configs().map(|(name, _)| name))
        {
            insert_sorted(&mut used, name);
        }
        for configured in self.pools.names() {
            if used.contains(&configured) {
                continue;
            }
            let from_overrides = self.from_overrides.iter().any(|name| name == configured);
            let Some(&meant) = used.iter().find(|&&used| {
                if from_overrides {
                    is_near_miss(configured, used)
                } else {
                    differ_only_in_case(configured, used)
                }
            }) else {
                continue;
            };
            return Err(ConfigError::NearMiss {
                configured: configured.to_owned(),
                used: meant.to_owned(),
                uses: uses
                    .iter()
                    .filter(|usage| usage.pool() == meant)
                    .cloned()
                    .collect(),
                from_overrides,
            });
        }
        Ok(())
    }
}

/// The uses whose pool is not among `pools`, as an error; `Ok` if there are none.
fn unknown_uses(uses: &[PoolUse], pools: &[String]) -> Result<(), ConfigError> {
    let unknown: Vec<PoolUse> = uses
        .iter()
        .filter(|usage| !pools.iter().any(|pool| pool == usage.pool()))
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ConfigError::UnknownPools {
        uses: unknown,
        available: pools.to_vec(),
    })
}
