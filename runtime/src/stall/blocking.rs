//! `#[blocking]` and [`assert_blocking_allowed`]: a known-blocking call made inside a poll
//! of a `#[no_block]` future fails at once, however fast it happened to be.

use std::panic::Location;

use super::guard::with_polls;

/// Panics if the current thread is inside a poll of a `#[no_block]` future: a blocking call
/// made here would hold an executor thread.
///
/// Pool threads and threads that poll no instrumented future may always block. `#[blocking]`
/// on a fn calls this first, in debug builds; call it by hand in a function that blocks
/// without the attribute.
///
/// # Panics
///
/// Inside a poll of a `#[no_block]` fn, with a message naming that fn and the caller's
/// location.
#[track_caller]
pub fn assert_blocking_allowed() {
    check(&format_args!("a blocking call at {}", Location::caller()));
}

/// The check `#[blocking]` generates, naming the blocking fn.
#[track_caller]
pub fn blocking_call(function: &'static str) {
    check(&format_args!("the #[blocking] fn {function}"));
}

#[track_caller]
fn check(what: &std::fmt::Arguments<'_>) {
    let poller = with_polls(|polls| {
        if polls.pool_thread.get() {
            None
        } else {
            polls.current()
        }
    });
    if let Some(poller) = poller {
        panic!(
            "{what} was made inside a poll of the #[no_block] fn {}, where it would block an \
             executor thread; move it into an #[offload] fn (or run it with async_offload::run)",
            poller.name
        );
    }
}

/// Marks the current thread as a pool thread, where blocking is what it is for.
pub(crate) fn mark_pool_thread() {
    with_polls(|polls| polls.pool_thread.set(true));
}
