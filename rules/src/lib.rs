//! The rules that [`async-offload`](https://docs.rs/async-offload)'s attributes check at
//! compile time and its runtime checks when pools are configured, kept in one place so that
//! the two cannot disagree: what a pool may be named, the default pool's name, and how
//! durations and sizes are written (`#[no_block(threshold = "2ms")]`,
//! `OFFLOAD_STALL_THRESHOLD`, `OFFLOAD_POOLS`, configuration files).
//!
//! Depend on `async-offload`, not on this crate: its items follow the needs of the two
//! crates behind `async-offload`, which pin its exact version.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod duration;
mod pool_name;

pub use crate::duration::{parse_bytes, parse_duration, parse_threshold};
pub use crate::pool_name::{BadPoolName, DEFAULT_POOL, check_pool_name};
