//! Panics point at the user's code: where a `#[blocking]` fn was called, and which fn it
//! is, with the type of a method; the `#[offload]` fn whose job cannot run, at its name; the
//! call of `run`.
//!
//! Each panic is raised in a thread of its own, where a panic hook records its location.
//!
//! Its own test binary: the pool "nowhere" below is never configured, so installing pools
//! would fail in this process.

// The `#[blocking]` check exists in debug builds only; the rest is the same in both.
#![cfg(debug_assertions)]

mod common;

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use async_offload::{blocking, no_block, offload};
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
// `#[blocking]`: the call's line, and the fn's path with its type.

#[blocking]
fn read(value: u32) -> u32 {
    value
}

const READ_CALL_LINE: u32 = line!() + 4;
#[no_block(threshold = "1s")]
async fn calls_read() -> u32 {
    std::future::ready(()).await;
    read(1)
}

#[test]
fn a_blocking_fn_is_reported_where_it_was_called() {
    let caught = panic_in_own_thread(|| futures::executor::block_on(calls_read()));
    let call = format!("{}:{READ_CALL_LINE}:5", file!());
    assert_eq!(
        caught.message,
        format!(
            "a call to the #[blocking] fn caller_locations::read at {call} was made inside a \
             poll of the #[no_block] fn caller_locations::calls_read, where it would block an \
             executor thread; move it into an #[offload] fn (or run it with async_offload::run)"
        )
    );
    assert_eq!(caught.at, here(READ_CALL_LINE, 5));
}

mod handlers {
    use async_offload::blocking;

    pub struct Db;

    pub struct Cache<T>(pub T);

    pub trait Find {
        fn find(&self, key: &str) -> String;

        #[blocking]
        fn find_all(&self) -> Vec<String> {
            vec![self.find("all")]
        }
    }

    impl Db {
        #[blocking]
        pub fn find(&self, key: &str) -> String {
            key.to_owned()
        }
    }

    impl Find for Db {
        #[blocking]
        fn find(&self, key: &str) -> String {
            format!("{key}!")
        }
    }

    impl<T: Clone> Cache<T> {
        #[blocking]
        pub fn get(&mut self) -> &mut T {
            &mut self.0
        }
    }
}

use handlers::{Cache, Db, Find};

/// Calls `call` inside a poll of a `#[no_block]` fn and returns the message of the check's
/// panic, and its line.
fn reported<T>(call: impl FnOnce() -> T + Send + 'static) -> (String, u32) {
    #[no_block(threshold = "1s")]
    async fn polls<T>(call: impl FnOnce() -> T + Send) -> T {
        call()
    }
    let caught = panic_in_own_thread(|| futures::executor::block_on(polls(call)));
    assert_eq!(caught.at.0, file!(), "{caught:?}");
    (caught.message, caught.at.1)
}

#[test]
fn a_blocking_method_is_named_with_its_type() {
    let (message, line) = reported(|| Db.find("key"));
    assert_eq!(line, line!() - 1);
    assert!(
        message.starts_with(&format!(
            "a call to the #[blocking] fn caller_locations::handlers::Db::find at {}:{line}:",
            file!()
        )),
        "{message}"
    );

    let (message, line) = reported(|| Find::find(&Db, "key"));
    assert_eq!(line, line!() - 1);
    assert!(
        message.starts_with(
            "a call to the #[blocking] fn <caller_locations::handlers::Db as \
             caller_locations::handlers::Find>::find at "
        ),
        "{message}"
    );

    let (message, line) = reported(|| Db.find_all());
    assert_eq!(line, line!() - 1);
    assert!(
        message.starts_with(
            "a call to the #[blocking] fn caller_locations::handlers::Find::find_all at "
        ),
        "{message}"
    );

    let (message, line) = reported(|| *Cache(5).get() + 1);
    assert_eq!(line, line!() - 1);
    assert!(
        message.starts_with(
            "a call to the #[blocking] fn caller_locations::handlers::Cache<_>::get at "
        ),
        "{message}"
    );
}

#[test]
fn a_blocking_fn_returns_what_it_did_before() {
    assert_eq!(read(3), 3);
    assert_eq!(Db.find("key"), "key");
    assert_eq!(Find::find(&Db, "key"), "key!");
    assert_eq!(Db.find_all(), ["all!"]);
    let mut cache = Cache(vec![1]);
    cache.get().push(2);
    assert_eq!(cache.0, [1, 2]);
}

const UNWRAP_LINE: u32 = line!() + 3;
#[blocking]
fn unwraps(value: Option<u32>) -> u32 {
    value.expect("a value")
}

#[test]
fn a_panic_in_a_blocking_fn_keeps_the_line_it_was_raised_at() {
    // Outside any `#[no_block]` poll: only the body's own panic.
    let caught = panic_in_own_thread(|| unwraps(None));
    assert_eq!(caught.message, "a value");
    assert_eq!(caught.at, here(UNWRAP_LINE, 11));
}

/// Not the Rust ABI, so it cannot be `#[track_caller]`: its check reports the attribute.
/// (`C-unwind`, since the check's panic would abort the process out of an `extern "C"` fn.)
const C_ABI_LINE: u32 = line!() + 1;
#[blocking]
extern "C-unwind" fn c_abi(value: u32) -> u32 {
    value
}

/// `#[track_caller]` already: the attribute adds no second one (a warning).
#[blocking]
#[track_caller]
fn tracked(value: u32) -> u32 {
    value
}

#[test]
fn a_blocking_fn_with_another_abi_or_its_own_track_caller_still_compiles_and_checks() {
    assert_eq!(c_abi(1) + tracked(2), 3);
    let (message, line) = reported(|| c_abi(1));
    assert_eq!(line, C_ABI_LINE);
    assert!(
        message.starts_with("a call to the #[blocking] fn caller_locations::c_abi at "),
        "{message}"
    );
    let (message, line) = reported(|| tracked(2));
    assert_eq!(line, line!() - 1);
    assert!(
        message.starts_with("a call to the #[blocking] fn caller_locations::tracked at "),
        "{message}"
    );
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
