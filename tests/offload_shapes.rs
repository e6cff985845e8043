//! `#[offload]` on every shape of fn it accepts: free fns and methods, receivers, generics,
//! `impl Trait`, patterns, attributes, `crate = "..."` paths. Each test checks that the body
//! ran on a pool thread and returned the right value, not only that the wrapper compiles.

// Lints that some tests below prove the wrapper keeps the attributes for: if it dropped
// `#[allow(non_snake_case)]`, `#[deprecated]` or `#[must_use]`, or an inner
// `#![allow(unused_variables)]`, this file would not compile.
#![deny(non_snake_case, unfulfilled_lint_expectations)]

// A second name for the crate, as a renamed dependency would give it.
extern crate async_offload as renamed_offload;

mod common;

use std::fmt::{self, Display};
use std::future::Future;
use std::num::ParseIntError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, mpsc};

use async_offload::{PoolConfig, Pools, offload};
use common::thread_name;

/// Installs the pools of this file, once per process.
fn install_pools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Pools::builder()
            .pool("shapes", PoolConfig::fixed(2))
            .pool("lazy", PoolConfig::fixed(1))
            .install()
            .expect("the test pools install");
    });
}

/// Fails unless `thread` is a thread of the pool named `pool`.
#[track_caller]
fn assert_ran_on(pool: &str, thread: &str) {
    let prefix = format!("offload-{pool}-");
    assert!(
        thread.starts_with(&prefix),
        "expected a thread of the pool {pool:?}, ran on {thread:?}"
    );
}

/// Records the thread it is dropped on.
#[derive(Debug)]
struct DropProbe {
    label: String,
    drops: Arc<Mutex<Vec<String>>>,
}

impl DropProbe {
    /// A probe and the list its drop is recorded in.
    fn new(label: &str) -> (Self, Arc<Mutex<Vec<String>>>) {
        let drops = Arc::new(Mutex::new(Vec::new()));
        let probe = DropProbe {
            label: label.to_owned(),
            drops: Arc::clone(&drops),
        };
        (probe, drops)
    }
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.drops.lock().unwrap().push(thread_name());
    }
}

/// Fails unless the probe behind `drops` was dropped once, on a thread of `pool`.
#[track_caller]
fn assert_dropped_on(pool: &str, drops: &Mutex<Vec<String>>) {
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), 1, "dropped once: {drops:?}");
    assert_ran_on(pool, &drops[0]);
}

// ---------------------------------------------------------------------------------------
// Free fns

#[offload]
fn add(a: u32, b: u32) -> (u32, String) {
    (a + b, thread_name())
}

#[offload]
pub(crate) fn nothing_returned(seen: mpsc::Sender<String>) {
    seen.send(thread_name()).unwrap();
}

#[test]
fn a_free_fn_runs_its_body_on_the_default_pool() {
    let (sum, thread) = futures::executor::block_on(add(40, 2));
    assert_eq!(sum, 42);
    assert_ran_on("default", &thread);
}

#[test]
fn a_free_fn_returning_nothing_runs_on_the_pool() {
    let (seen, thread) = mpsc::channel();
    futures::executor::block_on(nothing_returned(seen));
    assert_ran_on("default", &thread.try_recv().expect("the body ran"));
}

// ---------------------------------------------------------------------------------------
// Methods: receivers, inherent and trait impls

struct Account {
    balance: u32,
}

impl Account {
    #[offload]
    fn open(balance: u32) -> (Self, String) {
        (Account { balance }, thread_name())
    }

    #[offload]
    fn into_balance(self, bonus: u32) -> (u32, String) {
        (self.balance + bonus, thread_name())
    }

    #[offload]
    fn deposited(mut self, amount: u32) -> (u32, String) {
        self.balance += amount;
        (self.balance, thread_name())
    }

    #[offload]
    fn shared_balance(self: Arc<Self>, times: u32) -> (u32, String) {
        (self.balance * times, thread_name())
    }

    #[offload]
    fn boxed_balance(self: Box<Self>) -> (u32, String) {
        (self.balance, thread_name())
    }
}

