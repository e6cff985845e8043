//! `#[no_block]` catching a blocking call that slipped into async code.
//!
//! In a debug build every poll of a `#[no_block]` fn is timed; a poll that holds the thread
//! past the threshold is reported. Tests keep the default mode, `panic`, so that they fail;
//! this example switches to `warn`, which prints the report and goes on, so that it can show
//! one and exit normally. Run it with `cargo run --example stall_detection`.

use std::time::Duration;

use async_offload::stall::{self, Mode};
use async_offload::{no_block, offload};

/// A synchronous call that blocks for a while, like a sync database driver's.
fn query_blocking(id: u64) -> String {
    std::thread::sleep(Duration::from_millis(30));
    format!("user {id}")
}

/// The mistake: the blocking call runs on the executor thread, between two `.await`s.
#[no_block(threshold = "5ms")]
async fn handler_that_blocks(id: u64) -> String {
    tokio::task::yield_now().await;
    let user = query_blocking(id);
    tokio::task::yield_now().await;
    user
}

/// The fix: the blocking call moves to a pool thread.
#[offload]
fn load_user(id: u64) -> String {
    query_blocking(id)
}

#[no_block(threshold = "5ms")]
async fn handler(id: u64) -> String {
    tokio::task::yield_now().await;
    let user = load_user(id).await;
    tokio::task::yield_now().await;
    user
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !cfg!(debug_assertions) {
        println!(
            "This is a release build: #[no_block] compiles to nothing, so nothing is reported."
        );
    }
    stall::set_mode(Mode::Warn);
    println!("The blocking handler (its report follows, on stderr):");
    let user = handler_that_blocks(1).await;
    println!("  -> {user}\n");

    let counted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&counted);
    stall::set_hook(move |_| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    println!("The fixed handler, which awaits an #[offload] fn:");
    let user = handler(2).await;
    let reports = counted.load(std::sync::atomic::Ordering::Relaxed);
    println!("  -> {user}, with {reports} stall reports");
}
