//! Run by `tests/no_block.rs`, once in a debug build and once in a release build (with its
//! own target directory). It counts the reports of a `#[no_block]` fn that blocks far past
//! its threshold, and the panics of a `#[blocking]` fn called inside a `#[no_block]` fn,
//! then prints `debug_assertions=<bool> reports=<count>`; with the `release-stalls` feature,
//! also the polls and slow polls `stall::poll_stats` counted for the first fn.
//!
//! A debug build counts 2; a release build, where both attributes leave the fn as written,
//! counts 0; a release build with `release-stalls` counts 1, the slow poll, given to the
//! hook, as `#[blocking]` still leaves no check.

// The generated code compiles in a crate that forbids `unsafe`, in every build.
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_offload::{blocking, no_block};

/// Stall reports the hook received, and panics of the `#[blocking]` check.
static REPORTS: AtomicUsize = AtomicUsize::new(0);

/// Blocks for 50 times its threshold, in one poll.
#[no_block(threshold = "1ms")]
async fn sleeps() -> u32 {
    std::thread::sleep(Duration::from_millis(50));
    1
}

/// A fn that blocks its thread (it does not need to, to be caught in a debug build).
#[blocking]
fn blocking_query() -> u32 {
    2
}

/// Calls the `#[blocking]` fn where it must not: inside a poll of a `#[no_block]` fn.
#[no_block(threshold = "1s")]
async fn calls_blocking() -> u32 {
    blocking_query()
}

/// The shapes of fn the attribute takes, each built in every configuration of this crate
/// (with `release-stalls`, a `static` site and its link-time entry in each body): a generic
/// fn, methods of a generic type and of a trait impl, and an `impl Trait` return.
#[no_block]
async fn generic<T: Clone + Send>(value: T) -> T {
    value.clone()
}

struct Cache<T>(T);

impl<T: Copy + Send + Sync> Cache<T> {
    #[no_block]
    async fn get(&self) -> T {
        self.0
    }
}

trait Load {
    async fn load(&self) -> u32;
}

impl Load for Cache<u32> {
    #[no_block]
    async fn load(&self) -> u32 {
        self.0 + 1
    }
}

#[no_block]
async fn counts_to(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

/// Polls `future` on this thread until it finishes.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}

fn main() {
    assert_eq!(block_on(generic("shape")), "shape");
    assert_eq!(block_on(Cache(4).get()), 4);
    assert_eq!(block_on(Cache(4).load()), 5);
    assert_eq!(block_on(counts_to(3)).sum::<u32>(), 3);
    async_offload::stall::set_hook(|_| {
        REPORTS.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(block_on(sleeps()), 1);
    // A program that is not a test warns by default: ask for the panic, to count it.
    async_offload::stall::set_mode(async_offload::stall::Mode::Panic);
    // Silence the expected panic of the #[blocking] check in a debug build.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| block_on(calls_blocking()));
    let _ = std::panic::take_hook();
    match outcome {
        Ok(value) => assert_eq!(value, 2),
        Err(payload) => match payload.downcast_ref::<String>() {
            Some(message) if message.contains("release_check::blocking_query") => {
                REPORTS.fetch_add(1, Ordering::SeqCst);
            }
            _ => std::panic::resume_unwind(payload),
        },
    }
    print!(
        "debug_assertions={} reports={}",
        cfg!(debug_assertions),
        REPORTS.load(Ordering::SeqCst)
    );
    #[cfg(feature = "release-stalls")]
    {
        let stats = async_offload::stall::poll_stats();
        let sleeps = stats
            .iter()
            .find(|stats| stats.function == "release_check::sleeps")
            .expect("every #[no_block] fn is listed");
        print!(" polls={} slow={}", sleeps.polls, sleeps.slow_polls);
    }
    println!();
}