#[test]
fn inherent_methods_run_on_the_pool_with_every_owned_receiver() {
    futures::executor::block_on(async {
        let (account, thread) = Account::open(10).await;
        assert_eq!(account.balance, 10);
        assert_ran_on("default", &thread);

        let (balance, thread) = Account { balance: 10 }.into_balance(5).await;
        assert_eq!(balance, 15);
        assert_ran_on("default", &thread);

        let (balance, thread) = Account { balance: 10 }.deposited(7).await;
        assert_eq!(balance, 17);
        assert_ran_on("default", &thread);

        let shared = Arc::new(Account { balance: 10 });
        let (balance, thread) = Arc::clone(&shared).shared_balance(3).await;
        assert_eq!(balance, 30);
        assert_ran_on("default", &thread);
        assert_eq!(Arc::strong_count(&shared), 1, "the clone was dropped");

        let (balance, thread) = Box::new(Account { balance: 9 }).boxed_balance().await;
        assert_eq!(balance, 9);
        assert_ran_on("default", &thread);
    });
}

/// A trait whose method returns `impl Future + Send`, implemented by an `#[offload]` fn.
trait Lookup {
    fn lookup(self: Arc<Self>, key: u32) -> impl Future<Output = (String, String)> + Send;
}

/// A trait with an `async fn`, implemented by an `#[offload]` fn.
trait Consume {
    async fn consume(self: Box<Self>, extra: u32) -> (u32, String);
}

struct Directory {
    prefix: String,
}

impl Lookup for Directory {
    #[offload]
    fn lookup(self: Arc<Self>, key: u32) -> (String, String) {
        (format!("{}{key}", self.prefix), thread_name())
    }
}

impl Consume for Directory {
    #[offload(pool = "cpu")]
    fn consume(self: Box<Self>, extra: u32) -> (u32, String) {
        (
            u32::try_from(self.prefix.len()).unwrap() + extra,
            thread_name(),
        )
    }
}

/// Calls the trait method through a generic, as code that only knows the trait does.
async fn lookup_through_the_trait<L: Lookup + Send + Sync + 'static>(
    service: Arc<L>,
) -> (String, String) {
    service.lookup(7).await
}

#[test]
fn trait_methods_run_on_the_pool() {
    common::multi_thread().block_on(async {
        let directory = Arc::new(Directory {
            prefix: "user-".to_owned(),
        });
        // The trait promises a `Send` future: spawning it proves the wrapper keeps it.
        let (name, thread) = tokio::spawn(lookup_through_the_trait(directory))
            .await
            .unwrap();
        assert_eq!(name, "user-7");
        assert_ran_on("default", &thread);

        let directory = Box::new(Directory {
            prefix: "abc".to_owned(),
        });
        let (total, thread) = directory.consume(4).await;
        assert_eq!(total, 7);
        assert_ran_on("cpu", &thread);
    });
}

// ---------------------------------------------------------------------------------------
// Generics

#[offload]
fn largest<T: PartialOrd + Send + 'static>(items: Vec<T>) -> (Option<T>, String) {
    let mut best: Option<T> = None;
    for item in items {
        if best.as_ref().is_none_or(|best| item > *best) {
            best = Some(item);
        }
    }
    (best, thread_name())
}

#[offload]
fn describe<T: Display + Send + 'static, U>(value: T, unit: U) -> String
where
    U: Into<String> + Send + 'static,
{
    format!("{value} {} on {}", unit.into(), thread_name())
}

#[offload]
fn sum_array<const N: usize>(values: [u32; N]) -> (u32, usize, String) {
    (values.iter().sum(), N, thread_name())
}

struct Cell<T> {
    value: T,
}

impl<T: Clone + Send + Sync + 'static> Cell<T> {
    #[offload]
    fn paired<U>(self: Arc<Self>, other: U) -> ((T, U), String)
    where
        U: Send + 'static,
    {
        ((self.value.clone(), other), thread_name())
    }
}

