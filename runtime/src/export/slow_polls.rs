//! Each slow poll of a `#[no_block]` fn, recorded into a histogram labelled by the fn
//! (`metrics` with `release-stalls`).

use super::{names, seconds};

/// Records a slow poll of the fn `function` that took `nanos`. Registers the histogram with
/// the recorder each time: slow polls are rare, and the fn's name is a `&'static str`,
/// which a label takes without copying it. Recorded on the executor thread, so a recorder
/// set for that thread alone (`metrics::with_local_recorder`) gets it, as it would the
/// application's own figures there.
#[cold]
pub(crate) fn record_slow_poll(function: &'static str, nanos: u64) {
    metrics::histogram!(names::SLOW_POLL_TIME, names::FUNCTION => function).record(seconds(nanos));
}
