//! Helpers for tests: pools for each test, the stalls a future produced, and blocking allowed
//! on purpose.

use std::future::Future;

use crate::error::ConfigError;
use crate::registry::PoolsBuilder;
use crate::stall::{StallReport, with_polls};

/// Installs the pools of `pools` for a test, in a test binary whose tests each install the
/// pools they need: [`PoolsBuilder::install`] without its check that every
/// `#[offload(pool = "...")]` of the program has its pool (in a test binary, the other
/// tests' pools may not be installed yet).
///
/// As with `install`, pools with new names are added, a pool installed before with the
/// same configuration is left as it is, and one with another configuration is an error
/// naming it. So each test can install what it needs, in any order, with no `Once`:
///
/// ```
/// use async_offload::{PoolConfig, Pools};
///
/// fn db_pool() {
///     async_offload::testing::install_pools(Pools::builder().pool("db", PoolConfig::fixed(2)))
///         .expect("the same pool each time");
/// }
///
/// db_pool(); // the first test to run installs it,
/// db_pool(); // the others find it as they need it
/// # let other = async_offload::testing::install_pools(Pools::builder().pool("db", PoolConfig::fixed(3)));
/// # assert!(other.is_err());
/// ```
///
/// # Errors
///
/// Those of [`PoolsBuilder::install`] but
/// [`ConfigError::UnknownPools`]; nothing is installed when it returns one.
pub fn install_pools(pools: PoolsBuilder) -> Result<(), ConfigError> {
    pools.install_checking(false)
}

/// Runs `f`, which blocks on purpose, inside a poll of a `#[no_block]` fn: a test's setup or
/// teardown (opening a database, writing a fixture file, dropping the last handle of a
/// connection), where moving the work onto a pool would only make the test longer.
///
/// Only what `f` does is excused: its calls of `#[blocking]` fns pass, and with the
/// `detect-blocking-calls` feature the C library's blocking calls it makes are not
/// reported. Everything before and after it in the same poll is checked as usual. Its time
/// still counts in the poll's time against the threshold (the executor thread is held all
/// the same): a setup that takes long belongs in [`run`](crate::run), or before the test's
/// first poll.
///
/// ```
/// use async_offload::{blocking, no_block, testing};
///
/// #[blocking]
/// fn open_fixture() -> String {
///     "a fixture".to_owned() // a sync driver's connect, say
/// }
///
/// #[no_block]
/// async fn test_body() -> usize {
///     let fixture = testing::allow_blocking(open_fixture); // excused
///     fixture.len() // calling open_fixture() here instead would be reported
/// }
/// # assert_eq!(futures::executor::block_on(test_body()), 9);
/// ```
pub fn allow_blocking<T>(f: impl FnOnce() -> T) -> T {
    crate::stall::excused(f)
}

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
/// assert on stalls belong to debug builds (`#[cfg(debug_assertions)]`). With the
/// `release-stalls` feature, a release build's slow polls are collected too, one report
/// per fn's poll as the release build makes them (no breakdown of the time among the fns,
/// no blocking calls).
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
