//! The errors of offloading a job and of configuring pools.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::config::PoolConfig;
use crate::config::difference::differences;
use crate::config::near_miss::is_near_miss;
use crate::pool_use::PoolUse;

/// Why an offloaded job did not run.
///
/// [`try_run`](crate::try_run) returns it; [`run`](crate::run) and `#[offload]` functions
/// panic with its message instead.
///
/// The message of an unknown pool says how to configure it; `OFFLOAD_POOLS` configures
/// pools only through `PoolsBuilder::from_env`.
///
/// Like the crate's other errors, its `Debug` is its message, so that an error returned
/// from `main` reads as one.
#[non_exhaustive]
pub enum OffloadError {
    /// No pool has the requested name.
    UnknownPool {
        /// The name that was asked for.
        requested: String,
        /// The names of the pools that exist, sorted.
        available: Vec<String>,
    },
    /// The pool was shut down before the job could be queued.
    ShutDown {
        /// The pool's name.
        pool: String,
    },
    /// The pool's queue was full, and the pool is set to refuse jobs then rather than make
    /// them wait ([`PoolConfig::refuse_when_full`](crate::PoolConfig::refuse_when_full)).
    QueueFull {
        /// The pool's name.
        pool: String,
        /// How many jobs its queue holds.
        capacity: usize,
    },
    /// The pool had no thread and could not start one.
    SpawnFailed {
        /// The pool's name.
        pool: String,
        /// What the operating system said.
        error: io::Error,
    },
}

impl fmt::Display for OffloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OffloadError::UnknownPool {
                requested,
                available,
            } => {
                write!(f, "no offload pool is named {requested:?} (the pools are ")?;
                write_names(f, available)?;
                write!(
                    f,
                    "); configure it at start-up with \
                     async_offload::Pools::builder().pool({requested:?}, ...).install(), or with \
                     OFFLOAD_POOLS=\"{requested}=<threads>\" if the program's builder calls \
                     .from_env() (nothing else reads OFFLOAD_POOLS)"
                )
            }
            OffloadError::ShutDown { pool } => write!(
                f,
                "the offload pool {pool:?} is shut down and takes no new jobs"
            ),
            OffloadError::QueueFull { pool, capacity } => write!(
                f,
                "the offload pool {pool:?} refused the job: its queue of {capacity} jobs is full, \
                 and it refuses jobs rather than make them wait for room \
                 (PoolConfig::refuse_when_full)"
            ),
            OffloadError::SpawnFailed { pool, error } => write!(
                f,
                "the offload pool {pool:?} has no thread and could not start one: {error}"
            ),
        }
    }
}

