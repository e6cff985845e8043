//! What happens to a stall report: the mode, the hook, and their environment variables.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use super::report::StallReport;
use async_offload_rules::parse_threshold;

/// The variable that sets the mode at run time: `panic`, `warn` or `off`.
const STALL_ENV: &str = "OFFLOAD_STALL";
/// The variable that sets the default threshold at run time, like `25ms`.
const STALL_THRESHOLD_ENV: &str = "OFFLOAD_STALL_THRESHOLD";
/// The threshold of a `#[no_block]` fn that names none, unless `OFFLOAD_STALL_THRESHOLD`
/// says otherwise.
const DEFAULT_THRESHOLD: Duration = Duration::from_millis(10);

/// What a stall report does.
///
/// Unless [`set_mode`], [`set_hook`] or `OFFLOAD_STALL` chooses, a stall is a panic when a
/// `#[no_block]` fn compiled under `cfg(test)` (a test's own code: a test body under
/// `#[no_block]`, or a helper of the test crate) is in the stalled poll, so that the test
/// fails, and a warning otherwise: a debug build of a server keeps serving, and says so on
/// stderr. (A test that only calls instrumented fns of a library, compiled without
/// `cfg(test)`, gets warnings: put `#[no_block]` on the test too, or set the mode.)
///
/// In a release build with the `release-stalls` feature, a slow poll does what a mode set
/// in code, a hook, or `OFFLOAD_STALL` says; with none of them it neither panics nor
/// prints: it is counted (see `poll_stats`), and with the `tracing` feature it becomes a
/// `WARN` event if a subscriber is in place. `Off` stops the counting too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Panic in the stalled task with the report: a test that stalls fails.
    Panic,
    /// Print the report on one line on stderr (with the `tracing` feature: a `WARN` event).
    Warn,
    /// Nothing: polls are not even timed.
    Off,
}

/// The receiver of reports set with [`set_hook`].
type Hook = Arc<dyn Fn(&StallReport) + Send + Sync>;

/// The mode set in code: `UNSET` until [`set_mode`] or [`set_hook`] is called.
static MODE: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = 0;
const PANIC: u8 = 1;
const WARN: u8 = 2;
const OFF: u8 = 3;
const HOOK: u8 = 4;

/// The hook of [`set_hook`]; read only when a stall is reported.
static HOOK_FN: RwLock<Option<Hook>> = RwLock::new(None);

/// Sets what a stall report does, for the whole process. Wins over `OFFLOAD_STALL`, and
/// replaces a hook set before.
pub fn set_mode(mode: Mode) {
    MODE.store(code_of(mode), Ordering::Release);
}

/// Hands every stall report to `hook` instead, for the whole process (to record reports,
/// count them, or send them elsewhere). Wins over `OFFLOAD_STALL`; [`set_mode`] replaces it.
///
/// The hook runs on the stalled thread, inside the poll that stalled; a report with
/// `still_running: true` comes from another thread.
pub fn set_hook(hook: impl Fn(&StallReport) + Send + Sync + 'static) {
    *HOOK_FN.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    MODE.store(HOOK, Ordering::Release);
}

/// What to do with a report, as decided now.
pub(crate) enum Action {
    Panic,
    Warn,
    Off,
    Hook(Hook),
}

/// Whether polls are timed at all (they are not in `off` mode).
pub(crate) fn enabled() -> bool {
    match MODE.load(Ordering::Acquire) {
        UNSET => env_mode() != Some(Mode::Off),
        code => code != OFF,
    }
}

/// The mode when neither code nor `OFFLOAD_STALL` sets one: a panic if a test's own code
/// was in the stalled poll (`test`), so that the test fails; else a warning, so that a
/// server run from a debug build keeps serving and says so.
pub(crate) fn default_mode(test: bool) -> Mode {
    if test { Mode::Panic } else { Mode::Warn }
}

