//! What pools are configured with: [`PoolConfig`], and the two ways to write one outside
//! code, the `OFFLOAD_POOLS` syntax and (with the `serde` feature) a configuration file.
//! Data and parsing only (and which names nearly match): installing pools is the
//! registry's job.

pub(crate) mod difference;
pub(crate) mod env;
pub(crate) mod near_miss;
mod pool_config;
#[cfg(feature = "serde")]
mod serde;
#[cfg(test)]
mod tests;

pub(crate) use self::pool_config::validate_name;
pub use self::pool_config::{PoolConfig, PoolKind};
