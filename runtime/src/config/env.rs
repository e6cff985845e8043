//! The `OFFLOAD_POOLS` syntax: pool settings written in one line of text.
//!
//! `OFFLOAD_POOLS` adds pools, or changes pools configured in code, without a rebuild:
//!
//! ```text
//! OFFLOAD_POOLS="db=16"                                       # 16 threads for "db"
//! OFFLOAD_POOLS="db=16,io=elastic:256"                        # two pools
//! OFFLOAD_POOLS="db=fixed:16:queue=512"                       # a kind and a queue size
//! OFFLOAD_POOLS="io=elastic:128:keep_alive=30s:stack=4MiB"    # more settings
//! OFFLOAD_POOLS="cpu=2:nice=10"                               # lower priority threads
//! OFFLOAD_POOLS="render=4:queue=32:when_full=refuse"           # refuse, don't wait
//! ```
//!
//! # Grammar
//!
//! ```text
//! OFFLOAD_POOLS = entry { "," entry }
//! entry         = name "=" spec
//! spec          = [ kind ":" ] threads { ":" option }
//! kind          = "fixed" | "elastic"
//! option        = "queue=" count | "keep_alive=" duration | "stack=" bytes | "spin=" duration
//!               | "nice=" integer | "when_full=" ( "wait" | "refuse" )
//! ```
//!
//! - White space around entries, fields, names and values is ignored. A string that is
//!   empty or only white space names no pool.
//! - An empty entry (`db=16,,io=4`, or a trailing `,`) is an error, and so is a pool that
//!   appears in two entries.
//! - `name` is any pool name: not empty, without white space, control characters, `,`,
//!   `=` or `:`.
//! - `threads` and `count` are whole numbers. `duration` is a number and a unit (`ns`,
//!   `us`, `µs`, `ms`, `s`, `m`, `h`), like `30s` or `1.5m`. `bytes` is a whole number of
//!   bytes, optionally followed by `KiB`, `MiB` or `GiB` (or `K`, `M`, `G`), like `4MiB`.
//!   `integer` is a whole number with an optional sign (`nice` is checked at install:
//!   1 to 19).
//! - Each option may appear once per entry, in any order, after the thread count.
//!
//! # Meaning
//!
//! An entry changes only what it states. For a pool configured in code, the settings the
//! entry leaves out stay as the code set them; a thread count without a kind keeps the
//! kind from code. A pool that only `OFFLOAD_POOLS` names starts from
//! `PoolConfig::fixed(threads)`, or `PoolConfig::elastic(threads)` with the `elastic`
//! kind. Changing a pool's kind also resets its keep-alive to that kind's default
//! (none for a fixed pool, 10 s for an elastic one) unless the entry sets `keep_alive`.
//!
//! The parser checks only the syntax. Values are checked with every other setting when the
//! pools are installed: `db=0` parses, and installing it is an error that names the pool.

use std::time::Duration;

use super::{PoolConfig, PoolKind, validate_name};
use crate::error::ConfigError;
use async_offload_rules::{parse_bytes, parse_duration};

/// The environment variable that [`PoolsBuilder::from_env`](crate::PoolsBuilder::from_env)
/// reads.
const POOLS_ENV: &str = "OFFLOAD_POOLS";

/// The value of `OFFLOAD_POOLS`, if it is set.
pub(crate) fn read() -> Result<Option<String>, ConfigError> {
    match std::env::var(POOLS_ENV) {
        Ok(spec) => Ok(Some(spec)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(raw)) => Err(ConfigError::Malformed {
            entry: raw.to_string_lossy().into_owned(),
            reason: format!("{POOLS_ENV} is not valid Unicode"),
        }),
    }
}

