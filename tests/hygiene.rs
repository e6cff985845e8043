//! The code `#[offload]`, `#[no_block]` and `#[blocking]` generate compiles in a strict user
//! crate: no warnings, no pedantic Clippy lints, no needless qualification, and only
//! absolute paths and hidden locals, so that the user's own `core`, `std`, `offload`, `run`,
//! `SendArg`, `Guarded` or `__offload_body` cannot capture them.
//!
//! Clippy lints this file too (`cargo clippy --all-targets`), with the lints below: each
//! shape is here for a lint that once fired on generated code, named beside it.

#![deny(warnings, unused_qualifications, clippy::pedantic)]

use ::std::sync::Arc;

// Local items named like those the expansion uses: a relative path in generated code would
// find these instead and fail to compile.
mod core {}
mod std {}
mod offload {}
mod __private {}

struct SendArg;

fn run() -> SendArg {
    SendArg
}

fn capture_whole() {}

struct Guarded;
struct FnSite;
struct SourceLocation;

fn at_await() {}
fn awaited() {}
fn blocking_call() {}

// Items named like the expansions' own: their locals (`__offload_body`, `__offload_argN`)
// and the constant in a `#[no_block]` fn. A constant or unit struct named like a local would
// turn its `let` into a pattern, whatever the local's hygiene (stable proc macros have no
// definition-site names), hence the `__offload_` prefix; anything else of that name must
// not be seen by generated code, nor see it.
#[allow(non_upper_case_globals)]
const __OFFLOAD_SITE: u8 = 0;
fn __offload_body() {}
fn __offload_at() {}
mod __offload_arg0 {}
fn __offload_arg1() {}
fn __offload_return() {}

/// The name of the thread this runs on.
fn thread_name() -> String {
    ::std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned()
}

// `needless_pass_by_value`: the wrapper takes arguments by value and moves them.
#[::async_offload::offload]
fn free(value: u64) -> (u64, String) {
    (value * 2, thread_name())
}

// With a crate path, the generated `SendArg { value: value }` is spanned by the user's
// tokens too: still no `redundant_field_names`.
#[::async_offload::offload(crate = "::async_offload")]
fn named_value(value: u64) -> u64 {
    value + 1
}

#[::async_offload::offload]
fn nothing_returned(sender: ::std::sync::mpsc::Sender<String>) {
    sender.send(thread_name()).expect("the test waits");
}

#[::async_offload::offload]
fn generic<T, const N: usize>(items: [T; N]) -> (Option<T>, String)
where
    T: Ord + Send + 'static,
{
    (items.into_iter().max(), thread_name())
}

// `used_underscore_binding` and `no_effect_underscore_binding` on `_unused`, which the
// generated code reads and binds.
#[::async_offload::offload]
fn patterns((a, b): (u32, u32), mut list: Vec<u32>, _: String, _unused: u8) -> (Vec<u32>, String) {
    list.push(a + b);
    (list, thread_name())
}

// `items_after_statements`: the body's item comes first in the body, not after the
// generated statements.
#[::async_offload::offload]
fn fallible(text: String) -> Result<(u32, String), ::std::num::ParseIntError> {
    fn parse(text: &str) -> Result<u32, ::std::num::ParseIntError> {
        text.trim().parse()
    }
    if text.is_empty() {
        return Ok((0, thread_name()));
    }
    Ok((parse(&text)?, thread_name()))
}

// `fallible` without a return type: `Result<(), OffloadError>`.
#[::async_offload::offload(fallible)]
fn may_not_run(sender: ::std::sync::mpsc::Sender<String>) {
    sender.send(thread_name()).expect("the test waits");
}

#[::async_offload::offload]
fn iterator(below: u32) -> impl Iterator<Item = u32> + Send + 'static {
    (0..below).rev()
}

/// With `async_offload::run` in scope, a generated path to the same item must not look
/// needlessly qualified (`unused_qualifications`), even through a relative crate path.
mod imported {
    use ::async_offload::{OffloadError, run};

    #[::async_offload::offload(crate = "async_offload")]
    pub fn doubled(value: u32) -> u32 {
        value * 2
    }

    // `fallible` names `OffloadError` in the signature: not needlessly either.
    #[::async_offload::offload(crate = "async_offload", fallible)]
    pub fn halved(value: u32) -> u32 {
        value / 2
    }

    pub async fn halved_or_zero(value: u32) -> u32 {
        let halved: Result<u32, OffloadError> = halved(value).await;
        halved.unwrap_or(0)
    }

    pub async fn tripled(value: u32) -> u32 {
        run("default", move || value * 3).await
    }
}

// `unused_async` would fire on an async fn without an `.await` of its own; this one has two,
// each marked by the expansion.
#[::async_offload::no_block]
async fn checked(value: u64) -> Result<u64, String> {
    let doubled = free(value).await.0;
    if doubled == 0 {
        return Err("zero".to_owned());
    }
    let tripled = imported::tripled(u32::try_from(value).map_err(|error| error.to_string())?).await;
    Ok(doubled + u64::from(tripled))
}

