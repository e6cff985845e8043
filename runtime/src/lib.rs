//! The runtime behind [`async-offload`](https://docs.rs/async-offload): named pools of threads for
//! blocking work, and the functions that send work to them.
//!
//! Applications use it through the `async-offload` crate, which re-exports everything here next
//! to the `#[offload]` attribute. The pools need no async runtime: a job's result is awaited
//! through an ordinary [`Waker`](std::task::Waker), so any executor can drive the futures.

// `unsafe` only in `stall::raw`, which says why at each use.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod check;
mod config;
mod duration;
mod env;
mod error;
mod job;
mod metrics;
mod pool;
#[cfg(test)]
mod proptests;
mod registry;
mod run;
#[cfg(feature = "serde")]
mod serde;
pub mod stall;
mod sync;
pub mod testing;

pub use crate::check::{PoolCheck, PoolUse, check_pools};
pub use crate::config::{PoolConfig, PoolKind};
pub use crate::error::{ConfigError, OffloadError, ShutdownPoolError, ShutdownTimeout};
pub use crate::job::cancelled;
pub use crate::metrics::{PoolStats, TimingStats};
pub use crate::registry::{
    CPU_POOL, DEFAULT_POOL, POOLS_ENV, Pools, PoolsBuilder, shutdown, shutdown_pool, stats,
    stats_for,
};
pub use crate::run::{run, try_run};
pub use crate::stall::assert_blocking_allowed;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
