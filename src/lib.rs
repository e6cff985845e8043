//! Run blocking code from async Rust without blocking the executor.
//!
//! An async executor runs many tasks on a few threads. A synchronous call that blocks (a
//! sync database driver, `std::fs`, a sync HTTP client, heavy computation) inside an
//! `async fn` holds one of those threads, and every task waiting for it, until it returns.
//! `offload` moves such calls to threads made for them:
//!
//! ```
//! use offload::offload;
//!
//! /// Reads a file with the blocking `std::fs`, on the pool named "default".
//! #[offload]
//! fn file_len(path: String) -> std::io::Result<u64> {
//!     Ok(std::fs::metadata(path)?.len())
//! }
//!
//! # futures::executor::block_on(async {
//! let len = file_len("Cargo.toml".to_owned()).await?;
//! assert!(len > 0);
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! - [`#[offload]`](macro@offload) turns a synchronous `fn` into an `async fn` that runs
//!   its body on a named pool and awaits the result; [`run`] and [`try_run`] do the same
//!   for a closure.
//! - Pools are named and configured once, at start-up, with [`Pools::builder`] (or the
//!   `OFFLOAD_POOLS` environment variable). Two always exist: `default`, elastic, up to 64
//!   threads that exit after 10 s idle, and `cpu`, one thread per core. Each has a bounded
//!   queue (1024 waiting jobs unless configured): when it is full, callers wait
//!   asynchronously, first come first served.
//! - A panic in a job reaches the awaiting caller with its original payload; the pool
//!   thread survives it. A job whose caller went away before it started never runs;
//!   one already running can check [`cancelled`].
//! - No async runtime is needed: the futures work on tokio (current-thread and
//!   multi-thread), `futures::executor`, smol, or any other executor.
//! - [`shutdown`] stops the pools at the end of a program and joins their threads.
//!
//! # Features
//!
//! - `serde`: [`PoolConfig`] implements `Deserialize`, so pools can come from the
//!   application's own configuration file and be passed to [`PoolsBuilder::pools`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Turns a synchronous `fn` into an `async fn` that runs its body on a pool thread.
///
/// ```
/// use offload::offload;
/// # #[derive(Clone)] struct Db;
/// # struct User { id: u64 }
/// # #[derive(Debug)] struct DbError;
/// # impl Db { fn query_user(&self, id: u64) -> Result<User, DbError> { Ok(User { id }) } }
///
/// /// Loads a user with a synchronous database driver.
/// #[offload(pool = "cpu")]
/// pub fn load_user(db: Db, id: u64) -> Result<User, DbError> {
///     let user = db.query_user(id)?; // blocks, but on a pool thread
///     Ok(user)
/// }
///
/// # futures::executor::block_on(async {
/// let user = load_user(Db, 7).await?;
/// assert_eq!(user.id, 7);
/// # Ok::<(), DbError>(())
/// # }).unwrap();
/// ```
///
/// # What the wrapper is
///
/// `fn f(args) -> T { body }` becomes `async fn f(args) -> T`, with the same name,
/// visibility, generics, `where` clause, docs and attributes. Awaiting it runs `body` on
/// the pool and returns what it returned; `return` and `?` behave as before.
///
/// - **Arguments** move to the pool thread whole and are dropped there, used or not (a
///   connection whose drop blocks is never dropped on the executor). So they must be
///   owned, `Send` and `'static`: a borrowed parameter (`&T`, `&self`, `&mut self`, a
///   lifetime parameter) is a compile error that says what to write instead (an owned
///   type, `self: Arc<Self>`, `self` by value). A type that is not `Send` is reported at
///   its parameter or at the return type.
/// - **Panics** in the body are caught on the pool thread and resumed in the awaiting task
///   with the original payload, as if the fn had been called directly.
/// - **Cancellation**: dropping the future before the job starts means the body never
///   runs. Once it has started it runs to completion (a thread cannot be stopped);
///   inside, [`cancelled()`](crate::cancelled) turns `true` once the caller has gone.
/// - **Back-pressure**: when the pool's queue is full, the future waits asynchronously, in
///   order, for room. The executor thread is never blocked.
/// - Like every future it does nothing until polled: the pool is looked up, and the job
///   submitted, at the first poll.
///
/// # Arguments
///
/// - `pool = "name"`: the pool to run on (default: `"default"`). Configure it with
///   [`Pools::builder`](crate::Pools::builder) or `OFFLOAD_POOLS` before the first call;
///   awaiting the fn panics with the names of the existing pools if it is unknown.
/// - `crate = "path"`: where the generated code finds this crate, if it was renamed or is
///   re-exported from another crate (default: `::offload`).
///
/// # Methods
///
/// Methods take `self` by value, `self: Arc<Self>` or `self: Box<Self>`; they work in
/// inherent impls and in trait impls (where the trait declares an `async fn`, or a fn
/// returning `impl Future<Output = T> + Send`).
///
/// ```
/// use std::sync::Arc;
/// use offload::offload;
///
/// struct Store { path: String }
///
/// impl Store {
///     #[offload]
///     fn size(self: Arc<Self>) -> u64 {
///         std::fs::metadata(&self.path).map_or(0, |m| m.len())
///     }
/// }
/// # futures::executor::block_on(async {
/// let store = Arc::new(Store { path: "Cargo.toml".into() });
/// assert!(store.size().await > 0);
/// # });
/// ```
#[doc(inline)]
pub use offload_macros::offload;

pub use offload_runtime::{
    CPU_POOL, ConfigError, DEFAULT_POOL, OffloadError, POOLS_ENV, PoolConfig, PoolKind, Pools,
    PoolsBuilder, ShutdownTimeout, cancelled, run, shutdown, try_run,
};

/// Items the code generated by the macros refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use offload_runtime::__private::*;
}
