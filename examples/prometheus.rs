//! Production visibility: a small service's pools and handlers, published to Prometheus.
//!
//! The `metrics` feature publishes every pool's figures and each job's times through the
//! `metrics` facade; `release-stalls` keeps `#[no_block]`'s poll counts in release builds
//! and publishes them too. Here a Prometheus exporter is installed as a recorder, the
//! service handles some requests (one of which blocks its executor thread), and the
//! example prints what a scrape of `/metrics` would return.
//!
//! Run it with `cargo run --release --example prometheus --features metrics,release-stalls`.

use std::time::Duration;

use async_offload::{PoolConfig, Pools, no_block, offload};
use metrics_exporter_prometheus::PrometheusBuilder;

/// A pretend database query: a sync driver's call, a few milliseconds.
#[offload(pool = "db")]
fn query(id: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(2 + id % 3));
    id * 10
}

/// A handler, as it should be: the query runs on the "db" pool.
#[no_block(threshold = "5ms")]
async fn get_user(id: u64) -> u64 {
    query(id).await
}

/// A handler with a mistake: it reads a file in place, holding its executor thread.
#[no_block(threshold = "5ms")]
async fn get_report() -> usize {
    std::thread::sleep(Duration::from_millis(30)); // stands in for a large std::fs::read
    42
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Buckets, so that job and poll times are histograms rather than summaries.
    let handle = PrometheusBuilder::new()
        .set_buckets(&[0.000_1, 0.001, 0.005, 0.01, 0.05, 0.1, 1.0])?
        .install_recorder()?;
    Pools::builder()
        .pool("db", PoolConfig::fixed(4).queue_capacity(64))
        .install()?;
    // In a debug build a slow poll warns on stderr; in release it is counted, and would
    // reach a `tracing` subscriber or a hook.
    let requests: Vec<_> = (0..40).map(|id| tokio::spawn(get_user(id))).collect();
    for request in requests {
        request.await?;
    }
    get_report().await;
    // A service would serve `handle.render()` at `/metrics`. Here: shut down, which
    // publishes the final figures, and print them.
    async_offload::shutdown(Duration::from_secs(5))?;
    handle.run_upkeep();
    let scrape = handle.render();
    // The built-in pools ("default", "cpu") are published too; left out here.
    let shown = scrape
        .lines()
        .filter(|line| !line.contains("pool=\"default\"") && !line.contains("pool=\"cpu\""));
    for line in shown {
        println!("{line}");
    }
    Ok(())
}
