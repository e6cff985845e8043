//! Reading a [`PoolConfig`] from the application's own configuration (the `serde` feature).
//!
//! The fields are the names of `PoolConfig`'s setters. Durations and sizes are written as
//! in `OFFLOAD_POOLS` (`"30s"`, `"2MiB"`) and read by the same parsers, so they give the
//! same messages. Values are not checked here: installing the pools checks them, with the
//! pool's name.

use std::fmt;
use std::time::Duration;

use ::serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

use super::{PoolConfig, PoolKind};
use async_offload_rules::{parse_bytes, parse_duration};

/// The fields of a [`PoolConfig`] as a configuration file writes them.
#[derive(::serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoolConfig {
    /// `"fixed"` or `"elastic"`.
    kind: PoolKind,
    /// The thread count, or the maximum for an elastic pool.
    threads: usize,
    /// Waiting jobs the queue holds, if set.
    #[serde(default)]
    queue_capacity: Option<usize>,
    /// An elastic pool's idle time before a thread exits, if set (a string like `"30s"`).
    #[serde(default, deserialize_with = "duration")]
    keep_alive: Option<Duration>,
    /// Bytes of stack per thread, if set (a number, or a string like `"2MiB"`).
    #[serde(default, deserialize_with = "stack_size")]
    stack_size: Option<usize>,
    /// Whether the pool keeps counters and timings (default `true`).
    #[serde(default)]
    metrics: Option<bool>,
    /// How long idle workers spin before they sleep, like `"50us"`.
    #[serde(default, deserialize_with = "duration")]
    spin: Option<Duration>,
    /// The nice value of the pool's threads, from 1 to 19.
    #[serde(default)]
    nice: Option<i32>,
    /// Whether a job that finds the queue full is refused at once (default `false`).
    #[serde(default)]
    refuse_when_full: Option<bool>,
}

/// Reads a pool's configuration, for example from this TOML:
///
/// ```toml
/// [pools.db]
/// kind = "fixed"
/// threads = 8
/// queue_capacity = 256
/// refuse_when_full = true  # a full queue refuses jobs instead of making them wait
///
/// [pools.io]
/// kind = "elastic"
/// threads = 128
/// keep_alive = "30s"
/// stack_size = "2MiB"      # or a number of bytes: 2097152
///
/// [pools.cpu]
/// kind = "fixed"
/// threads = 2
/// nice = 10
/// ```
///
/// `kind` and `threads` are required; `queue_capacity`, `keep_alive`, `stack_size`, `spin`
/// (a duration), `metrics` and `refuse_when_full` (`true` or `false`) and `nice` (a number)
/// are optional and default as in [`PoolConfig::fixed`] and [`PoolConfig::elastic`]. Unknown
/// fields are an error. Values are checked when the pools are installed.
impl<'de> Deserialize<'de> for PoolConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawPoolConfig::deserialize(deserializer)?;
        let mut config = match raw.kind {
            PoolKind::Fixed => PoolConfig::fixed(raw.threads),
            PoolKind::Elastic => PoolConfig::elastic(raw.threads),
        };
        if let Some(capacity) = raw.queue_capacity {
            config = config.queue_capacity(capacity);
        }
        if let Some(idle) = raw.keep_alive {
            config = config.keep_alive(idle);
        }
        if let Some(bytes) = raw.stack_size {
            config = config.stack_size(bytes);
        }
        if let Some(enabled) = raw.metrics {
            config = config.metrics(enabled);
        }
        if let Some(spin) = raw.spin {
            config = config.spin(spin);
        }
        if let Some(nice) = raw.nice {
            config = config.nice(nice);
        }
        if let Some(refuse) = raw.refuse_when_full {
            config = config.refuse_when_full(refuse);
        }
        Ok(config)
    }
}

/// Reads a duration string such as `"30s"` (`keep_alive`, `spin`).
fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_str(DurationVisitor).map(Some)
}

/// Reads `stack_size`: a number of bytes, or a string such as `"2MiB"`.
fn stack_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    deserializer.deserialize_any(BytesVisitor).map(Some)
}

/// Turns a string into a [`Duration`] with [`parse_duration`].
struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with a unit, like \"30s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse_duration(text).map_err(E::custom)
    }
}

/// Turns a number, or a string read with [`parse_bytes`], into a count of bytes.
struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of bytes, or a size like \"2MiB\"")
    }

    fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<usize, E> {
        usize::try_from(bytes).map_err(|_| E::invalid_value(Unexpected::Unsigned(bytes), &self))
    }

    fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<usize, E> {
        match u64::try_from(bytes) {
            Ok(bytes) => self.visit_u64(bytes),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(bytes), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<usize, E> {
        parse_bytes(text).map_err(E::custom)
    }
}
