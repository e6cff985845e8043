//! A signal handler that makes an interposed call while its thread is inside a
//! `#[no_block]` poll: the call runs, nothing deadlocks or crashes, and it is reported like
//! any other once the poll ends. A process of its own: it installs a handler.

use std::sync::atomic::{AtomicI32, Ordering};

use async_offload::no_block;
use async_offload::testing::collect_stalls;

/// The write end of the pipe the handler writes to.
static PIPE: AtomicI32 = AtomicI32::new(-1);

/// Writes one byte to the pipe: `write` is async-signal-safe, and interposed.
extern "C" fn on_signal(_: libc::c_int) {
    let byte = [7u8];
    // SAFETY: a valid one-byte buffer and the pipe's descriptor, set before the signal.
    unsafe { libc::write(PIPE.load(Ordering::SeqCst), byte.as_ptr().cast(), 1) };
}

#[no_block]
async fn raises() {
    // SAFETY: raising a signal whose handler was installed by the test.
    unsafe { libc::raise(libc::SIGUSR1) };
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_call_from_a_signal_handler_inside_a_poll_runs_and_is_reported() {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors; a blocking pipe.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    PIPE.store(fds[1], Ordering::SeqCst);
    // SAFETY: a handler that only makes an async-signal-safe call.
    let previous = unsafe {
        libc::signal(
            libc::SIGUSR1,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        )
    };
    assert_ne!(previous, libc::SIG_ERR);

    let ((), reports) = collect_stalls(raises()).await;

    let mut byte = [0u8];
    // SAFETY: reading one byte into a one-byte buffer from the pipe's read end.
    let read = unsafe { libc::read(fds[0], byte.as_mut_ptr().cast(), 1) };
    assert_eq!((read, byte), (1, [7]), "the handler's write went through");
    let calls: Vec<_> = reports
        .iter()
        .map(|report| report.blocking_call())
        .collect();
    assert_eq!(calls, [Some("write")], "{reports:#?}");
}
