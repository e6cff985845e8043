//! With `OFFLOAD_DETECT_LOCK_WAITS=off`, a wait for a lock inside a `#[no_block]` poll is
//! not reported, however long; a wait for an event still is. The variable is read once per
//! process: this file is a process of its own, with one test.

use std::sync::{Arc, Mutex, mpsc};

use detect_blocking::{calls, locked_by_another_thread, reports_of, sends_later, shown};

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn with_lock_waits_off_only_waits_for_events_are_reported() {
    // SAFETY: the one test of this process, which sets the variable before anything reads
    // it; no other thread of the test reads the environment.
    unsafe { std::env::set_var("OFFLOAD_DETECT_LOCK_WAITS", "off") };
    let lock = Arc::new(Mutex::new(1));
    let holder = locked_by_another_thread(&lock);
    let (sender, receiver) = mpsc::channel();
    let ((sum, feeder), reports) = reports_of(|| {
        let first = *lock.lock().expect("not poisoned");
        // Sent only after the lock's wait: the receive has to wait too.
        let feeder = sends_later(move |value| sender.send(value).expect("received"), 2);
        (first + receiver.recv().expect("a value"), feeder)
    })
    .await;
    assert_eq!(sum, 3);
    let waits: Vec<_> = calls(&reports)
        .into_iter()
        .filter(|(call, _)| *call == "futex")
        .collect();
    assert!(
        matches!(waits.as_slice(), [(_, from)] if from.contains("Receiver<T>::recv")),
        "only the receive: {waits:?}\n{}",
        shown(&reports)
    );
    holder.join().expect("the holder");
    feeder.join().expect("the feeder");
}