#[test]
fn generic_fns_with_bounds_where_clauses_and_const_parameters_run_on_the_pool() {
    futures::executor::block_on(async {
        let (best, thread) = largest(vec![3, 9, 4]).await;
        assert_eq!(best, Some(9));
        assert_ran_on("default", &thread);
        let (best, _) = largest(vec!["b".to_owned(), "c".to_owned(), "a".to_owned()]).await;
        assert_eq!(best.as_deref(), Some("c"));

        let described = describe(2.5, "kg").await;
        let thread = described
            .strip_prefix("2.5 kg on ")
            .expect("the value and unit come first");
        assert_ran_on("default", thread);

        let (sum, len, thread) = sum_array([1, 2, 3, 4]).await;
        assert_eq!((sum, len), (10, 4));
        assert_ran_on("default", &thread);
        let (sum, len, _) = sum_array([]).await;
        assert_eq!((sum, len), (0, 0));

        let cell = Arc::new(Cell { value: 'x' });
        let (pair, thread) = cell.paired(5_u8).await;
        assert_eq!(pair, ('x', 5));
        assert_ran_on("default", &thread);
    });
}

// ---------------------------------------------------------------------------------------
// `impl Trait`

#[offload]
fn total(values: impl IntoIterator<Item = u32> + Send + 'static) -> (u32, String) {
    (values.into_iter().sum(), thread_name())
}

#[offload]
fn evens(below: u32, seen: mpsc::Sender<String>) -> impl Iterator<Item = u32> + Send + 'static {
    seen.send(thread_name()).unwrap();
    (0..below).filter(|n| n % 2 == 0)
}

/// A value and the thread that made it.
struct Tagged {
    value: u32,
    thread: String,
}

impl Display for Tagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.value, self.thread)
    }
}

#[offload]
fn parse_tagged(text: String) -> Result<impl Display + Send, ParseIntError> {
    let value: u32 = text.trim().parse()?;
    Ok(Tagged {
        value,
        thread: thread_name(),
    })
}

#[test]
fn impl_trait_arguments_and_results_work() {
    futures::executor::block_on(async {
        let (sum, thread) = total(vec![1, 2, 3]).await;
        assert_eq!(sum, 6);
        assert_ran_on("default", &thread);
        let (sum, _) = total(1..=4).await;
        assert_eq!(sum, 10);

        let (seen, thread) = mpsc::channel();
        let numbers: Vec<u32> = evens(7, seen).await.collect();
        assert_eq!(numbers, [0, 2, 4, 6]);
        assert_ran_on("default", &thread.try_recv().expect("the body ran"));

        let tagged = parse_tagged(" 42 ".to_owned()).await.unwrap().to_string();
        let thread = tagged.strip_prefix("42@").expect("the value comes first");
        assert_ran_on("default", thread);
        let error = parse_tagged("forty-two".to_owned()).await.err().unwrap();
        assert_eq!(error, "x".parse::<u32>().unwrap_err());
    });
}

// ---------------------------------------------------------------------------------------
// Patterns and `mut` arguments

struct Point {
    x: i32,
    y: i32,
}

#[offload]
fn patterns(
    (a, b): (u32, u32),
    mut buf: Vec<u8>,
    Point { x, y }: Point,
    _: u64,
) -> (u32, Vec<u8>, i32, String) {
    buf.push(b'!');
    (a * b, buf, x - y, thread_name())
}

#[test]
fn pattern_and_mut_arguments_are_bound_on_the_pool() {
    let (product, buf, difference, thread) =
        futures::executor::block_on(patterns((6, 7), b"hi".to_vec(), Point { x: 10, y: 3 }, 99));
    assert_eq!(product, 42);
    assert_eq!(buf, b"hi!");
    assert_eq!(difference, 7);
    assert_ran_on("default", &thread);
}

// ---------------------------------------------------------------------------------------
// `?`, `return`, closures

#[derive(Debug, PartialEq)]
enum ParseError {
    Empty,
    NotANumber,
}

impl From<ParseIntError> for ParseError {
    fn from(_: ParseIntError) -> Self {
        ParseError::NotANumber
    }
}

