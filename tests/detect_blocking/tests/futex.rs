//! `detect-blocking-calls`: futex waits made inside a poll of a `#[no_block]` fn, the
//! hidden blocking calls of std's synchronization, are reported with the primitive that
//! made them; tokio's own waits, under contention on a multi-thread runtime, are not.

use std::sync::{Arc, Barrier, Condvar, Mutex, OnceLock, RwLock, mpsc};

use async_offload::no_block;
use async_offload::stall::StallReport;
use async_offload::testing::collect_stalls;
use detect_blocking::{
    HELD, calls, held_by_another_thread, locked_by_another_thread, reports_of, sends_later, shown,
};

/// Asserts that the reports are one futex wait made by the std function whose path
/// contains `primitive`.
fn assert_one_wait(reports: &[StallReport], primitive: &str) {
    let waits: Vec<_> = calls(reports)
        .into_iter()
        .filter(|(call, _)| *call == "futex")
        .collect();
    assert!(
        matches!(waits.as_slice(), [(_, from)] if from.contains(primitive)),
        "one wait, from {primitive}: {waits:?}\n{}",
        shown(reports)
    );
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn waiting_for_a_mutex_held_by_another_thread_is_reported() {
    let lock = Arc::new(Mutex::new(1));
    let holder = locked_by_another_thread(&lock);
    let (value, reports) = reports_of(|| *lock.lock().expect("not poisoned")).await;
    assert_eq!(value, 1);
    assert_one_wait(&reports, "Mutex<T>::lock");
    holder.join().expect("the holder");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn waiting_to_read_a_rwlock_being_written_is_reported() {
    let lock = Arc::new(RwLock::new(1));
    let writer = held_by_another_thread({
        let lock = Arc::clone(&lock);
        move |held| {
            let _guard = lock.write().expect("not poisoned");
            held();
            std::thread::sleep(HELD);
        }
    });
    let (value, reports) = reports_of(|| *lock.read().expect("not poisoned")).await;
    assert_eq!(value, 1);
    assert_one_wait(&reports, "RwLock<T>::read");
    writer.join().expect("the writer");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn waiting_on_a_condvar_is_reported() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let started = Arc::new(Barrier::new(2));
    let notifier = std::thread::spawn({
        let (pair, started) = (Arc::clone(&pair), Arc::clone(&started));
        move || {
            started.wait();
            std::thread::sleep(HELD);
            *pair.0.lock().expect("not poisoned") = true;
            pair.1.notify_one();
        }
    });
    started.wait();
    let ((), reports) = reports_of(|| {
        let mut ready = pair.0.lock().expect("not poisoned");
        while !*ready {
            ready = pair.1.wait(ready).expect("not poisoned");
        }
    })
    .await;
    assert_one_wait(&reports, "Condvar::wait");
    notifier.join().expect("the notifier");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn receiving_on_a_channel_is_reported() {
    let (sender, receiver) = mpsc::channel();
    let feeder = sends_later(move |value| sender.send(value).expect("received"), 1);
    let (value, reports) = reports_of(|| receiver.recv().expect("a value")).await;
    assert_eq!(value, 1);
    assert_one_wait(&reports, "std::sync::mpsc::Receiver<T>::recv");
    feeder.join().expect("the feeder");

    let (sender, receiver) = mpsc::sync_channel(0);
    let feeder = sends_later(move |value| sender.send(value).expect("received"), 2);
    let (value, reports) = reports_of(|| receiver.recv().expect("a value")).await;
    assert_eq!(value, 2);
    assert_one_wait(&reports, "std::sync::mpsc::Receiver<T>::recv");
    feeder.join().expect("the feeder");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn parking_the_thread_is_reported() {
    let this = std::thread::current();
    let unparker = sends_later(|thread: std::thread::Thread| thread.unpark(), this);
    let ((), reports) = reports_of(|| {
        std::thread::park();
    })
    .await;
    assert_one_wait(&reports, "park");
    unparker.join().expect("the unparker");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn block_on_is_reported_with_its_park() {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let feeder = sends_later(move |value| sender.send(value).expect("received"), 3);
    let (value, reports) = reports_of(|| futures_executor::block_on(receiver)).await;
    assert_eq!(value, Ok(3));
    assert_one_wait(&reports, "park");
    let wait = reports
        .iter()
        .find(|report| report.blocking_call() == Some("futex"))
        .expect("the wait's report");
    let stack = wait.stack.as_ref().expect("the stack");
    assert!(
        stack.frames.iter().any(|frame| frame
            .function
            .as_deref()
            .is_some_and(|function| function.starts_with("futures_executor::")
                && function.ends_with("::block_on"))),
        "{}",
        shown(&reports)
    );
    feeder.join().expect("the feeder");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn waiting_for_a_oncelock_another_thread_fills_is_reported() {
    let cell = Arc::new(OnceLock::new());
    let filler = held_by_another_thread({
        let cell = Arc::clone(&cell);
        move |held| {
            cell.get_or_init(|| {
                held();
                std::thread::sleep(HELD);
                4
            });
        }
    });
    let (value, reports) = reports_of(|| *cell.get_or_init(|| 5)).await;
    assert_eq!(value, 4);
    assert_one_wait(&reports, "OnceLock");
    filler.join().expect("the filler");
}

/// The tasks that contend for tokio's primitives, and the rounds each makes.
const WORKERS: u64 = 16;
const ROUNDS: u64 = 1000;

/// Works with tokio's primitives, which lock inside tokio under contention.
#[no_block]
async fn uses_tokio(
    lock: Arc<tokio::sync::Mutex<u64>>,
    to: tokio::sync::mpsc::Sender<u64>,
    notify: Arc<tokio::sync::Notify>,
) {
    for round in 0..ROUNDS {
        *lock.lock().await += 1;
        to.send(round).await.expect("received");
        notify.notify_one();
        tokio::spawn(async move { round * 2 })
            .await
            .expect("the task");
        tokio::task::yield_now().await;
    }
}

/// Waits for a std `Mutex` another thread holds, having told it so: the wait that must be
/// reported among tokio's.
#[no_block]
async fn waits_for_a_std_mutex(lock: Arc<Mutex<u64>>, locking: mpsc::Sender<()>) -> u64 {
    tokio::task::yield_now().await;
    locking.send(()).expect("the holder waits");
    *lock.lock().expect("not poisoned")
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokios_own_waits_under_contention_are_not_reported_the_users_is() {
    let lock = Arc::new(tokio::sync::Mutex::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let (to, mut from) = tokio::sync::mpsc::channel(4);
    let receiver = tokio::spawn(async move {
        let mut received = 0;
        while from.recv().await.is_some() {
            received += 1;
        }
        received
    });
    // The holder keeps the lock from before the user's task locks to well after, however
    // long the busy workers keep that task from running.
    let std_lock = Arc::new(Mutex::new(7));
    let (locking, user_locks) = mpsc::channel();
    let holder = held_by_another_thread({
        let lock = Arc::clone(&std_lock);
        move |held| {
            let _guard = lock.lock().expect("not poisoned");
            held();
            user_locks.recv().expect("the user's task locks");
            std::thread::sleep(HELD);
        }
    });
    let user = tokio::spawn(collect_stalls(waits_for_a_std_mutex(
        Arc::clone(&std_lock),
        locking,
    )));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let work = uses_tokio(Arc::clone(&lock), to.clone(), Arc::clone(&notify));
            tokio::spawn(collect_stalls(work))
        })
        .collect();
    drop(to);
    let mut reports = Vec::new();
    for worker in workers {
        reports.extend(worker.await.expect("the worker").1);
    }
    let (value, user_reports) = user.await.expect("the user's task");
    assert_eq!(value, 7);
    reports.extend(user_reports);
    holder.join().expect("the holder");
    assert_eq!(receiver.await.expect("the receiver"), WORKERS * ROUNDS);
    assert_eq!(*lock.lock().await, WORKERS * ROUNDS);
    // The user's wait only, among all of tokio's.
    assert_one_wait(&reports, "Mutex<T>::lock");
}
