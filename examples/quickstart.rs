//! The problem `offload` solves, and the fix, measured side by side.
//!
//! A blocking function (a sleep standing in for a synchronous database driver) is called
//! twice concurrently on a single-threaded executor: first directly from async fns, then
//! through `#[offload]`. For each, the example prints the wall time and the longest lag of
//! a heartbeat task that wants to run every millisecond on the same executor.
//!
//! Run it with `cargo run --example quickstart`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_offload::offload;

/// How long the pretend database takes to answer.
const QUERY_TIME: Duration = Duration::from_millis(400);

/// A synchronous database call: it blocks the thread it runs on.
fn query_user_blocking(id: u64) -> String {
    std::thread::sleep(QUERY_TIME);
    format!("user {id}")
}

/// The mistake: a blocking call straight inside an async fn.
async fn load_user_inline(id: u64) -> String {
    query_user_blocking(id)
}

/// The fix: the same body, run on the pool named "default".
#[offload]
fn load_user(id: u64) -> String {
    query_user_blocking(id)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!(
        "Two concurrent calls of a blocking {} ms query, on one executor thread:\n",
        QUERY_TIME.as_millis()
    );
    println!(
        "{:<22}{:>12}{:>26}",
        "", "wall time", "longest heartbeat lag"
    );

    let (users, inline) =
        measure(async { tokio::join!(load_user_inline(1), load_user_inline(2)) }).await;
    assert_eq!(users, ("user 1".to_owned(), "user 2".to_owned()));
    print_row("called inline", inline);

    let (users, offloaded) = measure(async { tokio::join!(load_user(1), load_user(2)) }).await;
    assert_eq!(users, ("user 1".to_owned(), "user 2".to_owned()));
    print_row("through #[offload]", offloaded);

    println!(
        "\nInline, the calls ran one after the other and every other task on the thread waited;\n\
         offloaded, they ran at the same time on pool threads and the executor stayed free."
    );
    async_offload::shutdown(Duration::from_secs(5)).expect("the pool threads finish");
}

/// Wall time of some work, and the longest delay a 1 ms heartbeat suffered meanwhile.
struct Measured {
    wall: Duration,
    worst_lag: Duration,
}

/// Runs `work` next to a heartbeat task on the same executor.
async fn measure<T>(work: impl Future<Output = T>) -> (T, Measured) {
    let stop = Arc::new(AtomicBool::new(false));
    let heartbeat = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let period = Duration::from_millis(1);
            let mut worst_lag = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let before = Instant::now();
                tokio::time::sleep(period).await;
                worst_lag = worst_lag.max(before.elapsed().saturating_sub(period));
            }
            worst_lag
        }
    });
    tokio::task::yield_now().await; // let the heartbeat start
    let start = Instant::now();
    let output = work.await;
    let wall = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let worst_lag = heartbeat.await.expect("the heartbeat task ends");
    (output, Measured { wall, worst_lag })
}

fn print_row(label: &str, measured: Measured) {
    println!(
        "{label:<22}{:>10.0} ms{:>23.1} ms",
        measured.wall.as_secs_f64() * 1e3,
        measured.worst_lag.as_secs_f64() * 1e3
    );
}
