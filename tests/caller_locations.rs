//! Panics point at the user's code: the `#[offload]` fn whose job cannot run, at its name; the
//! call of `run`.
//!
//! Each panic is raised in a thread of its own, where a panic hook records its location.
//!
//! Its own test binary: the pool "nowhere" below is never configured, so installing pools
//! would fail in this process.

mod common;

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use async_offload::offload;
use common::panic_message;

/// A panic caught by [`panic_in_own_thread`].
#[derive(Debug)]
struct Caught {
    message: String,
    /// Where the panic was raised, as the panic hook saw it: file, line, column.
    at: (String, u32, u32),
}

thread_local! {
    /// Whether this thread's panics are expected: recorded here, not printed.
    static EXPECTING: Cell<bool> = const { Cell::new(false) };
    /// The location of this thread's last expected panic.
    static RAISED_AT: RefCell<Option<(String, u32, u32)>> = const { RefCell::new(None) };
}

/// Runs `call` in a thread of its own and returns the message and location of its panic;
/// fails the test if it did not panic. Panics of other threads are printed as usual.
fn panic_in_own_thread<T>(call: impl FnOnce() -> T + Send + 'static) -> Caught {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if EXPECTING.get() {
                let location = info.location().expect("a panic's location");
                RAISED_AT.set(Some((
                    location.file().to_owned(),
                    location.line(),
                    location.column(),
                )));
            } else {
                default_hook(info);
            }
        }));
    });
    std::thread::spawn(move || {
        EXPECTING.set(true);
        let payload = match std::panic::catch_unwind(AssertUnwindSafe(call)) {
            Ok(_) => panic!("expected a panic"),
            Err(payload) => payload,
        };
        EXPECTING.set(false);
        Caught {
            message: panic_message(&*payload).to_owned(),
            at: RAISED_AT.take().expect("the hook saw the panic"),
        }
    })
    .join()
    .expect("the thread returns what it caught")
}

/// `(file!(), line, column)` in this file.
fn here(line: u32, column: u32) -> (String, u32, u32) {
    (file!().to_owned(), line, column)
}

// ---------------------------------------------------------------------------------------
// `#[offload]` fns whose job cannot run.

const ON_NOWHERE_LINE: u32 = line!() + 2;
#[offload(pool = "nowhere")]
fn on_nowhere() -> u32 {
    1
}

const THROUGH_A_CRATE_PATH_LINE: u32 = line!() + 2;
#[offload(pool = "nowhere", crate = "async_offload")]
fn through_a_crate_path() {}

struct Store;

trait Load {
    async fn load(self) -> u32;
}

impl Store {
    #[offload(pool = "nowhere")]
    fn open(self) -> u32 {
        2
    }
}

const LOAD_LINE: u32 = line!() + 3;
impl Load for Store {
    #[offload(pool = "nowhere")]
    fn load(self) -> u32 {
        3
    }
}

/// The start of the message of an `#[offload]` fn on the pool "nowhere".
fn cannot_run(function: &str) -> String {
    format!("the #[offload] fn {function} cannot run: no offload pool is named \"nowhere\" (")
}

#[test]
fn an_offload_fn_whose_job_cannot_run_panics_at_its_name_naming_it() {
    let caught = panic_in_own_thread(|| futures::executor::block_on(on_nowhere()));
    assert!(
        caught
            .message
            .starts_with(&cannot_run("caller_locations::on_nowhere")),
        "{}",
        caught.message
    );
    assert_eq!(caught.at, here(ON_NOWHERE_LINE, 4));

    let caught = panic_in_own_thread(|| futures::executor::block_on(through_a_crate_path()));
    assert!(
        caught
            .message
            .starts_with(&cannot_run("caller_locations::through_a_crate_path")),
        "{}",
        caught.message
    );
    assert_eq!(caught.at, here(THROUGH_A_CRATE_PATH_LINE, 4));
}

#[test]
fn an_offload_method_whose_job_cannot_run_is_named_with_its_type() {
    let caught = panic_in_own_thread(|| futures::executor::block_on(Store.open()));
    assert!(
        caught
            .message
            .starts_with(&cannot_run("caller_locations::Store::open")),
        "{}",
        caught.message
    );
    let caught = panic_in_own_thread(|| futures::executor::block_on(Store.load()));
    assert!(
        caught.message.starts_with(&cannot_run(
            "<caller_locations::Store as caller_locations::Load>::load"
        )),
        "{}",
        caught.message
    );
    assert_eq!(caught.at, here(LOAD_LINE, 8));
}

// ---------------------------------------------------------------------------------------
// `run`.

#[test]
fn run_on_an_unknown_pool_panics_quoting_the_call() {
    let line = line!() + 1;
    let future = async_offload::run("nowhere", || ());
    // Nothing happened at the call: the panic comes at the first poll, in another thread.
    let caught = panic_in_own_thread(move || futures::executor::block_on(future));
    let message = &caught.message;
    assert!(
        message.starts_with("no offload pool is named \"nowhere\" ("),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(" (called at {}:{line}:18)", file!())),
        "{message}"
    );
}

#[test]
fn run_borrows_the_pool_name_until_it_is_first_polled() {
    let pool = String::from("cpu");
    let future = async_offload::run(&pool, || 2);
    assert_eq!(futures::executor::block_on(future), 2);
}
