//! What an intercepted call costs: `cargo bench -p detect-blocking --profile
//! bench-checked`, then again with `--features detect` (optimized, with debug assertions:
//! in a release build `#[no_block]` compiles away). Each line is the time of one call, the best of 5 rounds of 100 000.
//!
//! - outside a poll: a 0-byte read of `/dev/null`, on a plain thread;
//! - inside a poll, not blocking: the same read inside a poll of a `#[no_block]` fn (a
//!   character device is never reported, but the descriptor is checked);
//! - inside a poll, reported: a 1-byte read of a regular file inside the poll, the same call
//!   site each time (its stack is taken each time, recorded once);
//! - a futex wake of nobody (what an unlock with a waiter, or an unpark, calls), outside a
//!   poll and inside one: it goes through the interposed `syscall`, and is never reported.

use std::future::Future;
use std::io::Read;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use async_offload::no_block;

const CALLS: u32 = 100_000;

/// A futex wake of nobody: `syscall(SYS_futex, ..)`, which never blocks.
fn wakes_nobody(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: a futex wake with a valid futex word, which only reads its address.
    let woken = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        )
    };
    assert_eq!(woken, 0);
}

#[no_block(threshold = "1h")]
async fn wakes_in_one_poll(word: &std::sync::atomic::AtomicU32) -> Duration {
    let start = Instant::now();
    for _ in 0..CALLS {
        wakes_nobody(word);
    }
    start.elapsed()
}

#[no_block(threshold = "1h")]
async fn reads_in_one_poll(file: &mut std::fs::File, rewind: bool) -> Duration {
    let mut byte = [0u8; 1];
    let start = Instant::now();
    for _ in 0..CALLS {
        if rewind {
            std::os::unix::fs::FileExt::read_at(&*file, &mut byte, 0).expect("read");
        } else {
            let _ = file.read(&mut byte[..0]).expect("read");
        }
    }
    start.elapsed()
}

/// Polls `future` once; it never waits.
fn once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("nothing here waits"),
    }
}

fn best(mut round: impl FnMut() -> Duration) -> Duration {
    (0..5).map(|_| round()).min().expect("rounds") / CALLS
}

fn main() {
    let feature = if cfg!(feature = "detect") {
        "with"
    } else {
        "without"
    };
    let mut null = std::fs::File::open("/dev/null").expect("/dev/null");
    let path = std::env::temp_dir().join(format!("offload-cost-{}", std::process::id()));
    std::fs::write(&path, b"x").expect("a file");
    let mut file = std::fs::File::open(&path).expect("the file");

    let outside = best(|| {
        let mut byte = [0u8; 1];
        let start = Instant::now();
        for _ in 0..CALLS {
            let _ = null.read(&mut byte[..0]).expect("read");
        }
        start.elapsed()
    });
    let word = std::sync::atomic::AtomicU32::new(0);
    let wake_outside = best(|| {
        let start = Instant::now();
        for _ in 0..CALLS {
            wakes_nobody(&word);
        }
        start.elapsed()
    });
    let ((inside, reported, wake_inside), reports) =
        once(async_offload::testing::collect_stalls(async {
            (
                best(|| once(reads_in_one_poll(&mut null, false))),
                best(|| once(reads_in_one_poll(&mut file, true))),
                best(|| once(wakes_in_one_poll(&word))),
            )
        }));
    println!("{feature} the feature, per call:");
    println!("  outside a poll:              {outside:?}");
    println!("  inside a poll, not blocking: {inside:?}");
    println!(
        "  inside a poll, reported:     {reported:?} ({} reports)",
        reports.len()
    );
    println!("  futex wake, outside a poll:  {wake_outside:?}");
    println!("  futex wake, inside a poll:   {wake_inside:?}");
    std::fs::remove_file(path).expect("removed");
}
