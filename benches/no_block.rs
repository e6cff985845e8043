//! What `#[no_block]` adds to each poll, against the same future without it.
//!
//! Run it three ways, since the attribute's cost depends on the build:
//!
//! ```text
//! cargo bench --bench no_block                            # release: the attribute compiles away
//! cargo bench --bench no_block --profile bench-checked    # optimized, debug assertions on
//! cargo bench --bench no_block --profile dev              # an unoptimized test build
//! cargo bench --bench no_block --features release-stalls  # release, polls counted
//! ```
//!
//! Beside them, the bare future instrumented by tokio-metrics' `TaskMonitor` (which times
//! each poll, and counts slow ones, in release builds): what `release-stalls` is measured
//! against.
//!
//! Each sample drives a future through `POLLS` polls (each returning `Pending` at one
//! `.await`), either by hand with a no-op waker (the poll alone) or as a task of a tokio
//! current-thread runtime (a poll as a test's executor makes it). The figures are the median
//! time per poll over the samples, and the p99 of the samples.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use async_offload::no_block;

const POLLS: u32 = 10_000;
const SAMPLES: usize = 200;

/// Returns `Pending` once, then `Ready`: one poll of the awaiting fn per `.await`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

async fn bare(polls: u32) -> u32 {
    let mut total = 0;
    for i in 0..polls {
        YieldOnce(false).await;
        total += black_box(i);
    }
    total
}

#[no_block(threshold = "1s")]
async fn instrumented(polls: u32) -> u32 {
    let mut total = 0;
    for i in 0..polls {
        YieldOnce(false).await;
        total += black_box(i);
    }
    total
}

async fn bare_on_tokio(polls: u32) -> u32 {
    let mut total = 0;
    for i in 0..polls {
        tokio::task::yield_now().await;
        total += black_box(i);
    }
    total
}

#[no_block(threshold = "1s")]
async fn instrumented_on_tokio(polls: u32) -> u32 {
    let mut total = 0;
    for i in 0..polls {
        tokio::task::yield_now().await;
        total += black_box(i);
    }
    total
}

/// Nanoseconds per poll of a task that yields to a tokio current-thread runtime `POLLS`
/// times: a poll as a test's executor makes it.
fn per_tokio_poll<F: Future<Output = u32>>(runtime: &tokio::runtime::Runtime, future: F) -> f64 {
    let start = Instant::now();
    black_box(runtime.block_on(future));
    start.elapsed().as_secs_f64() * 1e9 / f64::from(POLLS + 1)
}

/// Nanoseconds per poll of one run of `future` to completion.
fn per_poll<F: Future<Output = u32>>(future: F) -> f64 {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = pin!(future);
    let start = Instant::now();
    let mut polls = 0u32;
    loop {
        polls += 1;
        if let Poll::Ready(total) = future.as_mut().poll(&mut cx) {
            black_box(total);
            break;
        }
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(polls)
}

/// Median and p99 of `sample()`, after a warm-up.
fn measure(mut sample: impl FnMut() -> f64) -> (f64, f64) {
    for _ in 0..SAMPLES / 10 {
        sample();
    }
    let mut samples: Vec<f64> = (0..SAMPLES).map(|_| sample()).collect();
    samples.sort_unstable_by(f64::total_cmp);
    (samples[SAMPLES / 2], samples[SAMPLES * 99 / 100])
}

fn main() {
    let build = if cfg!(debug_assertions) {
        "debug assertions on"
    } else if cfg!(feature = "release-stalls") {
        "debug assertions off, release-stalls: polls counted"
    } else {
        "debug assertions off (release: the attribute compiles away)"
    };
    println!("no_block: {POLLS} polls a sample, {SAMPLES} samples; {build}");
    println!("{:<40}{:>14}{:>14}", "future", "median/poll", "p99/poll");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let rows = [
        (
            "bare async fn, no-op waker",
            measure(|| per_poll(bare(POLLS))),
        ),
        (
            "#[no_block] async fn, no-op waker",
            measure(|| per_poll(instrumented(POLLS))),
        ),
        (
            "bare async fn, tokio task",
            measure(|| per_tokio_poll(&runtime, bare_on_tokio(POLLS))),
        ),
        (
            "#[no_block] async fn, tokio task",
            measure(|| per_tokio_poll(&runtime, instrumented_on_tokio(POLLS))),
        ),
    ];
    let monitor = tokio_metrics::TaskMonitor::new();
    let monitored = [
        (
            "TaskMonitor::instrument, no-op waker",
            measure(|| per_poll(monitor.instrument(bare(POLLS)))),
        ),
        (
            "TaskMonitor::instrument, tokio task",
            measure(|| per_tokio_poll(&runtime, monitor.instrument(bare_on_tokio(POLLS)))),
        ),
    ];
    for (name, (median, p99)) in rows.iter().chain(&monitored) {
        println!("{name:<40}{median:>11.1} ns{p99:>11.1} ns");
    }
    let bare = [rows[0], rows[2]];
    let compared = [rows[1], rows[3], monitored[0], monitored[1]];
    for (index, (name, (instrumented, _))) in compared.into_iter().enumerate() {
        let (_, (bare, _)) = bare[index % 2];
        println!(
            "{name}: adds {:.1} ns a poll, {:.0}% of the bare poll",
            instrumented - bare,
            (instrumented - bare) / bare * 100.0
        );
    }
}
