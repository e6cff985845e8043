//! Helpers for tests that check for stalls.

use std::future::Future;

use crate::stall::{StallReport, with_polls};

/// Runs `future` and returns its output together with the stall reports its polls produced.
///
/// While `future` is polled, reports from instrumented futures inside it go to the returned
/// list instead of to the mode (no panic, nothing printed, no hook), and polls are timed
/// even in `off` mode. Nothing global changes, so tests running in parallel do not see each
/// other's reports.
///
/// The list holds the reports made when a poll returns. A report on a poll still running
/// (`still_running: true`, from the watchdog, a second or more into a poll that has not
/// returned) goes to the mode as usual, printed by default: a poll that never returns would
/// otherwise hide it in a list nobody gets to read.
///
/// In a release build of the crate that holds the `#[no_block]` fns, they are not
/// instrumented (the attribute compiles away), so the list is always empty: tests that
/// assert on stalls belong to debug builds (`#[cfg(debug_assertions)]`).
///
/// ```
/// # futures::executor::block_on(async {
/// let (value, stalls) = async_offload::testing::collect_stalls(async { 40 + 2 }).await;
/// assert_eq!(value, 42);
/// assert!(stalls.is_empty());
/// # });
/// ```
pub fn collect_stalls<F: Future>(future: F) -> impl Future<Output = (F::Output, Vec<StallReport>)> {
    let mut future = Box::pin(future);
    let mut reports = Vec::new();
    std::future::poll_fn(move |cx| {
        let collecting = Collecting::start(std::mem::take(&mut reports));
        let poll = future.as_mut().poll(cx);
        reports = collecting.stop();
        poll.map(|output| (output, std::mem::take(&mut reports)))
    })
}

/// Reports collected on this thread during one poll; what was collecting before is put
/// back afterwards, even if the poll panics.
struct Collecting {
    outer: Option<Option<Vec<StallReport>>>,
}

impl Collecting {
    fn start(reports: Vec<StallReport>) -> Self {
        let outer = with_polls(|polls| polls.collected.replace(Some(reports)));
        Collecting { outer: Some(outer) }
    }

    fn stop(mut self) -> Vec<StallReport> {
        let outer = self.outer.take().expect("stopped once");
        with_polls(|polls| polls.collected.replace(outer)).unwrap_or_default()
    }
}

impl Drop for Collecting {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            with_polls(|polls| polls.collected.replace(outer));
        }
    }
}