#[::async_offload::no_block(threshold = "1s", crate = "::async_offload")]
async fn nothing_awaited() -> impl ::std::fmt::Debug {
    (thread_name(), 1_u8)
}

// `must_use_candidate` is pedantic: the inserted check must not make a fn look pure.
#[::async_offload::blocking]
fn blocks(value: u64) -> u64 {
    ::std::thread::yield_now();
    value + 1
}

/// With `async_offload`'s items in scope, the relative crate path of each attribute must not
/// look needlessly qualified either.
mod relative {
    #[allow(unused_imports)]
    use ::async_offload::{assert_blocking_allowed, no_block, run};

    #[::async_offload::no_block(crate = "async_offload")]
    pub async fn quadrupled(value: u32) -> u32 {
        super::imported::doubled(value).await * 2
    }

    #[::async_offload::blocking(crate = "async_offload")]
    pub fn blocks(value: u32) -> u32 {
        value * 5
    }
}

struct Store {
    name: String,
}

impl Store {
    #[::async_offload::offload]
    fn shared(self: Arc<Self>, suffix: String) -> (String, String) {
        (format!("{}{suffix}", self.name), thread_name())
    }

    #[::async_offload::offload(pool = "cpu")]
    fn into_name(mut self) -> (String, String) {
        self.name.push('!');
        (self.name, thread_name())
    }

    #[::async_offload::blocking]
    fn find(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.name)
    }

    #[::async_offload::no_block]
    async fn described(self: Arc<Self>) -> String {
        let (name, _) = self.clone().shared("?".to_owned()).await;
        name
    }
}

#[test]
fn expansions_compile_without_warnings_and_run_on_the_pools() {
    // The local items exist only to be in the way.
    let SendArg = run();
    capture_whole();
    let (Guarded, FnSite, SourceLocation) = (Guarded, FnSite, SourceLocation);
    at_await();
    awaited();
    blocking_call();
    __offload_body();
    __offload_at();
    __offload_arg1();
    __offload_return();
    assert_eq!(__OFFLOAD_SITE, 0);

    ::futures::executor::block_on(async {
        let (doubled, thread) = free(21).await;
        assert_eq!(doubled, 42);
        assert!(thread.starts_with("offload-default-"), "{thread}");
        assert_eq!(named_value(1).await, 2);

        let (sender, receiver) = ::std::sync::mpsc::channel();
        nothing_returned(sender).await;
        let thread = receiver.try_recv().expect("the body ran");
        assert!(thread.starts_with("offload-default-"), "{thread}");

        let (max, thread) = generic([3, 9, 4]).await;
        assert_eq!(max, Some(9));
        assert!(thread.starts_with("offload-default-"), "{thread}");

        let (list, thread) = patterns((1, 2), vec![0], String::new(), 0).await;
        assert_eq!(list, [0, 3]);
        assert!(thread.starts_with("offload-default-"), "{thread}");

        let (value, thread) = fallible(" 7 ".to_owned()).await.expect("a number");
        assert_eq!(value, 7);
        assert!(thread.starts_with("offload-default-"), "{thread}");
        assert!(fallible("seven".to_owned()).await.is_err());
        assert_eq!(fallible(String::new()).await.expect("early return").0, 0);

        assert_eq!(iterator(3).await.collect::<Vec<_>>(), [2, 1, 0]);

        assert_eq!(imported::doubled(2).await, 4);
        assert_eq!(imported::tripled(2).await, 6);
        assert_eq!(imported::halved_or_zero(8).await, 4);

        let (sender, receiver) = ::std::sync::mpsc::channel();
        may_not_run(sender).await.expect("the default pool runs it");
        let thread = receiver.try_recv().expect("the body ran");
        assert!(thread.starts_with("offload-default-"), "{thread}");

        let store = Arc::new(Store {
            name: "store".to_owned(),
        });
        let (name, thread) = store.shared("-1".to_owned()).await;
        assert_eq!(name, "store-1");
        assert!(thread.starts_with("offload-default-"), "{thread}");

        let store = Store {
            name: "store".to_owned(),
        };
        let (name, thread) = store.into_name().await;
        assert_eq!(name, "store!");
        assert!(thread.starts_with("offload-cpu-"), "{thread}");

        assert_eq!(checked(2).await, Ok(10));
        assert_eq!(checked(0).await, Err("zero".to_owned()));
        assert_eq!(
            format!("{:?}", nothing_awaited().await),
            format!("({:?}, 1)", thread_name())
        );
        assert_eq!(relative::quadrupled(3).await, 12);
        let store = Arc::new(Store {
            name: "store".to_owned(),
        });
        assert_eq!(store.described().await, "store?");
    });
    // Outside any `#[no_block]` poll, a `#[blocking]` fn may block.
    assert_eq!(blocks(1), 2);
    assert_eq!(relative::blocks(1), 5);
    let store = Store {
        name: "store".to_owned(),
    };
    assert_eq!(store.find("-2"), "store-2");
}