#[offload]
fn parse_clamped(text: String, max: u32) -> Result<(u32, String), ParseError> {
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    let value: u32 = text.parse()?; // converts with `From`
    if value > max {
        return Ok((max, thread_name()));
    }
    Ok((value, thread_name()))
}

#[offload]
fn first_even_doubled(values: Vec<u32>) -> (Option<u32>, String) {
    // `return` in a closure returns from the closure, not from the fn.
    let doubled = |value: u32| -> Option<u32> {
        if value % 2 == 1 {
            return None;
        }
        Some(value * 2)
    };
    (values.into_iter().find_map(doubled), thread_name())
}

#[test]
fn question_mark_and_early_return_behave_as_in_the_sync_fn() {
    futures::executor::block_on(async {
        let (value, thread) = parse_clamped("12".to_owned(), 100).await.unwrap();
        assert_eq!(value, 12);
        assert_ran_on("default", &thread);
        let (value, thread) = parse_clamped("500".to_owned(), 100).await.unwrap();
        assert_eq!(value, 100, "the early `return` was taken");
        assert_ran_on("default", &thread);
        assert_eq!(
            parse_clamped(String::new(), 100).await,
            Err(ParseError::Empty)
        );
        assert_eq!(
            parse_clamped("12a".to_owned(), 100).await,
            Err(ParseError::NotANumber)
        );

        let (doubled, thread) = first_even_doubled(vec![3, 5, 8, 10]).await;
        assert_eq!(
            doubled,
            Some(16),
            "the closure's `return` skipped the odd ones"
        );
        assert_ran_on("default", &thread);
    });
}

// ---------------------------------------------------------------------------------------
// Attributes kept on the wrapper

/// Documented: the doc comment stays on the wrapper.
///
/// # Examples
///
/// Nothing to see; the test below awaits it.
#[offload]
fn documented() -> String {
    thread_name()
}

#[cfg(any())] // never compiled: a second `which_cfg` would be a duplicate definition
#[offload]
fn which_cfg() -> &'static str {
    compile_error!("a fn under a false `cfg` is not compiled")
}

#[offload]
#[cfg(any())] // the same, with the `cfg` after the attribute
fn which_cfg() -> &'static str {
    compile_error!("a fn under a false `cfg` is not compiled")
}

#[cfg(not(any()))]
#[offload]
fn which_cfg() -> (&'static str, String) {
    ("compiled in", thread_name())
}

#[offload]
fn cfg_parameters(#[cfg(any())] removed: DropProbe, #[cfg(not(any()))] kept: u32) -> (u32, String) {
    (kept, thread_name())
}

// Without the `allow` kept on the wrapper, the crate's `deny(non_snake_case)` fails it.
#[allow(non_snake_case)]
#[offload]
fn NotSnakeCase() -> String {
    thread_name()
}

#[deprecated = "use `add` instead"]
#[offload]
fn old_add(a: u32, b: u32) -> (u32, String) {
    (a + b, thread_name())
}

#[must_use = "the sum is the point"]
#[offload]
fn must_use_sum(a: u32, b: u32) -> u32 {
    a + b
}

// The inner attribute must apply to the body: the fn's `deny` makes an unused variable an
// error otherwise.
#[offload]
#[deny(unused_variables)]
fn inner_attribute(value: u32) -> (u32, String) {
    #![allow(unused_variables)]
    let unused = value * 2;
    (value, thread_name())
}

#[test]
fn doc_cfg_and_allow_attributes_are_kept() {
    futures::executor::block_on(async {
        assert_ran_on("default", &documented().await);

        let (which, thread) = which_cfg().await;
        assert_eq!(which, "compiled in");
        assert_ran_on("default", &thread);

        let (kept, thread) = cfg_parameters(5).await;
        assert_eq!(kept, 5);
        assert_ran_on("default", &thread);

        assert_ran_on("default", &NotSnakeCase().await);

        let (value, thread) = inner_attribute(4).await;
        assert_eq!(value, 4);
        assert_ran_on("default", &thread);
    });
}

