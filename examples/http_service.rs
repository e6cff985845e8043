//! A small HTTP service with a slow, blocking endpoint, measured the way its owner would:
//! how fast does the *fast* endpoint stay while the slow one is busy?
//!
//! `/fast` answers at once. `/report` calls a 20 ms blocking function (a sync database
//! query, say): in one variant straight from the async handler, in the other through
//! `#[offload]`. For each variant the example starts the server on a loopback port, keeps
//! `/report` busy with concurrent clients, times `/fast` meanwhile, and prints its p50 and
//! p99.
//!
//! A second part asks what a pool's priority ([`PoolConfig::nice`]) buys: `/crunch` runs
//! CPU-bound work on a pool with more threads than the machine has cores, once at normal
//! priority and once at nice 10, and the example prints `/fast`'s latency and `/crunch`'s
//! throughput for each.
//!
//! Run it with `cargo run --release --example http_service`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_offload::{PoolConfig, Pools, offload};
use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long the blocking call behind `/report` takes.
const REPORT_TIME: Duration = Duration::from_millis(20);
/// Clients calling `/report` at once.
const REPORT_CLIENTS: usize = 8;
/// How long each variant is measured.
const MEASURE_FOR: Duration = Duration::from_secs(2);
/// Threads of the CPU-bound pools: more than a small machine's cores, as a pool sized for
/// its blocking calls might be.
const CRUNCH_THREADS: usize = 4;
/// Clients calling `/crunch` at once.
const CRUNCH_CLIENTS: usize = 8;
/// Rounds of arithmetic per `/crunch` call: a few milliseconds of one core.
const CRUNCH_ROUNDS: u64 = 10_000_000;
/// The two CPU-bound pools, at normal and at lowered priority.
const CRUNCH_POOLS: [(&str, &str); 2] = [("normal priority", "crunch"), ("nice 10", "crunch-nice")];

/// The blocking work behind `/report`.
fn build_report() -> String {
    std::thread::sleep(REPORT_TIME);
    "report\n".to_owned()
}

/// The same work, on a pool thread.
#[offload]
fn build_report_offloaded() -> String {
    build_report()
}

/// CPU-bound work behind `/crunch`: a fixed amount of it, so that calls per second measure
/// how much CPU the pool got.
fn crunch() -> String {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..CRUNCH_ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    format!("{}\n", std::hint::black_box(x) & 1)
}

async fn fast() -> &'static str {
    "fast\n"
}

/// The service, with `/report` calling the blocking function inline or offloaded.
fn service(offloaded: bool) -> Router {
    let router = Router::new().route("/fast", get(fast));
    if offloaded {
        router.route("/report", get(build_report_offloaded))
    } else {
        router.route("/report", get(|| async { build_report() }))
    }
}

/// The service with `/crunch` running on the pool named `pool`.
fn crunch_service(pool: &'static str) -> Router {
    Router::new()
        .route("/fast", get(fast))
        .route("/crunch", get(move || async_offload::run(pool, crunch)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    Pools::builder()
        .pool(CRUNCH_POOLS[0].1, PoolConfig::fixed(CRUNCH_THREADS))
        .pool(
            CRUNCH_POOLS[1].1,
            PoolConfig::fixed(CRUNCH_THREADS).nice(10),
        )
        .install()
        .expect("the example's pools install");
    println!(
        "/fast latency while {REPORT_CLIENTS} clients keep /report busy ({} ms of blocking work \
         each); {} worker threads",
        REPORT_TIME.as_millis(),
        tokio::runtime::Handle::current().metrics().num_workers()
    );
    println!(
        "{:<24}{:>10}{:>10}{:>10}",
        "/report calls it", "p50", "p99", "requests"
    );
    for (label, offloaded) in [("inline", false), ("through #[offload]", true)] {
        let (p50, p99, count, _) = measure(service(offloaded), "/report", REPORT_CLIENTS).await?;
        println!("{label:<24}{p50:>7.2} ms{p99:>7.2} ms{count:>10}");
    }

    println!(
        "\n/fast latency while {CRUNCH_CLIENTS} clients keep /crunch busy (CPU-bound work on a \
         {CRUNCH_THREADS}-thread pool); {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "{:<24}{:>10}{:>10}{:>10}{:>12}",
        "/crunch pool", "p50", "p99", "requests", "/crunch/s"
    );
    for (label, pool) in CRUNCH_POOLS {
        let (p50, p99, count, crunched) =
            measure(crunch_service(pool), "/crunch", CRUNCH_CLIENTS).await?;
        let per_second = crunched as f64 / MEASURE_FOR.as_secs_f64();
        println!("{label:<24}{p50:>7.2} ms{p99:>7.2} ms{count:>10}{per_second:>12.1}");
    }
    Ok(())
}

/// Serves `app` on a loopback port, keeps `load` busy with `clients` clients, and times
/// `/fast`: p50, p99 (in milliseconds), how many `/fast` requests were timed, and how many
/// `load` requests were answered meanwhile.
async fn measure(
    app: Router,
    load: &'static str,
    clients: usize,
) -> std::io::Result<(f64, f64, usize, usize)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let running = Arc::new(AtomicBool::new(true));
    let load: Vec<_> = (0..clients)
        .map(|_| {
            let running = Arc::clone(&running);
            tokio::spawn(async move {
                let mut answered = 0;
                while running.load(Ordering::Relaxed) {
                    get_path(address, load)
                        .await
                        .expect("the loaded route answers");
                    answered += 1;
                }
                answered
            })
        })
        .collect();

    let mut latencies = Vec::new();
    let deadline = Instant::now() + MEASURE_FOR;
    while Instant::now() < deadline {
        let start = Instant::now();
        get_path(address, "/fast").await?;
        latencies.push(start.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    running.store(false, Ordering::Relaxed);
    let mut answered = 0;
    for client in load {
        answered += client.await.expect("a load client ends");
    }
    server.abort();

    latencies.sort_unstable_by(f64::total_cmp);
    let at = |quantile: f64| latencies[((latencies.len() - 1) as f64 * quantile) as usize];
    Ok((at(0.50), at(0.99), latencies.len(), answered))
}

/// One HTTP/1.1 GET on its own connection; the body is read to the end and dropped.
async fn get_path(address: SocketAddr, path: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    if response.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "{path}: unexpected response"
        )))
    }
}
