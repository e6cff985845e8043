//! Allocations per round trip, and memory per pending call, for `offload`, tokio's
//! `spawn_blocking` and smol's `blocking::unblock`, counted by a global allocator that
//! counts (`cargo bench --bench allocations`). Counts do not depend on the machine's
//! noise, so one run tells; the allocator's own cost makes no figure here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Waker};

use async_offload::{PoolConfig, Pools};
use common::Candidate;

mod common;

/// Round trips counted per candidate.
const ROUND_TRIPS: usize = 10_000;
/// Calls left pending at once, behind a pool thread that is kept busy.
const PENDING: usize = 10_000;

/// The system allocator, counting allocations and the bytes live.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the counters are
// only counted, never used to allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's promises for `layout` are the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    // One thread for each candidate's pool, so that a job holding it keeps every later call
    // pending: smol's pool reads this variable once, at its first use.
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("BLOCKING_MAX_THREADS", "1") };
    Pools::builder()
        .pool("one", PoolConfig::fixed(1).queue_capacity(PENDING * 2))
        .install()
        .expect("the benchmark's pool installs");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .build()
        .expect("a current-thread runtime");
    println!(
        "{:<24}{:>24}{:>30}",
        "candidate", "allocations / round trip", "bytes live / pending call"
    );
    for candidate in Candidate::ALL {
        let allocations = runtime.block_on(async {
            candidate.run("one", || ()).await; // threads started, pools made
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            for i in 0..ROUND_TRIPS {
                black_box(candidate.run("one", move || black_box(i)).await);
            }
            (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / ROUND_TRIPS as f64
        });
        let bytes = runtime.block_on(pending_bytes(candidate));
        println!("{:<24}{allocations:>24.2}{bytes:>30.0}", candidate.name());
    }
}

/// The bytes live per call while `PENDING` calls wait behind a job that holds the one
/// thread: each call made and polled once (its job queued), none finished.
async fn pending_bytes(candidate: Candidate) -> f64 {
    let (release, held) = mpsc::channel::<()>();
    let (started, on_start) = mpsc::channel();
    let holder = candidate.run("one", move || {
        started.send(()).expect("the benchmark waits");
        held.recv().ok();
    });
    let mut holder = Box::pin(holder);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(holder.as_mut().poll(&mut cx).is_pending());
    on_start.recv().expect("the holding job starts");
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut pending: Vec<Pin<Box<dyn Future<Output = usize> + Send>>> = Vec::with_capacity(PENDING);
    for i in 0..PENDING {
        let mut call = candidate.run("one", move || black_box(i));
        assert!(call.as_mut().poll(&mut cx).is_pending());
        pending.push(call);
    }
    // The vector of the calls themselves is the benchmark's, not the candidate's.
    let vector = PENDING * std::mem::size_of::<Pin<Box<dyn Future<Output = usize> + Send>>>();
    let per_call = (LIVE_BYTES.load(Ordering::Relaxed) - before - vector) as f64 / PENDING as f64;
    release.send(()).expect("the holding job waits");
    holder.await;
    for call in pending {
        black_box(call.await);
    }
    per_call
}
