//! Which recorded calls become reports: the rules that leave out what is not the user's to
//! fix, and what a short wait for a lock is.
//!
//! # Futex waits
//!
//! std's `Mutex`, `RwLock`, `Condvar`, `Once` (so `OnceLock` and `LazyLock`) and
//! `thread::park` (so `mpsc` and `sync_channel` receives and `futures::executor::block_on`),
//! and parking_lot's locks, wait on a futex through `syscall(SYS_futex, ..)`. Each such
//! wait in a poll is recorded (`sys.rs`); here it is told apart by its stack:
//!
//! - **Made by offload** (the first frame that is neither the C function nor of a library
//!   implementing the primitive, std's or [`PRIMITIVES`]', is this crate's): its pools'
//!   short locks. Never reported.
//! - **A wait for a lock** (`Mutex`, `RwLock`, parking_lot's and lock_api's): a frame of
//!   those libraries names a mutex or a read-write lock. tokio's docs recommend a std
//!   `Mutex` for short critical sections, and under contention such a lock makes short
//!   futex waits that are not the problem this feature looks for; a lock held across slow
//!   work by another thread is. So a lock's waits are reported when they add up, at one
//!   call site in one poll, to at least [`DEFAULT_LOCK_WAIT_FLOOR`] (or what
//!   `OFFLOAD_DETECT_LOCK_WAITS` says: a duration, `0` for every wait, `off` for none);
//!   and never when tokio's code takes the lock: its channels, `Notify`, its mutex's wait
//!   list and its scheduler take short locks of their own under contention, which a user
//!   cannot change.
//! - **A wait for an event** (everything else: a condition variable, a channel, a thread
//!   being unparked, a `Once` run by another thread), tokio's included (its
//!   `blocking_recv` driven by another executor): always reported, however short; it
//!   waits for another thread to do something, which may take any time.
//!
//! Without names below the C function (where a call's stack cannot be taken safely, or in
//! a binary without symbols), a futex wait cannot be told apart, and is not reported.

use std::sync::OnceLock;
use std::time::Duration;

use async_offload_rules::parse_duration;

use crate::stall::watchdog::Stack;
use crate::stall::watchdog::stack::{crate_of, is_library};

/// The name a futex wait is recorded and reported under (its C function is `syscall`).
pub(super) const FUTEX: &str = "futex";