/// One entry of `OFFLOAD_POOLS`: the settings it gives one pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Override {
    /// The pool's name.
    pub(crate) pool: String,
    /// The kind, if the entry states one.
    pub(super) kind: Option<PoolKind>,
    /// The thread count (maximum, for an elastic pool); every entry states one.
    pub(super) threads: usize,
    /// The queue capacity, if the entry sets `queue`.
    pub(super) queue_capacity: Option<usize>,
    /// The keep-alive, if the entry sets `keep_alive`.
    pub(super) keep_alive: Option<Duration>,
    /// The stack size in bytes, if the entry sets `stack`.
    pub(super) stack_size: Option<usize>,
    /// The spin of idle workers, if the entry sets `spin`.
    pub(super) spin: Option<Duration>,
    /// The nice value of the pool's threads, if the entry sets `nice`.
    pub(super) nice: Option<i32>,
    /// Whether a full queue refuses jobs, if the entry sets `when_full`.
    pub(super) refuse_when_full: Option<bool>,
}

impl Override {
    /// Applies the override to the pool's configuration from code, if any (`None` for a
    /// pool only the override names).
    ///
    /// Fields the entry states replace those from code; fields it leaves out stay. A bare
    /// thread count keeps the kind configured in code (fixed for a new pool). Changing the
    /// kind resets the keep-alive to the new kind's default, unless the entry sets it.
    pub(crate) fn apply(&self, base: Option<PoolConfig>) -> PoolConfig {
        let mut config = base.unwrap_or(PoolConfig::fixed(self.threads));
        if let Some(kind) = self.kind {
            config = config.with_kind(kind);
        }
        config = config.with_threads(self.threads);
        if let Some(capacity) = self.queue_capacity {
            config = config.queue_capacity(capacity);
        }
        if let Some(idle) = self.keep_alive {
            config = config.keep_alive(idle);
        }
        if let Some(bytes) = self.stack_size {
            config = config.stack_size(bytes);
        }
        if let Some(spin) = self.spin {
            config = config.spin(spin);
        }
        if let Some(nice) = self.nice {
            config = config.nice(nice);
        }
        if let Some(refuse) = self.refuse_when_full {
            config = config.refuse_when_full(refuse);
        }
        config
    }