impl std::error::Error for OffloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OffloadError::SpawnFailed { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Why a pool configuration was refused.
///
/// Its `Debug` is its message, so that `Pools::builder()...install()?` in a `main` that
/// returns a `Result` prints a sentence naming the pool and the value, not a dump of
/// fields.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting of one pool has a value it cannot have.
    Invalid {
        /// The pool's name.
        pool: String,
        /// The setting: `threads`, `queue_capacity`, `keep_alive`, `stack_size`, `spin`,
        /// `nice` or `name`.
        setting: &'static str,
        /// The value that was given, as written.
        value: String,
        /// Why it cannot be.
        reason: &'static str,
    },
    /// An entry of `OFFLOAD_POOLS` (or of a string given to
    /// [`PoolsBuilder::overrides`](crate::PoolsBuilder::overrides)) is malformed.
    Malformed {
        /// The whole entry, as written.
        entry: String,
        /// What is wrong with it, quoting the bad part.
        reason: String,
    },
    /// The same pool was configured twice in code.
    Duplicate {
        /// The pool's name.
        pool: String,
    },
    /// A pool installed before would change: an installed pool keeps its configuration.
    AlreadyInstalled {
        /// The pool's name.
        pool: String,
        /// The configuration it was installed with, and keeps.
        installed: Box<PoolConfig>,
        /// The configuration asked for now.
        requested: Box<PoolConfig>,
    },
    /// [`shutdown`](crate::shutdown) has run: pools cannot be installed any more.
    ShutDown,
    /// A built-in pool was reconfigured after it had been used.
    InUse {
        /// The pool's name.
        pool: String,
    },
    /// A pool that no `#[offload]` fn uses, and that is not built in, is configured under
    /// a name that nearly matches one that is: most likely a typo, which would leave the
    /// pool meant as it was (see [`PoolsBuilder::install`](crate::PoolsBuilder::install)).
    NearMiss {
        /// The name configured.
        configured: String,
        /// The name of the program's pool it nearly matches.
        used: String,
        /// The `#[offload(pool = "...")]` fns that use `used`; empty for a built-in pool.
        uses: Vec<PoolUse>,
        /// Whether `configured` comes from `OFFLOAD_POOLS` (through
        /// [`PoolsBuilder::from_env`](crate::PoolsBuilder::from_env)) or
        /// [`PoolsBuilder::overrides`](crate::PoolsBuilder::overrides), rather than from code.
        from_overrides: bool,
    },
    /// `#[offload(pool = "...")]` fns name pools that are not configured.
    UnknownPools {
        /// Each such use: the pool, the fn, its file and line.
        uses: Vec<PoolUse>,
        /// The pools that exist, sorted.
        available: Vec<String>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid {
                pool,
                setting,
                value,
                reason,
            } => write!(
                f,
                "offload pool {pool:?}: {setting} = {value} is invalid: {reason}"
            ),
            ConfigError::Malformed { entry, reason } => {
                write!(f, "OFFLOAD_POOLS entry {entry:?} is malformed: {reason}")
            }
            ConfigError::Duplicate { pool } => write!(
                f,
                "offload pool {pool:?} is configured twice; configure each pool once"
            ),
            ConfigError::AlreadyInstalled {
                pool,
                installed,
                requested,
            } => {
                write!(
                    f,
                    "offload pool {pool:?} is already installed and keeps its configuration: "
                )?;
                for (i, difference) in differences(installed, requested).iter().enumerate() {
                    let separator = if i == 0 { "" } else { "; " };
                    write!(f, "{separator}{difference}")?;
                }
                f.write_str(
                    ". Install it once with one configuration, or give the other \
                     configuration a pool of its own",
                )
            }
            ConfigError::ShutDown => f.write_str(
                "offload pools were shut down and cannot be installed any more; install them \
                 at start-up, before any call, and shut down at the end",
            ),
            ConfigError::NearMiss {
                configured,
                used,
                uses,
                from_overrides,
            } => {
                let (origin, instead) = if *from_overrides {
                    (
                        "comes from OFFLOAD_POOLS (read by .from_env()) or .overrides()",
                        format!("write the entry as {used}=... instead"),
                    )
                } else {
                    (
                        "is configured in code",
                        format!("configure .pool({used:?}, ...) instead"),
                    )
                };
                write!(
                    f,
                    "offload pool {configured:?} {origin}, but no #[offload] fn uses it and it \
                     is not built in: did you mean {used:?}, "
                )?;
                if uses.is_empty() {
                    f.write_str("the built-in pool")?;
                } else {
                    f.write_str("used by ")?;
                    for (i, usage) in uses.iter().enumerate() {
                        let separator = if i == 0 { "" } else { ", " };
                        let (function, file, line) = (usage.function(), usage.file(), usage.line());
                        write!(f, "{separator}{function} ({file}:{line})")?;
                    }
                }
                write!(f, "? Pool names must match exactly: {instead}")
            }
            ConfigError::UnknownPools { uses, available } => {
                f.write_str("offload pools are not configured: ")?;
                for (i, usage) in uses.iter().enumerate() {
                    let separator = if i == 0 { "" } else { "; " };
                    write!(f, "{separator}{usage}")?;
                    let used = usage.pool();
                    for configured in available.iter().filter(|name| is_near_miss(name, used)) {
                        write!(
                            f,
                            ", not {configured:?} as configured: did you mean {used:?}? (pool \
                             names must match exactly)"
                        )?;
                    }
                }
                f.write_str(" (the pools are ")?;
                write_names(f, available)?;
                f.write_str(")")
            }
            ConfigError::InUse { pool } => write!(
                f,
                "offload pool {pool:?} has already been used and can no longer be reconfigured; \
                 install the pools before the first offloaded call"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why [`shutdown`](crate::shutdown) or [`shutdown_pool`](crate::shutdown_pool) did not
/// finish. Its `Debug` is its message.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShutdownError {
    /// No pool has the requested name; nothing was shut down (only `shutdown_pool`).
    UnknownPool {
        /// The name that was asked for.
        requested: String,
        /// The names of the pools that exist, sorted.
        available: Vec<String>,
    },
    /// The pools stopped taking jobs, but some threads were still running at the deadline.
    /// They finish their jobs, and those queued behind them, in the background.
    TimedOut {
        /// How long shutdown waited.
        waited: Duration,
        /// Each pool that still had threads, with how many, sorted by name.
        busy: Vec<(String, usize)>,
    },
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShutdownError::UnknownPool {
                requested,
                available,
            } => {
                write!(
                    f,
                    "cannot shut down the offload pool {requested:?}: no pool has that name (the pools are "
                )?;
                write_names(f, available)?;
                f.write_str(")")
            }
            ShutdownError::TimedOut { waited, busy } => {
                write!(f, "offload pools still running after {waited:?}:")?;
                for (i, (pool, threads)) in busy.iter().enumerate() {
                    let separator = if i == 0 { " " } else { ", " };
                    write!(f, "{separator}{pool:?} ({threads} threads)")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ShutdownError {}

/// `Debug` prints the message, as `Display` does: an error returned from `main` (which
/// prints it with `Debug`) then reads as a sentence, not as a dump of its fields.
macro_rules! debug_as_display {
    ($($error:ty),*) => {$(
        impl fmt::Debug for $error {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}

debug_as_display!(OffloadError, ConfigError, ShutdownError);

/// Writes `"a", "b", "c"` (or `none` for an empty list).
fn write_names(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    if names.is_empty() {
        return f.write_str("none");
    }
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{name:?}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_the_message_as_main_shows_an_error() {
        let errors: [&dyn std::error::Error; 3] = [
            &OffloadError::ShutDown {
                pool: "db".to_owned(),
            },
            &ConfigError::Invalid {
                pool: "db".to_owned(),
                setting: "threads",
                value: "0".to_owned(),
                reason: "a pool needs a thread",
            },
            &ShutdownError::TimedOut {
                waited: Duration::from_secs(1),
                busy: vec![("db".to_owned(), 2)],
            },
        ];
        for error in errors {
            assert_eq!(format!("{error:?}"), error.to_string());
        }
    }

    #[test]
    fn an_unknown_pool_says_that_offload_pools_is_read_only_by_from_env() {
        let message = OffloadError::UnknownPool {
            requested: "db".to_owned(),
            available: vec!["cpu".to_owned(), "default".to_owned()],
        }
        .to_string();
        assert_eq!(
            message,
            "no offload pool is named \"db\" (the pools are \"cpu\", \"default\"); configure it \
             at start-up with async_offload::Pools::builder().pool(\"db\", ...).install(), or \
             with OFFLOAD_POOLS=\"db=<threads>\" if the program's builder calls .from_env() \
             (nothing else reads OFFLOAD_POOLS)"
        );
    }

    #[test]
    fn a_near_miss_names_both_pools_where_the_meant_one_is_used_and_what_to_write() {
        let uses = vec![PoolUse::new("db", "app::load", "src/db.rs", 3)];
        let message = ConfigError::NearMiss {
            configured: "DB".to_owned(),
            used: "db".to_owned(),
            uses: uses.clone(),
            from_overrides: true,
        }
        .to_string();
        assert_eq!(
            message,
            "offload pool \"DB\" comes from OFFLOAD_POOLS (read by .from_env()) or \
             .overrides(), but no #[offload] fn uses it and it is not built in: did you mean \
             \"db\", used by app::load (src/db.rs:3)? Pool names must match exactly: write the \
             entry as db=... instead"
        );
        let message = ConfigError::NearMiss {
            configured: "CPU".to_owned(),
            used: "cpu".to_owned(),
            uses: Vec::new(),
            from_overrides: false,
        }
        .to_string();
        assert!(
            message.ends_with(
                "did you mean \"cpu\", the built-in pool? Pool names must match exactly: \
                 configure .pool(\"cpu\", ...) instead"
            ),
            "{message}"
        );

        let message = ConfigError::UnknownPools {
            uses,
            available: vec!["cpu".to_owned(), "dbx".to_owned(), "default".to_owned()],
        }
        .to_string();
        assert_eq!(
            message,
            "offload pools are not configured: \"db\" used by app::load (src/db.rs:3), not \
             \"dbx\" as configured: did you mean \"db\"? (pool names must match exactly) (the \
             pools are \"cpu\", \"dbx\", \"default\")"
        );
    }
}
