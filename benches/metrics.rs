//! What pool metrics cost: the round trip of a trivial job with and without them, measured
//! side by side in one run (`cargo bench --bench metrics`).
//!
//! Two pools of one thread each, identical but for `PoolConfig::metrics`; samples alternate
//! between them, so that whatever else the machine does falls on both alike. A sample is
//! the mean round trip of `JOBS` jobs awaited one after the other from a tokio
//! current-thread runtime; the figures are the medians and p99s of the samples.

use std::hint::black_box;
use std::time::Instant;

use async_offload::{PoolConfig, Pools};

const JOBS: u32 = 2_000;
const SAMPLES: usize = 101;

/// Mean round trip, in microseconds, of `JOBS` jobs on `pool`.
async fn sample(pool: &'static str) -> f64 {
    let start = Instant::now();
    for i in 0..JOBS {
        black_box(async_offload::run(pool, move || black_box(i)).await);
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(JOBS)
}

/// Mean cost per job, in microseconds, of `JOBS` jobs submitted at once to `pool` and
/// awaited together: its one thread never waits for work, so what each job costs the pool,
/// metrics included, is all there is to measure.
async fn batch(pool: &'static str) -> f64 {
    let start = Instant::now();
    let jobs = (0..JOBS).map(|i| async_offload::run(pool, move || black_box(i)));
    black_box(futures::future::join_all(jobs).await);
    start.elapsed().as_secs_f64() * 1e6 / f64::from(JOBS)
}

fn main() {
    Pools::builder()
        .pool("metered", PoolConfig::fixed(1))
        .pool("unmetered", PoolConfig::fixed(1).metrics(false))
        .install()
        .expect("the pools install");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    println!("a trivial job, {JOBS} jobs a sample, {SAMPLES} samples each; microseconds per job");
    println!("{:<34}{:>10}{:>10}", "", "median", "p99");
    for (case, batched) in [
        ("one at a time (round trip)", false),
        ("all at once (batch)", true),
    ] {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        runtime.block_on(async {
            for i in 0..=SAMPLES {
                let (first, second) = if i % 2 == 0 {
                    ("metered", "unmetered")
                } else {
                    ("unmetered", "metered")
                };
                let first_time = if batched {
                    batch(first).await
                } else {
                    sample(first).await
                };
                let second_time = if batched {
                    batch(second).await
                } else {
                    sample(second).await
                };
                if i == 0 {
                    continue; // warm-up
                }
                for (pool, time) in [(first, first_time), (second, second_time)] {
                    if pool == "metered" {
                        on.push(time)
                    } else {
                        off.push(time)
                    }
                }
            }
        });
        let (on_median, on_p99) = summary(&mut on);
        let (off_median, off_p99) = summary(&mut off);
        println!("{case}");
        println!("{:<34}{on_median:>10.2}{on_p99:>10.2}", "  metrics on");
        println!("{:<34}{off_median:>10.2}{off_p99:>10.2}", "  metrics off");
        println!(
            "{:<34}{:>10.3}{:>10.3}",
            "  on / off",
            on_median / off_median,
            on_p99 / off_p99
        );
    }
}

/// Median and p99 of `samples`.
fn summary(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_unstable_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}