/// The current action for a report on a poll in which a test's own code was (`test`) or
/// not.
pub(crate) fn action(test: bool) -> Action {
    match MODE.load(Ordering::Acquire) {
        UNSET => action_of(code_of(env_mode().unwrap_or_else(|| default_mode(test)))),
        code => action_of(code),
    }
}

/// The action for a slow poll in a release build (`release-stalls`): the mode set in code
/// or by `OFFLOAD_STALL`, if any. `None` when there is none: then no panic and no line on
/// stderr, only a `WARN` event where the `tracing` feature has a subscriber. The poll is
/// counted either way.
#[cfg(feature = "release-stalls")]
pub(crate) fn release_action() -> Option<Action> {
    match MODE.load(Ordering::Acquire) {
        UNSET => env_mode().map(|mode| action_of(code_of(mode))),
        code => Some(action_of(code)),
    }
}

/// The code of `mode` in [`MODE`].
fn code_of(mode: Mode) -> u8 {
    match mode {
        Mode::Panic => PANIC,
        Mode::Warn => WARN,
        Mode::Off => OFF,
    }
}

/// What a mode's code does.
fn action_of(code: u8) -> Action {
    match code {
        WARN => Action::Warn,
        OFF => Action::Off,
        HOOK => match HOOK_FN
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            Some(hook) => Action::Hook(hook),
            None => Action::Panic,
        },
        _ => Action::Panic,
    }
}

/// The mode `OFFLOAD_STALL` asks for, read once; `None` when it is not set.
///
/// A value it cannot read is reported once on stderr and the default kept: a typo in a
/// variable must not turn the checks off.
fn env_mode() -> Option<Mode> {
    static FROM_ENV: OnceLock<Option<Mode>> = OnceLock::new();
    *FROM_ENV.get_or_init(|| {
        let value = std::env::var(STALL_ENV).ok()?;
        parse_mode(&value)
            .map_err(|problem| {
                eprintln!(
                    "offload: {problem}; the default stays: stalls panic in tests and warn \
                     elsewhere"
                );
            })
            .ok()
    })
}

/// Parses a value of `OFFLOAD_STALL`.
pub(crate) fn parse_mode(value: &str) -> Result<Mode, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "panic" => Ok(Mode::Panic),
        "warn" => Ok(Mode::Warn),
        "off" => Ok(Mode::Off),
        _ => Err(format!(
            "{STALL_ENV}={value:?} is not a mode; expected \"panic\", \"warn\" or \"off\""
        )),
    }
}

/// The threshold of a `#[no_block]` fn that names none: `OFFLOAD_STALL_THRESHOLD`, read
/// once, or 10 ms.
pub(crate) fn default_threshold() -> Duration {
    static FROM_ENV: OnceLock<Duration> = OnceLock::new();
    *FROM_ENV.get_or_init(|| match std::env::var(STALL_THRESHOLD_ENV) {
        Err(_) => DEFAULT_THRESHOLD,
        Ok(value) => parse_threshold(&value).unwrap_or_else(|problem| {
            eprintln!(
                "offload: {STALL_THRESHOLD_ENV}: {problem}; the threshold stays {} ms",
                DEFAULT_THRESHOLD.as_millis()
            );
            DEFAULT_THRESHOLD
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_in_any_case_and_anything_else_is_refused_with_the_value() {
        assert_eq!(parse_mode("panic"), Ok(Mode::Panic));
        assert_eq!(parse_mode(" Warn "), Ok(Mode::Warn));
        assert_eq!(parse_mode("OFF"), Ok(Mode::Off));
        let problem = parse_mode("quiet").unwrap_err();
        assert!(problem.contains("\"quiet\""), "{problem}");
    }

    #[test]
    fn by_default_a_stall_panics_in_a_test_and_warns_elsewhere() {
        assert_eq!(default_mode(true), Mode::Panic);
        assert_eq!(default_mode(false), Mode::Warn);
    }
}
