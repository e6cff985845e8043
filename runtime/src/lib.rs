//! The runtime behind [`async-offload`](https://docs.rs/async-offload): named pools of
//! threads for blocking work, the functions that send work to them, and stall detection.
//!
//! Applications use it through the `async-offload` crate, which re-exports everything here
//! next to the attributes. The pools need no async runtime: a job's result is awaited
//! through an ordinary [`Waker`](std::task::Waker), so any executor can drive the futures.
//!
//! # Where things are
//!
//! Dependencies point one way: `config` <- `pool` <- `registry` <- `run`; `stall` stands
//! apart, but for the pools' clock, which the `release-stalls` feature reads.
//!
//! - `config/`: what a pool is configured with ([`PoolConfig`]), the `OFFLOAD_POOLS` syntax
//!   and the `serde` format. Data and parsing only.
//! - `pool/`: one pool at work: its lock and state, the line of callers waiting for room,
//!   the workers, a job (its body and outcome handed between threads in `job/exchange.rs`),
//!   metrics and the clock they read, and the sync primitives the loom models replace.
//! - `registry/`: the process-wide pools by name: the built-in ones, [`Pools`] and `install`,
//!   lookup (and the pool each `#[offload]` fn keeps once looked up), shutdown and stats.
//! - `run.rs`: [`run`] and [`try_run`], and `try_run_at`, what `#[offload]` expands to.
//! - `stall/`: `#[no_block]`'s timing of polls and its reports; `stall/watchdog/` the thread
//!   that reports polls that do not return, with their stacks; `stall/calls/` the feature
//!   `detect-blocking-calls`, the C library's blocking functions interposed;
//!   `stall/counted.rs` and `stall/polls.rs` the feature `release-stalls`, polls counted in
//!   release builds too.
//! - `export/`: the `metrics` feature, the pools' figures, the jobs' times and the
//!   `#[no_block]` fns' polls published through the `metrics` facade; it reads the other
//!   parts and none of them but the pools' metrics and the poll counts calls it.
//! - `error.rs`, `pool_use.rs`: the errors, and the link-time list of the pools `#[offload]`
//!   names, shared by the parts above.
//!
//! The pool-name rule and the duration syntax come from `async-offload-rules`, which the
//! attributes use too.

// `unsafe` only in `stall::watchdog::sys` (a thread's stack, for the watchdog),
// `pool::priority` (a thread's nice value: std has neither system call), `pool::clock`
// (the monotonic clock read directly, for cheap differences), `pool::job::exchange` (a
// job's body and outcome handed between threads without a lock) and, with the
// `detect-blocking-calls` feature, `stall::calls::sys` (the interposed C functions). Each
// says why at each use.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod config;
mod error;
#[cfg(feature = "metrics")]
mod export;
mod pool;
mod pool_use;
mod registry;
mod run;
pub mod stall;
pub mod testing;
#[cfg(test)]
mod tests;

pub use crate::config::{PoolConfig, PoolKind};
pub use crate::error::{ConfigError, OffloadError, ShutdownError};
pub use crate::pool::cancelled;
pub use crate::pool::{PoolStats, TimingStats};
pub use crate::pool_use::PoolUse;
pub use crate::registry::{Pools, PoolsBuilder, shutdown, shutdown_pool, stats};
pub use crate::run::{run, try_run};
pub use crate::stall::blocking::assert_blocking_allowed;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
