//! What differs between two configurations of one pool, setting by setting, for the error
//! that refuses to change an installed pool: the settings a reader has to fix, not two
//! whole configurations to compare by eye.

use std::fmt;
use std::time::Duration;

use super::pool_config::ThreadHook;
use super::{PoolConfig, PoolKind};

/// One setting whose value differs: its name, and its value in each configuration.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Difference {
    pub(crate) setting: &'static str,
    pub(crate) installed: String,
    pub(crate) requested: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Difference {
            setting,
            installed,
            requested,
        } = self;
        write!(
            f,
            "{setting} {installed} (installed), {requested} (asked for)"
        )
    }
}

/// The settings of `requested` that differ from `installed`, in the order of
/// `PoolConfig`'s setters.
pub(crate) fn differences(installed: &PoolConfig, requested: &PoolConfig) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut compare = |setting, installed: String, requested: String| {
        if installed != requested {
            found.push(Difference {
                setting,
                installed,
                requested,
            });
        }
    };
    let kind = |kind: PoolKind| match kind {
        PoolKind::Fixed => "fixed".to_owned(),
        PoolKind::Elastic => "elastic".to_owned(),
    };
    compare("kind", kind(installed.kind), kind(requested.kind));
    compare(
        "threads",
        installed.threads.to_string(),
        requested.threads.to_string(),
    );
    compare(
        "queue_capacity",
        installed.queue_capacity.to_string(),
        requested.queue_capacity.to_string(),
    );
    compare(
        "refuse_when_full",
        installed.refuse_when_full.to_string(),
        requested.refuse_when_full.to_string(),
    );
    let optional = |value: Option<String>| value.unwrap_or_else(|| "none".to_owned());
    compare(
        "keep_alive",
        optional(installed.keep_alive.map(|idle| format!("{idle:?}"))),
        optional(requested.keep_alive.map(|idle| format!("{idle:?}"))),
    );
    compare(
        "stack_size",
        optional(installed.stack_size.map(|bytes| bytes.to_string())),
        optional(requested.stack_size.map(|bytes| bytes.to_string())),
    );
    compare(
        "metrics",
        installed.metrics.to_string(),
        requested.metrics.to_string(),
    );
    let spin = |spin: Option<Duration>| {
        spin.map_or_else(|| "adaptive".to_owned(), |spin| format!("{spin:?}"))
    };
    compare("spin", spin(installed.spin), spin(requested.spin));
    compare(
        "nice",
        optional(installed.nice.map(|nice| nice.to_string())),
        optional(requested.nice.map(|nice| nice.to_string())),
    );
    for (setting, installed, requested) in [
        (
            "on_thread_start",
            &installed.on_thread_start,
            &requested.on_thread_start,
        ),
        (
            "on_thread_stop",
            &installed.on_thread_stop,
            &requested.on_thread_stop,
        ),
    ] {
        if installed != requested {
            found.push(Difference {
                setting,
                installed: hook(installed, "a hook"),
                requested: hook(requested, "another hook"),
            });
        }
    }
    found
}

/// A hook as a message shows it: there is no telling two closures apart by value.
fn hook(hook: &Option<ThreadHook>, some: &str) -> String {
    match hook {
        Some(_) => some.to_owned(),
        None => "none".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn only_the_settings_that_differ_are_listed_with_both_values() {
        let installed = PoolConfig::elastic(8).queue_capacity(256);
        let requested = PoolConfig::elastic(16)
            .queue_capacity(256)
            .keep_alive(Duration::from_secs(30))
            .on_thread_start(|| {});
        let found: Vec<String> = differences(&installed, &requested)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "threads 8 (installed), 16 (asked for)",
                "keep_alive 10s (installed), 30s (asked for)",
                "on_thread_start none (installed), another hook (asked for)",
            ]
        );
        assert!(differences(&installed, &installed.clone()).is_empty());
    }

    #[test]
    fn two_closures_differ_even_when_both_are_set() {
        let installed = PoolConfig::fixed(2).on_thread_stop(|| {});
        let requested = PoolConfig::fixed(2).on_thread_stop(|| {});
        let found = differences(&installed, &requested);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "on_thread_stop a hook (installed), another hook (asked for)"
        );
    }
}
