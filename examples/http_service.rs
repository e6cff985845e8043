//! A small HTTP service with a slow, blocking endpoint, measured the way its owner would:
//! how fast does the *fast* endpoint stay while the slow one is busy?
//!
//! `/fast` answers at once. `/report` calls a 20 ms blocking function (a sync database
//! query, say): in one variant straight from the async handler, in the other through
//! `#[offload]`. For each variant the example starts the server on a loopback port, keeps
//! `/report` busy with concurrent clients, times `/fast` meanwhile, and prints its p50 and
//! p99. Run it with `cargo run --release --example http_service`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_offload::offload;
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

#[tokio::main]
async fn main() -> std::io::Result<()> {
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
        let (p50, p99, count) = measure(service(offloaded)).await?;
        println!("{label:<24}{p50:>7.2} ms{p99:>7.2} ms{count:>10}");
    }
    Ok(())
}

/// Serves `app` on a loopback port, loads `/report`, and times `/fast`: p50, p99 (in
/// milliseconds) and how many `/fast` requests were timed.
async fn measure(app: Router) -> std::io::Result<(f64, f64, usize)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let running = Arc::new(AtomicBool::new(true));
    let load: Vec<_> = (0..REPORT_CLIENTS)
        .map(|_| {
            let running = Arc::clone(&running);
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    get_path(address, "/report").await.expect("/report answers");
                }
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
    for client in load {
        client.await.expect("a /report client ends");
    }
    server.abort();

    latencies.sort_unstable_by(f64::total_cmp);
    let at = |quantile: f64| latencies[((latencies.len() - 1) as f64 * quantile) as usize];
    Ok((at(0.50), at(0.99), latencies.len()))
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