#[test]
fn deprecated_is_kept_on_the_wrapper() {
    futures::executor::block_on(async {
        // `expect`, not `allow`: if the wrapper lost `#[deprecated]`, the expectation would
        // go unfulfilled, which this file denies.
        #[expect(deprecated)]
        let (sum, thread) = old_add(1, 2).await;
        assert_eq!(sum, 3);
        assert_ran_on("default", &thread);
    });
}

#[test]
fn must_use_is_kept_on_the_wrapper() {
    futures::executor::block_on(async {
        // On an `async fn`, `#[must_use]` applies to the awaited output too: dropping it
        // must warn, or the unfulfilled expectation fails this file.
        #[expect(unused_must_use)]
        {
            must_use_sum(1, 2).await;
        }
        assert_eq!(must_use_sum(20, 22).await, 42);
    });
}

// ---------------------------------------------------------------------------------------
// `crate = "..."`

mod reexport {
    pub use async_offload as my_offload;
}

#[offload(crate = "crate::reexport::my_offload")]
fn through_a_reexport() -> String {
    thread_name()
}

#[offload(crate = "renamed_offload")]
fn through_a_renamed_crate() -> String {
    thread_name()
}

#[offload(crate = "::renamed_offload", pool = "cpu")]
fn through_an_absolute_renamed_crate() -> String {
    thread_name()
}

#[offload(crate = "async_offload")]
fn through_a_relative_path() -> String {
    thread_name()
}

mod nested {
    use super::{offload, thread_name};

    mod inner_reexport {
        pub use async_offload as again;
    }

    #[offload(crate = "super::reexport::my_offload")]
    pub fn through_super() -> String {
        thread_name()
    }

    #[offload(crate = "self::inner_reexport::again")]
    pub fn through_self() -> String {
        thread_name()
    }
}

#[test]
fn the_crate_path_can_be_a_reexport_or_a_renamed_crate() {
    futures::executor::block_on(async {
        assert_ran_on("default", &through_a_reexport().await);
        assert_ran_on("default", &through_a_renamed_crate().await);
        assert_ran_on("cpu", &through_an_absolute_renamed_crate().await);
        assert_ran_on("default", &through_a_relative_path().await);
        assert_ran_on("default", &nested::through_super().await);
        assert_ran_on("default", &nested::through_self().await);
    });
}

/// A stand-in for the crate whose `try_run_at` counts its calls, to see that the generated
/// code goes through the `crate` path and not to `::async_offload` regardless (which this
/// file could reach too). It depends on `__private::try_run_at` keeping its signature.
mod counting_offload {
    pub mod __private {
        use std::future::Future;
        use std::sync::atomic::{AtomicUsize, Ordering};

        pub use async_offload::__private::*;

        pub static CALLS: AtomicUsize = AtomicUsize::new(0);

        pub fn try_run_at<F, T>(
            site: &'static SitePool,
            pool: &'static str,
            body: F,
        ) -> impl Future<Output = Result<T, async_offload::OffloadError>> + Send
        where
            F: FnOnce() -> T + Send + 'static,
            T: Send + 'static,
        {
            CALLS.fetch_add(1, Ordering::SeqCst);
            async_offload::__private::try_run_at(site, pool, body)
        }
    }
}

#[offload(crate = "crate::counting_offload")]
fn through_a_stand_in(value: u32) -> (u32, String) {
    (value + 1, thread_name())
}

#[test]
fn the_generated_code_goes_through_the_crate_path() {
    let calls = || counting_offload::__private::CALLS.load(Ordering::SeqCst);
    assert_eq!(calls(), 0);
    let (value, thread) = futures::executor::block_on(through_a_stand_in(1));
    assert_eq!(value, 2);
    assert_ran_on("default", &thread);
    assert_eq!(calls(), 1, "the stand-in's `try_run_at` was called");
}

// ---------------------------------------------------------------------------------------
// Pools

#[offload(pool = "cpu")]
fn on_cpu() -> String {
    thread_name()
}