    /// Sets the option written in `field` (`key=value`); an error is the reason the entry
    /// is malformed.
    fn set_option(&mut self, field: &str) -> Result<(), String> {
        if field.is_empty() {
            return Err("empty setting after \":\"; remove the extra \":\"".into());
        }
        let Some((key, value)) = field.split_once('=') else {
            return Err(format!(
                "option {field:?} has no \"=\"; write options as name=value, like queue=512"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "queue" => set_once(
                &mut self.queue_capacity,
                key,
                parse_count("queue size", value),
            ),
            "keep_alive" => set_once(
                &mut self.keep_alive,
                key,
                parse_duration(value).map_err(|message| format!("keep_alive: {message}")),
            ),
            "stack" => set_once(
                &mut self.stack_size,
                key,
                parse_bytes(value).map_err(|message| format!("stack: {message}")),
            ),
            "spin" => set_once(
                &mut self.spin,
                key,
                parse_duration(value).map_err(|message| format!("spin: {message}")),
            ),
            "nice" => set_once(&mut self.nice, key, parse_nice(value)),
            "when_full" => set_once(
                &mut self.refuse_when_full,
                key,
                match value {
                    "wait" => Ok(false),
                    "refuse" => Ok(true),
                    _ => Err(format!(
                        "when_full {value:?} is neither \"wait\" nor \"refuse\""
                    )),
                },
            ),
            _ => Err(format!(
                "unknown option {key:?}; expected one of \"queue\", \"keep_alive\", \"stack\", \"spin\", \"nice\", \"when_full\""
            )),
        }
    }
}

/// Parses a whole `OFFLOAD_POOLS` value into one override per entry, in order.
///
/// An error is [`ConfigError::Malformed`], for the first entry that is wrong: it holds that
/// entry as written (trimmed) and a reason that quotes the bad part.
pub(crate) fn parse_overrides(spec: &str) -> Result<Vec<Override>, ConfigError> {
    if spec.trim().is_empty() {
        return Ok(Vec::new());
    }
    let count = spec.split(',').count();
    let mut parsed: Vec<(&str, Override)> = Vec::with_capacity(count);
    for (index, entry) in spec.split(',').map(str::trim).enumerate() {
        let malformed = |reason: String| ConfigError::Malformed {
            entry: entry.to_owned(),
            reason,
        };
        if entry.is_empty() {
            return Err(malformed(format!(
                "entry {} of {count} is empty; remove the extra \",\"",
                index + 1
            )));
        }
        let next = parse_entry(entry).map_err(malformed)?;
        if let Some((first, _)) = parsed.iter().find(|(_, done)| done.pool == next.pool) {
            return Err(malformed(format!(
                "the same pool {:?} appears twice (first in {first:?}); give each pool one entry",
                next.pool
            )));
        }
        parsed.push((entry, next));
    }
    Ok(parsed.into_iter().map(|(_, done)| done).collect())
}

/// Parses one trimmed, non-empty entry, `name=spec`; an error is the reason it is
/// malformed.
fn parse_entry(entry: &str) -> Result<Override, String> {
    let Some((name, spec)) = entry.split_once('=') else {
        return Err("missing \"=\" between the pool name and its settings, like db=16".into());
    };
    let name = name.trim();
    validate_name(name).map_err(|error| match error {
        ConfigError::Invalid { reason, .. } => {
            format!("pool name {name:?} is not allowed: {reason}")
        }
        other => other.to_string(),
    })?;

    let mut fields = spec.split(':').map(str::trim).peekable();
    // `split` yields at least one field, maybe empty.
    let first = fields.next().unwrap_or_default();
    let kind = match first {
        "fixed" => Some(PoolKind::Fixed),
        "elastic" => Some(PoolKind::Elastic),
        // Another word followed by something that is not an option was meant as a kind.
        _ if !is_count(first) && !first.contains('=') => match fields.peek() {
            Some(next) if !next.contains('=') => {
                return Err(format!(
                    "unknown kind {first:?}; expected \"fixed\" or \"elastic\""
                ));
            }
            _ => None,
        },
        _ => None,
    };
    let threads = match kind {
        Some(_) => match fields.next() {
            Some(threads) => threads,
            None => {
                return Err(format!(
                    "kind {first:?} needs a thread count after it, like {first}:16"
                ));
            }
        },
        None => first,
    };
    if threads.contains('=') {
        return Err(format!(
            "expected the thread count before the options, found {threads:?}"
        ));
    }

    let mut entry = Override {
        pool: name.to_owned(),
        kind,
        threads: parse_count("thread count", threads)?,
        queue_capacity: None,
        keep_alive: None,
        stack_size: None,
        spin: None,
        nice: None,
        refuse_when_full: None,
    };
    for field in fields {
        entry.set_option(field)?;
    }
    Ok(entry)
}

/// Stores the parsed `value` of `option` in `slot`, unless the option was already set.
fn set_once<T>(slot: &mut Option<T>, option: &str, value: Result<T, String>) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("option {option:?} set twice"));
    }
    *slot = Some(value?);
    Ok(())
}

/// Whether `text` is a run of ASCII digits (a count, maybe too large for `usize`).
fn is_count(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a whole number, calling it `what` in the error.
fn parse_count(what: &str, text: &str) -> Result<usize, String> {
    if text.is_empty() {
        return Err(format!("{what} is missing"));
    }
    if !is_count(text) {
        return Err(format!("{what} {text:?} is not a number"));
    }
    text.parse()
        .map_err(|_| format!("{what} {text:?} is too large; the most is {}", usize::MAX))
}

/// Parses a nice value: a whole number with an optional sign. Its range is checked at
/// install, with the pool's other settings.
fn parse_nice(text: &str) -> Result<i32, String> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !is_count(digits) {
        return Err(format!("nice value {text:?} is not a whole number"));
    }
    text.parse()
        .map_err(|_| format!("nice value {text:?} is far outside 1..=19"))
}
