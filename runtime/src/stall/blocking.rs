//! `#[blocking]` and [`assert_blocking_allowed`]: a known-blocking call made inside a poll
//! of a `#[no_block]` future fails at once, however fast it happened to be.

use std::panic::Location;

use super::Mode;
use super::guard::with_polls;
use super::mode::{self, Action};

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

/// What a `#[blocking]` fn does in a debug build: the check, naming the fn `function` and
/// the caller's location, then `body`, the fn's own body.
///
/// The generated fn is `#[track_caller]`, so that the caller's location here is the user's
/// call of it. Its body runs in the closure `body`, which is not: a panic in the body (an
/// `unwrap()`) keeps its own line.
#[track_caller]
pub fn blocking_call<T>(function: &str, body: impl FnOnce() -> T) -> T {
    check(&format_args!(
        "a call to the #[blocking] fn {function} at {}",
        Location::caller()
    ));
    body()
}

/// Reports a blocking call made inside a poll of a `#[no_block]` fn as a stall would be:
/// by default a panic when a test's own code is in the poll (the test fails) and a line on
/// stderr elsewhere (a dev server keeps serving); `OFFLOAD_STALL` and
/// [`set_mode`](super::set_mode) choose otherwise. With a hook, which takes stall reports,
/// it does what it does by default.
#[track_caller]
fn check(what: &std::fmt::Arguments<'_>) {
    let poller = with_polls(|polls| {
        if polls.pool_thread.get() || polls.excused.get() > 0 {
            None
        } else {
            polls.current().map(|site| (site, polls.in_test_code()))
        }
    });
    let Some((poller, test_code)) = poller else {
        return;
    };
    let message = format_args!(
        "{what} was made inside a poll of the #[no_block] fn {}, where it would block an \
         executor thread; move it into an #[offload] fn (or run it with async_offload::run)",
        poller.name
    );
    let panics = match mode::action(test_code) {
        Action::Panic => true,
        Action::Warn => false,
        Action::Hook(_) => mode::default_mode(test_code) == Mode::Panic,
        Action::Off => return,
    };
    if panics {
        panic!("{message}");
    }
    eprintln!("offload: {message}");
}

/// Marks the current thread as a pool thread, where blocking is what it is for.
pub(crate) fn mark_pool_thread() {
    with_polls(|polls| polls.pool_thread.set(true));
}
