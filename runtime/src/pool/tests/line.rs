//! The line of callers waiting for room in a full queue: a shutdown, and a poll too many.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use futures::executor::block_on;

use crate::config::PoolConfig;
use crate::error::OffloadError;
use crate::pool::Pool;

/// Polls `future` once, with a waker that does nothing.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// A pool of one thread and a queue of one place, both taken.
struct Full {
    pool: Arc<Pool>,
    /// The handle of the job that runs until `release` is sent on.
    running: Pin<Box<dyn Future<Output = ()>>>,
    /// The handle of the job in the queue's place.
    queued: Pin<Box<dyn Future<Output = ()>>>,
    release: mpsc::Sender<()>,
}

fn full_pool(name: &str) -> Full {
    let pool = Arc::new(Pool::new(name, PoolConfig::fixed(1).queue_capacity(1)));
    let (started, on_start) = mpsc::channel();
    let (release, on_release) = mpsc::channel::<()>();
    let running = block_on(pool.submit(move || {
        started.send(()).expect("the test waits");
        on_release.recv().expect("the test releases the job");
    }))
    .expect("the pool takes the first job");
    on_start.recv().expect("the first job starts");
    let queued = block_on(pool.submit(|| ())).expect("the queue has one place");
    Full {
        pool,
        running: Box::pin(running),
        queued: Box::pin(queued),
        release,
    }
}

/// Two callers in line, one of them gone, then a shutdown: the line and its count of
/// callers gone are emptied together (the count once stayed at 1 with nobody in line).
#[test]
fn shutdown_empties_the_line_and_its_count_of_callers_gone() {
    let Full {
        pool,
        running,
        queued,
        release,
    } = full_pool("line");
    let mut gone = Box::pin(pool.submit(|| ()));
    let mut staying = pin!(pool.submit(|| ()));
    assert!(poll_once(gone.as_mut()).is_pending(), "the queue is full");
    assert!(
        poll_once(staying.as_mut()).is_pending(),
        "the queue is full"
    );
    drop(gone);
    {
        let state = pool.lock();
        assert_eq!((state.waiting.len(), state.gone_from_line), (2, 1));
    }

    pool.begin_shutdown();
    {
        let state = pool.lock();
        assert_eq!((state.waiting.len(), state.gone_from_line), (0, 0));
    }
    assert!(matches!(
        poll_once(staying.as_mut()),
        Poll::Ready(Err(OffloadError::ShutDown { .. }))
    ));
    release.send(()).expect("the job waits for it");
    drop((running, queued));
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}

/// A caller that waited in line and got its handle panics if polled again, rather than
/// queueing nothing or joining the line without a job (whose place would then be lost).
#[test]
fn a_wait_for_room_polled_after_it_completed_panics() {
    let Full {
        pool,
        running,
        queued,
        release,
    } = full_pool("polled-again");
    let mut waiting = pin!(pool.submit(|| ()));
    assert!(
        poll_once(waiting.as_mut()).is_pending(),
        "the queue is full"
    );
    release.send(()).expect("the job waits for it");
    block_on(running);
    // The worker takes the queued job and hands its place to the caller in line.
    let handle = block_on(waiting.as_mut()).expect("the caller in line is admitted");
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = poll_once(waiting.as_mut());
    }))
    .expect_err("a second poll panics");
    assert_eq!(
        again.downcast_ref::<&str>(),
        Some(&"a submission polled after it completed")
    );
    block_on(queued);
    block_on(handle);
    assert_eq!(pool.lock().waiting.len(), 0, "nobody joined the line");
    pool.begin_shutdown();
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}

/// A caller admitted from the line just before a shutdown is refused when it comes to
/// queue its job: its place does not count as a queued job after the shutdown.
#[test]
fn a_place_handed_to_a_caller_before_a_shutdown_is_not_queued_after_it() {
    let Full {
        pool,
        running,
        queued,
        release,
    } = full_pool("admitted-then-shut");
    let mut admitted = pin!(pool.submit(|| ()));
    assert!(
        poll_once(admitted.as_mut()).is_pending(),
        "the queue is full"
    );
    release.send(()).expect("the job waits for it");
    block_on(running);
    // The worker takes the queued job and hands its place to the caller in line, which
    // has not come back for it yet.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while pool.lock().reserved == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the place is handed on"
        );
        std::thread::yield_now();
    }
    assert_eq!(pool.stats().queued, pool.lock().queue.len() + 1);
    pool.begin_shutdown();
    assert_eq!(pool.stats().queued, pool.lock().queue.len());
    assert!(matches!(
        poll_once(admitted.as_mut()),
        Poll::Ready(Err(OffloadError::ShutDown { .. }))
    ));
    block_on(queued);
    assert_eq!(pool.lock().reserved, 0);
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}
