//! With the `release-stalls` feature: `stall::poll_stats` lists every `#[no_block]` fn of
//! the program with what its polls have done. In a test (a debug build) the counts come
//! from the same polls the checks time; `tests/release_check`, run by the root package's
//! `tests/no_block.rs`, shows them in a release build.
//!
//! The lines the counts must name are taken with `line!()` on the line of the `.await`
//! itself, and returned by the fn under test, so that no line number is written here.

use std::time::Duration;

use async_offload::no_block;
use async_offload::stall::{LocationKind, PollStats, poll_stats};
use async_offload::testing::collect_stalls;

/// Far past any scheduling delay of a fast poll, and far below the slow one's.
const BLOCK: Duration = Duration::from_millis(150);

/// Yields once at the marked `.await`, then blocks past its threshold: two polls, the
/// second slow, from that `.await` to the end. Returns the `.await`'s line.
#[no_block(threshold = "100ms")]
async fn yields_then_blocks() -> u32 {
    let line = yield_with(line!()).await;
    std::thread::sleep(BLOCK);
    line
}

/// Yields once, then gives `value` back.
async fn yield_with<T>(value: T) -> T {
    tokio::task::yield_now().await;
    value
}

/// Never called.
#[no_block(threshold = "7ms")]
async fn never_polled() {}

/// The counts of the fn of this file named `name`.
fn stats_of(name: &str) -> PollStats {
    let function = format!("release_stalls::{name}");
    poll_stats()
        .into_iter()
        .find(|stats| stats.function == function)
        .unwrap_or_else(|| panic!("{function} is listed"))
}

#[tokio::test]
async fn polls_slow_polls_and_the_longest_span_are_counted_per_fn() {
    let (line, reports) = collect_stalls(yields_then_blocks()).await;
    assert_eq!(
        reports.len(),
        1,
        "the slow poll is reported as well: {reports:?}"
    );

    let stats = stats_of("yields_then_blocks");
    assert_eq!((stats.polls, stats.slow_polls), (2, 1), "{stats:?}");
    assert_eq!(stats.threshold, Duration::from_millis(100));
    assert!(stats.slow_time >= BLOCK, "{stats:?}");
    assert_eq!(
        stats.longest, stats.slow_time,
        "the slow poll is the longest"
    );
    assert_eq!(
        (stats.longest_from.line, stats.longest_from_kind),
        (line, LocationKind::Await)
    );
    assert_eq!(stats.longest_to_kind, LocationKind::End);
    assert!(
        stats.longest_from.file.ends_with("release_stalls.rs"),
        "{stats:?}"
    );
}

#[test]
fn every_fn_is_listed_in_order_polled_or_not() {
    let stats = stats_of("never_polled");
    assert_eq!((stats.polls, stats.slow_polls), (0, 0));
    assert_eq!(
        (stats.longest, stats.slow_time),
        (Duration::ZERO, Duration::ZERO)
    );
    assert_eq!(stats.threshold, Duration::from_millis(7));
    // Before any poll, the longest span is the whole body.
    assert_eq!(
        (stats.longest_from_kind, stats.longest_to_kind),
        (LocationKind::Start, LocationKind::End)
    );
    let all = poll_stats();
    assert!(
        all.windows(2)
            .all(|pair| pair[0].function < pair[1].function),
        "sorted by name (this file has no two fns of one name): {all:?}"
    );
}
