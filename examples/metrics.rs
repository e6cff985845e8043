//! Pool metrics: a mixed load on two pools, then a table of `async_offload::stats()`.
//!
//! Run it with `cargo run --example metrics`.

use std::time::Duration;

use async_offload::{PoolConfig, PoolStats, Pools, TimingStats, offload};

/// A pretend database call: a few milliseconds, and now and then a bug.
#[offload(pool = "db")]
fn query(id: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(2 + id % 4));
    assert!(id % 50 != 7, "query {id} hit a bug");
    id
}

/// A pretend file read: shorter, on an elastic pool.
#[offload(pool = "io")]
fn read_file(id: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(1 + id % 2));
    id
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Pools::builder()
        .pool("db", PoolConfig::fixed(4).queue_capacity(16))
        .pool("io", PoolConfig::elastic(16))
        .install()?;
    // The bug in `query` panics on purpose; keep the default message short.
    std::panic::set_hook(Box::new(|info| eprintln!("(a job panicked: {info})")));

    let mut tasks = Vec::new();
    for id in 0..200 {
        tasks.push(tokio::spawn(async move {
            if id % 3 == 0 {
                read_file(id).await;
            } else if id % 25 == 1 {
                // A caller with a deadline it will miss: it goes away.
                let _ = tokio::time::timeout(Duration::from_micros(50), query(id)).await;
            } else {
                query(id).await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await; // a task whose query panicked ends with that panic
    }
    let _ = std::panic::take_hook();
    // Jobs whose callers left may still run: wait for the pools to settle.
    while async_offload::stats()
        .iter()
        .any(|pool| pool.running + pool.queued > 0)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    println!();
    print_table(&async_offload::stats());
    async_offload::shutdown(Duration::from_secs(5))?;
    Ok(())
}

fn print_table(stats: &[PoolStats]) {
    println!(
        "{:<8}{:>9}{:>8}{:>6}{:>7}{:>6}{:>6}{:>6}   {:<24}{:<24}",
        "pool",
        "threads",
        "jobs",
        "done",
        "panic",
        "canc",
        "aband",
        "ref",
        "queue wait p50/p99/max",
        "run time p50/p99/max"
    );
    for pool in stats.iter().filter(|pool| pool.submitted > 0) {
        println!(
            "{:<8}{:>9}{:>8}{:>6}{:>7}{:>6}{:>6}{:>6}   {:<24}{:<24}",
            pool.name,
            format!("{}/{}", pool.threads, pool.max_threads),
            pool.submitted,
            pool.completed,
            pool.panicked,
            pool.cancelled,
            pool.abandoned,
            pool.refused,
            timings(&pool.queue_wait),
            timings(&pool.run_time),
        );
    }
}

fn timings(stats: &TimingStats) -> String {
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    format!(
        "{:.2}/{:.2}/{:.2} ms",
        ms(stats.p50),
        ms(stats.p99),
        ms(stats.max)
    )
}