/// The interposed function that records calls of the name `call`: the frame at which the
/// stack of such a call begins.
pub(super) fn interposer_of(call: &'static str) -> &'static str {
    if call == FUTEX { "syscall" } else { call }
}

/// The variable that says which waits for a lock are reported.
const LOCK_WAITS_ENV: &str = "OFFLOAD_DETECT_LOCK_WAITS";

/// The default least time, added up at one call site in one poll, for which a wait for a
/// lock is reported: far above a short critical section's wait under contention (a few
/// microseconds), below what a lock held across I/O or a sleep makes a poll wait.
const DEFAULT_LOCK_WAIT_FLOOR: Duration = Duration::from_millis(1);

/// The crates besides std's whose frames implement the primitives: they sit between the C
/// function and the code that asked for the wait.
const PRIMITIVES: [&str; 3] = ["parking_lot", "parking_lot_core", "lock_api"];

/// Whether a recorded call of `call`, with the (resolved, trimmed) `stack` and the time it
/// `took`, becomes a report.
pub(super) fn reported(call: &str, stack: &Stack, took: Duration) -> bool {
    let caller = first_caller(stack).map(crate_of);
    let ours = module_path!().split("::").next().unwrap_or_default();
    if caller == Some(ours) {
        // The pools, started at their first use (`available_parallelism` reads files),
        // or their locks: once, or short, and not the user's to fix.
        return false;
    }
    if call != FUTEX {
        return true;
    }
    if below_the_call(stack).next().is_none() {
        // No names (no stack where it cannot be taken safely, or a binary without
        // symbols): a wait cannot be told from tokio's own or from a short lock's.
        return false;
    }
    if !waits_for_a_lock(stack) {
        return true;
    }
    caller != Some("tokio") && lock_wait_floor().is_some_and(|floor| took >= floor)
}

/// The named functions of the stack below the C function.
fn below_the_call(stack: &Stack) -> impl Iterator<Item = &str> {
    stack
        .frames
        .iter()
        .skip(1)
        .filter_map(|frame| frame.function.as_deref())
}

/// Whether a function implements a primitive: a C function, std's, or one of
/// [`PRIMITIVES`]'.
fn implements_the_primitive(function: &str) -> bool {
    is_library(function) || PRIMITIVES.contains(&crate_of(function))
}

/// The first function below the C function that does not implement the primitive: the
/// code that made the call.
fn first_caller(stack: &Stack) -> Option<&str> {
    below_the_call(stack).find(|function| !implements_the_primitive(function))
}

/// Whether the frames that implement a futex wait are those of a lock: a module or a type
/// of their paths, without generic arguments, names a mutex or a read-write lock
/// (`<std::sys::sync::mutex::futex::Mutex>::lock_contended`,
/// `parking_lot::raw_rwlock::RawRwLock::lock_shared_slow`; not
/// `std::sync::OnceLock<std::sync::Mutex<T>>::initialize`).
fn waits_for_a_lock(stack: &Stack) -> bool {
    below_the_call(stack)
        .take_while(|function| implements_the_primitive(function))
        .any(|function| {
            let path = without_generic_arguments(function).to_ascii_lowercase();
            path.contains("mutex") || path.contains("rwlock")
        })
}

/// `function` without the generic arguments of its path: `std::sync::OnceLock::initialize`
/// for `std::sync::OnceLock<std::sync::Mutex<u8>>::initialize`. The `<` that opens a
/// qualified path (`<T as Trait>::f`), at the start or after `&`, `(` or a space, stays.
fn without_generic_arguments(function: &str) -> String {
    let mut kept = String::with_capacity(function.len());
    let mut depth = 0usize;
    let mut previous = ' ';
    for c in function.chars() {
        match c {
            '<' if depth > 0 || previous.is_alphanumeric() || previous == '_' => depth += 1,
            // Not the `>` of a `->` in a function pointer's type.
            '>' if depth > 0 && previous != '-' => depth -= 1,
            _ if depth > 0 => {}
            _ => kept.push(c),
        }
        previous = c;
    }
    kept
}

/// The least time for which a wait for a lock is reported; `None`: never. Read once.
fn lock_wait_floor() -> Option<Duration> {
    static FROM_ENV: OnceLock<Option<Duration>> = OnceLock::new();
    *FROM_ENV.get_or_init(|| match std::env::var(LOCK_WAITS_ENV) {
        Err(_) => Some(DEFAULT_LOCK_WAIT_FLOOR),
        Ok(value) => parse_lock_waits(&value).unwrap_or_else(|problem| {
            eprintln!(
                "offload: {problem}; waits for a lock of {} ms or more stay reported",
                DEFAULT_LOCK_WAIT_FLOOR.as_millis()
            );
            Some(DEFAULT_LOCK_WAIT_FLOOR)
        }),
    })
}

/// Parses a value of `OFFLOAD_DETECT_LOCK_WAITS`: `off`, `0`, or a duration.
fn parse_lock_waits(value: &str) -> Result<Option<Duration>, String> {
    match value.trim() {
        "off" => Ok(None),
        "0" => Ok(Some(Duration::ZERO)),
        text => parse_duration(text).map(Some).map_err(|problem| {
            format!(
                "{LOCK_WAITS_ENV}={value:?}: {problem}; expected a duration like 5ms, 0 for \
                 every wait, or off"
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stall::watchdog::StackFrame;

    /// A stack of the given function names, the C function first.
    fn stack(functions: &[&str]) -> Stack {
        Stack {
            frames: functions
                .iter()
                .map(|function| StackFrame {
                    function: Some((*function).to_owned()),
                    file: None,
                    line: None,
                })
                .collect(),
        }
    }

    // Stacks as std 1.95 and tokio 1.54 make them, trimmed as reports show them.
    const MUTEX: &[&str] = &[
        "futex",
        "std::sys::pal::unix::futex::futex_wait",
        "<std::sys::sync::mutex::futex::Mutex>::lock_contended",
        "std::sys::sync::mutex::futex::Mutex::lock",
        "std::sync::poison::mutex::Mutex<T>::lock",
    ];
    const RECV: &[&str] = &[
        "futex",
        "std::sys::pal::unix::futex::futex_wait",
        "<std::sys::sync::thread_parking::futex::Parker>::park",
        "<std::thread::thread::Thread>::park",
        "std::sync::mpmc::context::Context::wait_until",
        "std::sync::mpsc::Receiver<T>::recv",
    ];

    fn called_from(library: &[&str], caller: &str) -> Stack {
        let mut functions = library.to_vec();
        functions.extend([caller, "tokio::runtime::task::core::Core<T,S>::poll"]);
        stack(&functions)
    }

    const LONG: Duration = Duration::from_millis(50);
    const SHORT: Duration = Duration::from_micros(20);

    #[test]
    fn a_wait_for_an_event_is_reported_however_short() {
        let user = called_from(RECV, "service::handler::{{closure}}");
        assert!(reported(FUTEX, &user, Duration::from_nanos(1)));
    }

    #[test]
    fn a_wait_for_a_lock_is_reported_from_the_floor() {
        let user = called_from(MUTEX, "service::handler::{{closure}}");
        assert!(waits_for_a_lock(&user));
        assert!(reported(FUTEX, &user, LONG));
        assert!(!reported(FUTEX, &user, SHORT));
    }

    #[test]
    fn offloads_waits_and_tokios_lock_waits_are_not_reported() {
        let ours = "async_offload_runtime::pool::queue::Queue::push";
        for library in [MUTEX, RECV] {
            assert!(!reported(FUTEX, &called_from(library, ours), LONG));
        }
        for tokio in [
            "tokio::loom::std::mutex::Mutex<T>::lock",
            "<tokio::runtime::scheduler::multi_thread::handle::Handle>::schedule_task",
        ] {
            assert!(
                !reported(FUTEX, &called_from(MUTEX, tokio), LONG),
                "{tokio}"
            );
        }
        // A crate whose name only begins like this one's is not this one.
        let other = "async_offload_runtime_extras::load";
        assert!(reported(FUTEX, &called_from(RECV, other), SHORT));
    }

    #[test]
    fn tokios_waits_for_an_event_are_reported() {
        // `blocking_recv` driven by another executor than tokio's.
        let blocking_recv = called_from(
            &[
                "futex",
                "std::sys::pal::unix::futex::futex_wait",
                "<std::thread::thread::Thread>::park",
                "tokio::runtime::park::Inner::park",
            ],
            "tokio::sync::mpsc::bounded::Receiver<T>::blocking_recv",
        );
        assert!(reported(FUTEX, &blocking_recv, SHORT));
    }

    #[test]
    fn a_futex_wait_without_names_is_not_reported_other_calls_are() {
        assert!(!reported(FUTEX, &stack(&["futex"]), LONG));
        assert!(reported("read", &stack(&["read"]), SHORT));
    }

    #[test]
    fn a_lock_among_generic_arguments_does_not_make_a_wait_a_lock_wait() {
        let once_lock = called_from(
            &[
                "futex",
                "std::sys::sync::once::futex::Once::call",
                "std::sync::once_lock::OnceLock<std::sync::poison::mutex::Mutex<u8>>::initialize",
            ],
            "service::config",
        );
        assert!(!waits_for_a_lock(&once_lock));
        assert_eq!(
            without_generic_arguments(
                "<core::option::Option<fn() -> u8> as core::clone::Clone<u8>>::clone"
            ),
            "<core::option::Option as core::clone::Clone>::clone"
        );
    }

    #[test]
    fn a_call_other_than_a_futex_wait_made_by_tokio_stays_reported() {
        // tokio does not read files inside a poll; a user's code called through it does.
        let read = stack(&["read", "std::fs::read", "tokio::fs::read::{{closure}}"]);
        assert!(reported("read", &read, SHORT));
    }

    #[test]
    fn parking_lot_frames_are_the_primitive_not_the_caller() {
        let parking_lot = called_from(
            &[
                "futex",
                "parking_lot_core::thread_parker::imp::ThreadParker::futex_wait",
                "parking_lot_core::parking_lot::park",
                "parking_lot::raw_mutex::RawMutex::lock_slow",
                "<lock_api::mutex::Mutex<R,T>>::lock",
            ],
            "service::handler::{{closure}}",
        );
        assert_eq!(
            first_caller(&parking_lot),
            Some("service::handler::{{closure}}")
        );
        assert!(waits_for_a_lock(&parking_lot));
        let condvar = called_from(
            &[
                "futex",
                "parking_lot_core::parking_lot::park",
                "parking_lot::condvar::Condvar::wait_until_internal",
            ],
            "service::handler::{{closure}}",
        );
        assert!(!waits_for_a_lock(&condvar));
    }

    #[test]
    fn the_variable_takes_off_zero_or_a_duration_and_names_a_bad_value() {
        assert_eq!(parse_lock_waits("off"), Ok(None));
        assert_eq!(parse_lock_waits(" 0 "), Ok(Some(Duration::ZERO)));
        assert_eq!(
            parse_lock_waits("250us"),
            Ok(Some(Duration::from_micros(250)))
        );
        let problem = parse_lock_waits("sometimes").unwrap_err();
        assert!(
            problem.contains("OFFLOAD_DETECT_LOCK_WAITS=\"sometimes\""),
            "{problem}"
        );
    }
}
