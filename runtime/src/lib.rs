//! The runtime behind [`offload`](https://docs.rs/offload): named pools of threads for
//! blocking work, and the functions that send work to them.
//!
//! Applications use it through the `offload` crate, which re-exports everything here next
//! to the `#[offload]` attribute. The pools need no async runtime: a job's result is awaited
//! through an ordinary [`Waker`](std::task::Waker), so any executor can drive the futures.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod config;
mod duration;
mod env;
mod error;
mod job;
mod pool;
mod registry;
mod run;
#[cfg(feature = "serde")]
mod serde;

pub use crate::config::{PoolConfig, PoolKind};
pub use crate::error::{ConfigError, OffloadError, ShutdownTimeout};
pub use crate::job::cancelled;
pub use crate::registry::{CPU_POOL, DEFAULT_POOL, POOLS_ENV, Pools, PoolsBuilder, shutdown};
pub use crate::run::{run, try_run};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
