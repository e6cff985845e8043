//! Stall detection for `#[no_block]`: what a report holds and what it does.
//!
//! In debug builds, every poll of a `#[no_block]` fn's future is timed. A poll that holds
//! its thread longer than the fn's threshold (10 ms unless the attribute or
//! `OFFLOAD_STALL_THRESHOLD` says otherwise) is a stall, reported once, by the outermost
//! instrumented future on the thread. What the report does is the [`Mode`]: by default a
//! panic, so that a test that stalls fails.

pub(crate) mod blocking;
pub(crate) mod guard;
mod mode;
mod report;

pub use self::blocking::assert_blocking_allowed;
pub(crate) use self::blocking::mark_pool_thread;
pub(crate) use self::guard::with_polls;
pub use self::mode::{DEFAULT_THRESHOLD, Mode, STALL_ENV, STALL_THRESHOLD_ENV, set_hook, set_mode};
pub use self::report::{LocationKind, SourceLocation, StallReport};

use self::mode::Action;

/// Sends a report where it goes: to [`collect_stalls`](crate::testing::collect_stalls)
/// if one is collecting on this thread, else to the mode.
fn deliver(report: StallReport) {
    let report = match with_polls(|polls| match polls.collected.borrow_mut().as_mut() {
        Some(collected) => {
            collected.push(report);
            None
        }
        None => Some(report),
    }) {
        Some(report) => report,
        None => return,
    };
    match mode::action() {
        Action::Panic => panic!("{report}"),
        Action::Warn => warn(&report),
        Action::Off => {}
        Action::Hook(hook) => hook(&report),
    }
}

/// `warn` mode: one line on stderr, or, with the `tracing` feature and a subscriber in
/// place, a `WARN` event (so that the report is not lost where nobody listens).
fn warn(report: &StallReport) {
    #[cfg(feature = "tracing")]
    if tracing::dispatcher::get_default(|current| {
        !current.is::<tracing::subscriber::NoSubscriber>()
    }) {
        tracing::warn!(
            function = report.function,
            blocked_ms = report.blocked.as_secs_f64() * 1e3,
            threshold_ms = report.threshold.as_secs_f64() * 1e3,
            from = %report.from,
            to = %report.to,
            thread = report.thread.as_deref().unwrap_or("<unnamed>"),
            "{}",
            report.one_line()
        );
        return;
    }
    eprintln!("offload: {}", report.one_line());
}