#[offload(pool = "shapes")]
fn on_a_configured_pool() -> String {
    thread_name()
}

#[test]
fn the_pool_argument_picks_the_pool() {
    install_pools();
    futures::executor::block_on(async {
        assert_ran_on("cpu", &on_cpu().await);
        assert_ran_on("shapes", &on_a_configured_pool().await);
    });
}

// ---------------------------------------------------------------------------------------
// `unsafe fn`, `'static` borrows

/// # Safety
///
/// `bytes` must be UTF-8.
#[offload]
unsafe fn utf8_unchecked(bytes: Vec<u8>) -> (String, String) {
    // SAFETY: the caller promises UTF-8.
    let text = unsafe { String::from_utf8_unchecked(bytes) };
    (text, thread_name())
}

/// # Safety
///
/// `bytes` must be UTF-8.
#[offload]
#[allow(unsafe_op_in_unsafe_fn)] // a body written for the 2021 edition
unsafe fn utf8_unchecked_2021(bytes: Vec<u8>) -> (String, String) {
    (String::from_utf8_unchecked(bytes), thread_name())
}

#[offload]
fn greet(greeting: &'static str, name: String) -> String {
    format!("{greeting}, {name}, from {}", thread_name())
}

#[test]
fn unsafe_fns_and_static_str_arguments_work() {
    futures::executor::block_on(async {
        // SAFETY: ASCII is UTF-8.
        let (text, thread) = unsafe { utf8_unchecked(b"ok".to_vec()) }.await;
        assert_eq!(text, "ok");
        assert_ran_on("default", &thread);
        // SAFETY: ASCII is UTF-8.
        let (text, thread) = unsafe { utf8_unchecked_2021(b"ok".to_vec()) }.await;
        assert_eq!(text, "ok");
        assert_ran_on("default", &thread);

        let greeting = greet("Hello", "Ada".to_owned()).await;
        let thread = greeting
            .strip_prefix("Hello, Ada, from ")
            .expect("the greeting comes first");
        assert_ran_on("default", thread);
    });
}

// ---------------------------------------------------------------------------------------
// Arguments move to the pool thread whole and are dropped there, used or not

#[offload(pool = "shapes")]
fn ignores_its_probe(probe: DropProbe, value: u32) -> u32 {
    let _ = probe; // not moved: the argument is still dropped at the end of the body
    value + 1
}

#[offload(pool = "shapes")]
fn unused_probe(_probe: DropProbe) {}

#[offload(pool = "shapes")]
fn label_len(probe: DropProbe) -> usize {
    probe.label.len()
}

#[offload(pool = "shapes")]
fn wildcard_probe(_: DropProbe, value: u32) -> u32 {
    value * 2
}

#[offload(pool = "shapes")]
fn tuple_pattern_ignoring_the_probe((value, _): (u32, DropProbe)) -> u32 {
    value * 3
}

/// A value with a probe in a field the bodies below do not touch; no `Drop` of its own, so a
/// closure could capture its fields one by one.
struct Labelled {
    label: String,
    #[expect(dead_code, reason = "held only to be dropped")]
    probe: DropProbe,
}

#[offload(pool = "shapes")]
fn struct_pattern_ignoring_the_probe(Labelled { label, .. }: Labelled) -> usize {
    label.len()
}

#[offload(pool = "shapes")]
fn one_field_of_an_argument(labelled: Labelled) -> usize {
    labelled.label.len()
}

impl Labelled {
    #[offload(pool = "shapes")]
    fn label_len(self) -> usize {
        self.label.len()
    }

    #[offload(pool = "shapes")]
    fn take_label(mut self) -> String {
        std::mem::take(&mut self.label)
    }

    #[offload(pool = "shapes")]
    fn boxed_label_len(self: Box<Self>) -> usize {
        self.label.len()
    }
}

#[test]
fn unused_arguments_are_dropped_on_the_pool() {
    install_pools();
    futures::executor::block_on(async {
        let (probe, drops) = DropProbe::new("unused");
        assert_eq!(ignores_its_probe(probe, 1).await, 2);
        assert_dropped_on("shapes", &drops);

        let (probe, drops) = DropProbe::new("underscore name");
        unused_probe(probe).await;
        assert_dropped_on("shapes", &drops);

        let (probe, drops) = DropProbe::new("wildcard");
        assert_eq!(wildcard_probe(probe, 4).await, 8);
        assert_dropped_on("shapes", &drops);
    });
}

#[test]
fn an_argument_whose_field_only_is_used_is_dropped_on_the_pool() {
    install_pools();
    futures::executor::block_on(async {
        let (probe, drops) = DropProbe::new("four");
        assert_eq!(label_len(probe).await, 4);
        assert_dropped_on("shapes", &drops);

        let (probe, drops) = DropProbe::new("field");
        let labelled = Labelled {
            label: "three".to_owned(),
            probe,
        };
        assert_eq!(one_field_of_an_argument(labelled).await, 5);
        assert_dropped_on("shapes", &drops);
    });
}

#[test]
fn parts_of_a_pattern_argument_it_does_not_bind_are_dropped_on_the_pool() {
    install_pools();
    futures::executor::block_on(async {
        let (probe, drops) = DropProbe::new("tuple");
        assert_eq!(tuple_pattern_ignoring_the_probe((5, probe)).await, 15);
        assert_dropped_on("shapes", &drops);

        let (probe, drops) = DropProbe::new("struct");
        let labelled = Labelled {
            label: "ab".to_owned(),
            probe,
        };
        assert_eq!(struct_pattern_ignoring_the_probe(labelled).await, 2);
        assert_dropped_on("shapes", &drops);
    });
}

#[test]
fn a_receiver_whose_field_only_is_used_is_dropped_on_the_pool() {
    install_pools();
    futures::executor::block_on(async {
        let (probe, drops) = DropProbe::new("self");
        let labelled = Labelled {
            label: "four".to_owned(),
            probe,
        };
        assert_eq!(labelled.label_len().await, 4);
        assert_dropped_on("shapes", &drops);

        let (probe, drops) = DropProbe::new("mut self");
        let labelled = Labelled {
            label: "taken".to_owned(),
            probe,
        };
        assert_eq!(labelled.take_label().await, "taken");
        assert_dropped_on("shapes", &drops);

        let (probe, drops) = DropProbe::new("box");
        let labelled = Box::new(Labelled {
            label: "boxed".to_owned(),
            probe,
        });
        assert_eq!(labelled.boxed_label_len().await, 5);
        assert_dropped_on("shapes", &drops);
    });
}

// ---------------------------------------------------------------------------------------
// The wrapper's future

#[test]
fn the_wrappers_future_is_send() {
    common::multi_thread().block_on(async {
        let (sum, thread) = tokio::spawn(add(1, 2)).await.unwrap();
        assert_eq!(sum, 3);
        assert_ran_on("default", &thread);

        let shared = Arc::new(Account { balance: 4 });
        let (balance, _) = tokio::spawn(shared.shared_balance(2)).await.unwrap();
        assert_eq!(balance, 8);

        let (best, _) = tokio::spawn(largest(vec![1, 5, 2])).await.unwrap();
        assert_eq!(best, Some(5));

        let (product, ..) = tokio::spawn(patterns((2, 3), Vec::new(), Point { x: 0, y: 0 }, 0))
            .await
            .unwrap();
        assert_eq!(product, 6);
    });
}

#[offload(pool = "lazy")]
fn count_a_run(runs: Arc<AtomicUsize>) -> usize {
    runs.fetch_add(1, Ordering::SeqCst) + 1
}

#[test]
fn nothing_runs_before_the_first_poll() {
    install_pools();
    let runs = Arc::new(AtomicUsize::new(0));
    futures::executor::block_on(async {
        let call = count_a_run(Arc::clone(&runs));
        // "lazy" has one thread and runs jobs in order: had the call queued its job, the job
        // would have run before this one.
        async_offload::run("lazy", || ()).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "the body ran before a poll");

        assert_eq!(call.await, 1, "the first poll ran it");
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
