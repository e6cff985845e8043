//! Run blocking code from async Rust without blocking the executor.
//!
//! An async executor runs many tasks on a few threads. A synchronous call that blocks (a
//! sync database driver, `std::fs`, a sync HTTP client, heavy computation) inside an
//! `async fn` holds one of those threads, and every task waiting for it, until it returns.
//! `offload` moves such calls to threads made for them:
//!
//! ```
//! use async_offload::offload;
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
//! - Pools are named and configured at start-up with [`Pools::builder`], which also reads
//!   the `OFFLOAD_POOLS` environment variable when asked to
//!   ([`from_env`](PoolsBuilder::from_env)). Two always exist: `default`, elastic, up to 64
//!   threads that exit after 10 s idle, and `cpu`, one thread per core. Each has a bounded
//!   queue (1024 waiting jobs unless configured): when it is full, callers wait
//!   asynchronously, first come first served. Threads are started by the pools' starter
//!   thread, not on a caller's: a call only queues its job and wakes a thread. An
//!   elastic pool grows as its load needs and lets surplus threads go under a trickle
//!   ([`PoolConfig::elastic`] says how).
//! - A panic in a job reaches the awaiting caller with its original payload; the pool
//!   thread survives it. A job whose caller went away before it started never runs;
//!   one already running can check [`cancelled`].
//! - No async runtime is needed: the futures work on tokio (current-thread and
//!   multi-thread), `futures::executor`, smol, or any other executor.
//! - Per pool: thread start and stop hooks ([`PoolConfig::on_thread_start`]), a lower
//!   priority for CPU-heavy work ([`PoolConfig::nice`], Linux), and refusing a job at once
//!   when the queue is full ([`PoolConfig::refuse_when_full`], [`OffloadError::QueueFull`])
//!   instead of waiting for room.
//! - [`shutdown`] stops the pools at the end of a program and joins their threads;
//!   [`shutdown_pool`] does the same for one pool and leaves the others running.
//! - [`#[no_block]`](macro@no_block) makes a debug build fail loudly when a poll of an
//!   `async fn` holds its executor thread too long, and says between which `.await`s;
//!   [`#[blocking]`](macro@blocking) marks a sync fn that must never be called from such a
//!   poll. Release builds carry none of it.
//!
//! # Coming from `spawn_blocking`
//!
//! `tokio::task::spawn_blocking(move || db.query_user(id)).await??` becomes a call of an
//! `#[offload(pool = "db")] fn query_user(db: Db, id: u64) -> Result<User, DbError>`, or
//! `async_offload::run("db", move || db.query_user(id)).await?`. The same: the body runs on a
//! thread made for blocking, with the caller's tokio runtime entered (the `tokio` feature),
//! tokio's paused clock waits for it, and the future is `Unpin` as a `JoinHandle` is.
//! Different: nothing starts before the first poll;
//! dropping the future before the job starts cancels it (there is no `JoinHandle` to
//! detach or abort); a panic in the body goes on as a panic in the caller, not a
//! `JoinError`; arguments are owned; each named pool has its own size and a bounded queue;
//! any executor can drive the futures.
//!
//! # Features
//!
//! - `tokio` (on by default): called from inside a tokio runtime, a job runs with that
//!   runtime entered, and tokio's paused clock waits for jobs in flight, as with
//!   `spawn_blocking`. Other executors are unaffected; `default-features = false` leaves it
//!   out.
//! - `serde`: [`PoolConfig`] implements `Deserialize`, so pools can come from the
//!   application's own configuration file and be passed to [`PoolsBuilder::pools`].
//! - `tracing`: an offloaded job runs inside the span of its caller (and a `TRACE` span of
//!   its own, `offload`, with the pool's name), and in `warn` mode stall reports become
//!   `WARN` events when a subscriber is in place.
//! - `stall-stacks` (for `[dev-dependencies]`): a report on a `#[no_block]` poll that has
//!   not returned yet ([`stall::StallReport::still_running`]) carries the stack of its
//!   thread ([`stall::StallReport::stack`]), where the poll is stuck. Linux only; it adds
//!   the `backtrace` crate and its reader of debug information to the build, which is why
//!   it is not on by default. Without it such reports come without a stack, and say how
//!   to get one.
//! - `detect-blocking-calls` (for `[dev-dependencies]`, with `stall-stacks`): the C library's blocking calls
//!   made inside a poll of a `#[no_block]` fn are reported like a stall, however fast they
//!   were: sleeping, name resolution, file I/O, directory and name operations, sockets
//!   without `O_NONBLOCK`, waiting for processes and threads, file locks, `poll` with a
//!   timeout, and futex waits (std's `Condvar`, `mpsc` receives, `thread::park`,
//!   `OnceLock`, `block_on`; a `Mutex` or `RwLock` waited on for 1 ms or more; never
//!   tokio's own locks). The exact list is in [`stall::StallReport::blocking_call`]'s
//!   docs. A `std::fs::read` of a small file or a `ToSocketAddrs` lookup of `localhost`
//!   in a handler then fails the test that reaches it; the report, one per poll
//!   ([`stall::StallReport::blocking_calls`]), names each call site's C function, the
//!   std function it came from and its count, the span, and the first stack. Pool
//!   threads, descriptors with `O_NONBLOCK` (tokio's sockets) and, unless
//!   `OFFLOAD_DETECT_STDIO=1`, writes to stdout and stderr are never reported, nor what a
//!   test excuses with [`testing::allow_blocking`] (its setup and teardown). Linux with
//!   glibc on x86_64 and aarch64 only: elsewhere (musl, static binaries, macOS, Windows)
//!   it compiles and does nothing.
//! - `release-stalls`: `#[no_block]` fns stay counted and timed in release builds. Per fn,
//!   [`stall::poll_stats`] gives its polls, its slow polls (over its threshold) and their
//!   time, and its longest poll with the two points of the body it ran between. A release
//!   build never panics or prints for a slow poll on its own: a hook
//!   ([`stall::set_hook`]), a mode set in code or by `OFFLOAD_STALL`, or a `tracing`
//!   subscriber (with the `tracing` feature) receives the report. A poll costs two clock
//!   readings and a few relaxed atomic additions (figures in `BENCHMARKS.md`).
//! - `metrics`: the pools' figures, each job's times and, with `release-stalls`, each
//!   `#[no_block]` fn's polls, published through the [`metrics`](https://docs.rs/metrics)
//!   facade to the recorder the application installs (see [Metrics](#metrics)).
//!
//! # Observing pools
//!
//! [`stats`] gives each pool's threads, queue, counters (submitted, completed, panicked,
//! cancelled, abandoned, refused) and the time jobs waited and ran. Every
//! `#[offload(pool = "...")]` of the program is registered at link time:
//! [`PoolsBuilder::install`] refuses a configuration that leaves one of them without its
//! pool, so a program that configures no pools can still check them at start-up with
//! `Pools::builder().install()`.
//!
//! # Metrics
//!
//! With the `metrics` feature, a thread named `offload.metrics`, started by the pools'
//! starter thread, publishes every second, to the recorder the application installs (a
//! Prometheus or OpenTelemetry exporter), the figures of [`stats`] and, with
//! `release-stalls`, of [`stall::poll_stats`]: gauges at their current value, counters as
//! totals since the start, so a recorder installed late still gets them whole. Each job's
//! queue wait and run time go into histograms as the job ends, so an exporter gets real
//! buckets: install the recorder before the pools (at start-up, before
//! [`PoolsBuilder::install`]), or the jobs of the first second after it are not in them.
//! Each slow poll's time goes into a histogram too. [`shutdown`] publishes a last time.
//! Without a recorder a job costs a few more instructions (`BENCHMARKS.md`); the thread
//! wakes once a second.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `offload_pool_threads` | gauge | `pool` | threads of the pool, busy or idle |
//! | `offload_pool_idle_threads` | gauge | `pool` | threads waiting for work |
//! | `offload_pool_max_threads` | gauge | `pool` | the most threads the pool may run |
//! | `offload_pool_running_jobs` | gauge | `pool` | jobs running |
//! | `offload_pool_queued_jobs` | gauge | `pool` | jobs queued, waiting for a thread |
//! | `offload_pool_queue_capacity` | gauge | `pool` | the most jobs the queue holds: saturated when `queued_jobs` reaches it |
//! | `offload_pool_waiting_callers` | gauge | `pool` | callers waiting in line for room in the full queue |
//! | `offload_jobs_submitted_total` | counter | `pool` | jobs offered to the pool |
//! | `offload_jobs_ended_total` | counter | `pool`, `outcome` | jobs ended: `completed`, `panicked`, `cancelled` (caller gone before the start), `abandoned` (caller gone while running), `refused` (shut down, or no thread could start), `queue_full` |
//! | `offload_job_queue_wait_seconds` | histogram | `pool` | each job's time from its submission to its start, any wait for room included |
//! | `offload_job_run_seconds` | histogram | `pool` | each job's time running |
//! | `offload_polls_total` | counter | `function` | polls of a `#[no_block]` fn (`release-stalls`) |
//! | `offload_slow_polls_total` | counter | `function` | its polls longer than its threshold (`release-stalls`) |
//! | `offload_slow_poll_seconds` | histogram | `function` | each slow poll's time (`release-stalls`) |
//!
//! `function` is the fn's path, `module::path::name`. A pool's `PoolConfig::metrics(false)`
//! leaves its jobs' histograms empty and its counters at zero.
//!
//! # The whole API
//!
//! | | |
//! |---|---|
//! | Attributes | [`#[offload]`](macro@offload), [`#[no_block]`](macro@no_block), [`#[blocking]`](macro@blocking) |
//! | Offloading by hand | [`run`], [`try_run`], and inside a job [`cancelled`] |
//! | Configuring pools | [`Pools::builder`] giving a [`PoolsBuilder`], [`PoolConfig`], [`PoolKind`] |
//! | Stopping them | [`shutdown`], [`shutdown_pool`] |
//! | Observing them | [`stats`], [`PoolStats`], [`TimingStats`] |
//! | Errors | [`OffloadError`] (a job that cannot run), [`ConfigError`] (with [`PoolUse`], a use of a pool nobody configured), [`ShutdownError`] |
//! | Stall detection | [`stall::set_mode`] with [`stall::Mode`], [`stall::set_hook`] receiving a [`stall::StallReport`] (with [`stall::SourceLocation`], [`stall::LocationKind`], [`stall::Stack`], [`stall::StackFrame`], and with `detect-blocking-calls` a [`stall::BlockingCall`] per call site), [`assert_blocking_allowed`] |
//! | Slow polls in production (`release-stalls`) | [`stall::poll_stats`] giving a [`stall::PollStats`] per `#[no_block]` fn |
//! | Tests | [`testing::install_pools`] (pools for each test), [`testing::collect_stalls`], [`testing::allow_blocking`] (setup and teardown that block on purpose) |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Turns a synchronous `fn` into an `async fn` that runs its body on a pool thread.
///
/// ```
/// use async_offload::offload;
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
///   [`Pools::builder`](crate::Pools::builder) (and `OFFLOAD_POOLS`, which its
///   [`from_env`](crate::PoolsBuilder::from_env) reads) before the first call; awaiting
///   the fn panics, naming it and the existing pools, if the pool is unknown.
/// - `fallible`: the fn returns `Result<T, OffloadError>` instead of `T`, where `T` is its
///   declared return type (`()` if it has none), and a job that cannot run (an unknown
///   pool, a pool shut down, a full queue that [refuses](crate::PoolConfig::refuse_when_full)
///   jobs, a thread that could not start) is an [`OffloadError`] for the
///   caller instead of a panic: for a service that answers "503 Service Unavailable"
///   rather than fail. A panic of the body is still a panic.
/// - `crate = "path"`: where the generated code finds this crate, if it was renamed or is
///   re-exported from another crate (default: `::async_offload`).
///
/// ```
/// use async_offload::{OffloadError, offload};
///
/// #[offload(pool = "cpu", fallible)]
/// fn checksum(data: Vec<u8>) -> u32 {
///     data.iter().map(|&byte| u32::from(byte)).sum()
/// }
///
/// # futures::executor::block_on(async {
/// let sum: Result<u32, OffloadError> = checksum(vec![1, 2, 3]).await;
/// assert_eq!(sum.ok(), Some(6));
/// # });
/// ```
///
/// # Methods
///
/// Methods take `self` by value, `self: Arc<Self>` or `self: Box<Self>`; they work in
/// inherent impls and in trait impls (where the trait declares an `async fn`, or a fn
/// returning `impl Future<Output = T> + Send`).
///
/// ```
/// use std::sync::Arc;
/// use async_offload::offload;
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
pub use async_offload_macros::offload;

/// Checks, in debug builds, that no poll of an `async fn` holds its thread too long.
///
/// ```
/// use async_offload::no_block;
///
/// #[no_block] // default threshold: 10 ms
/// async fn handle(id: u64) -> String {
///     format!("user {id}") // no blocking here
/// }
///
/// #[no_block(threshold = "2ms")]
/// async fn hot_path() {}
/// # futures::executor::block_on(async { handle(1).await; hot_path().await });
/// ```
///
/// Put it above `#[tokio::test]` (in that order) to check a whole test body:
///
/// ```
/// # use async_offload::no_block;
/// #[no_block]
/// #[tokio::test]
/// async fn handler_never_blocks() {
///     // ...
/// }
/// # fn main() {}
/// ```
///
/// # What it checks
///
/// In a debug build (`debug_assertions` on, as decided by the build of the crate that uses
/// the attribute), every poll of the fn's future is timed. A poll that holds the thread
/// longer than the threshold is a *stall*, and is reported once, by the outermost
/// instrumented future on the thread. The report ([`StallReport`](crate::stall::StallReport))
/// names the instrumented fn whose own code (its time outside nested instrumented fns) held
/// the thread longest, and the span of that code: from the `.await` where the poll resumed
/// (or the fn's start) to the `.await` where it stopped (or the fn's end). It gives the time
/// the poll held the thread, the threshold, each instrumented fn's own time, and the thread.
///
/// ```text
/// stall in my_app::handlers::load_user: one poll held the thread for 48.2 ms (threshold 10 ms)
///   from src/handlers.rs:12:31 (.await) to src/handlers.rs:15:9 (.await)
///   own time: my_app::handlers::load_user 47.9 ms, my_app::db::query 0.3 ms; thread: tokio-rt-worker
///   move the blocking call into an #[offload] fn, or raise the threshold with #[no_block(threshold = "...")]
/// ```
///
/// By default a report panics, in the task that stalled, when a test's own code is in the
/// poll (an instrumented fn of a crate compiled for tests, like a test body under
/// `#[no_block]`): a test that blocks fails. Elsewhere, as in a debug build of a server run
/// with `cargo run`, it prints the report on stderr and the server keeps serving. See
/// [`stall::set_mode`] for choosing `panic`, `warn` or `off`,
/// [`stall::set_hook`] to receive reports, and
/// [`testing::collect_stalls`] to assert on them in a test.
/// `OFFLOAD_STALL=panic|warn|off` and `OFFLOAD_STALL_THRESHOLD=25ms` set the mode and the
/// default threshold at run time; a threshold written on the attribute stays, and a mode set
/// in code wins over the variable.
///
/// `.await`s inside macro calls (`select!`, `join!`) and inside nested `async` blocks or
/// closures are not span boundaries: the span runs across them.
///
/// # How a poll is timed, and what is left out
///
/// A poll is timed by the wall clock, from its start to its return. Time the thread spent
/// runnable but not running, because the OS gave its core to other threads (a loaded
/// machine, parallel tests on a CI runner), is not blocking, and is left out where the
/// platform tells it: on Linux, the thread's run-queue delay in
/// `/proc/self/task/<tid>/schedstat`. A watchdog thread reads it every quarter of the
/// smallest threshold while polls run; a poll that ends past its threshold reads it again,
/// and the difference is left out, and shown as `preempted` in the report. Polls that end
/// in time cost no system call. What cannot be told apart is counted as blocking: on other
/// platforms, all of it (as before); on Linux, a hypervisor's steal time, and a wait that
/// ended before the watchdog's last look, when the watchdog itself was kept from running
/// for more than four thresholds. A wait that ended just before the poll may be left out
/// with it, so on a loaded machine a poll only a little past its threshold may go
/// unreported; a poll that blocks well past it never does.
///
/// # A poll that does not return
///
/// A poll that blocks for good (a deadlock on a sync `Mutex`, a sync call without a
/// timeout, an endless loop) never reaches its end-of-poll report. The watchdog, started
/// by the first instrumented poll, reports it while it lasts: after 1 s (or the threshold,
/// if longer), then after 2 s, 4 s, 8 s ..., as a report with `still_running: true`, from
/// the watchdog's thread. `panic` and `warn` print it on stderr (a panic there would not
/// reach the stalled task), a hook receives it, and so it is even inside
/// [`testing::collect_stalls`] (whose list only the poll's return would let anyone read);
/// the usual report follows if the poll returns. On Linux (glibc 2.35 or later) it shows where the thread is: its stack, taken
/// by the thread itself in a signal handler (`SIGURG`) and named on another thread, with
/// offload's frames and the executor's left out, and the standard library's shown as the
/// one call the user's code made. `OFFLOAD_STALL_STACKS=0` turns the stacks off; elsewhere
/// there are none. `OFFLOAD_STALL_SIGNAL=SIGUSR1|SIGUSR2|SIGRTMIN+<n>` picks another signal
/// than `SIGURG`, for a program that uses it. The handler is installed only where the signal
/// has none of the program's own (else the program's stays, and the reports say so), and
/// only where the unwinder is safe in it (glibc 2.35 or later, and a libgcc that finds
/// unwind tables with `_dl_find_object`: 12 or later built for it); where either fails,
/// one line on stderr says which, and the reports come without stacks. For a handler stuck reading standard input (`tests/watchdog.rs` checks
/// each part of such a report):
///
/// ```text
/// offload: stall in my_app::handlers::ask: one poll has held the thread for 1001 ms so far and has not returned (threshold 10 ms)
///   from src/handlers.rs:30:20 (.await), still running
///   thread: tokio-rt-worker
///   stack, innermost first (offload's and the executor's frames left out, other crates' between the user's shown as one line):
///     <std::io::stdio::Stdin>::read_line (13 frames inside it left out)
///     my_app::console::read_answer at src/console.rs:12
///     my_app::handlers::ask::{{closure}}::{{closure}} at src/handlers.rs:31
///   move the blocking call into an #[offload] fn, or raise the threshold with #[no_block(threshold = "...")]
/// ```
///
/// The signal interrupts the system call the thread is blocked in. The handler is installed
/// with `SA_RESTART`, so Linux restarts most calls, and the program sees nothing: `read`,
/// `write` and `ioctl` on pipes, terminals and sockets, `open` of a FIFO, `wait` and its
/// kin, socket calls without a timeout, `flock` and `fcntl` locks, futexes (std's and
/// glibc's locks, condition variables, `std::thread::park`), semaphores and message queues.
/// (A `read` or `write` that had moved some bytes already returns that many, as it may for
/// any reason.) Linux never restarts these, which then fail with `EINTR` (see
/// `man 7 signal`): `accept`, `recv`, `recvfrom`, `recvmmsg`, `recvmsg` on a socket with
/// `SO_RCVTIMEO`, and `connect`, `send`, `sendto`, `sendmsg` on one with `SO_SNDTIMEO`;
/// `epoll_wait`, `epoll_pwait`, `poll`, `ppoll`, `select`, `pselect`; `pause`,
/// `sigsuspend`, `sigtimedwait`, `sigwaitinfo`; `msgrcv`, `msgsnd`, `semop`, `semtimedop`;
/// `clock_nanosleep`, `nanosleep`, `usleep` (`std::thread::sleep` sleeps the rest);
/// `io_getevents`. Code that waits in one of them must handle `EINTR` for any signal;
/// a stall report sends one signal to the thread at each report (and one 750 ms before the
/// first report of the process).
///
/// # Cost
///
/// In a release build the fn is exactly what it would be without the attribute, and no
/// watchdog thread starts; with the `release-stalls` feature, each poll is counted and
/// timed instead (two clock readings; see [`stall::poll_stats`]), still without a
/// watchdog. In a debug build each poll costs two clock reads, a few thread-local accesses and a few relaxed atomic stores (for the watchdog) more, and each
/// `.await` of the body two relaxed atomic stores: in an unoptimized test build, about half
/// of what a bare tokio task poll costs. `cargo bench --bench no_block` measures it; the
/// figures are in the repository's `BENCHMARKS.md`.
///
/// # Arguments
///
/// - `threshold = "250us" | "2ms" | "1.5s"`: a number and a unit (`ns`, `us` or `µs`, `ms`,
///   `s`, `m`, `h`), not zero, written as `OFFLOAD_STALL_THRESHOLD` takes it too; default
///   10 ms, or `OFFLOAD_STALL_THRESHOLD`. To stop reports, use `OFFLOAD_STALL=off`.
/// - `crate = "path"`: where the generated code finds this crate.
#[doc(inline)]
pub use async_offload_macros::no_block;

/// Marks a synchronous fn that blocks: in debug builds, calling it inside a poll of a
/// `#[no_block]` future is reported at once, however fast the call happened to be, naming
/// the call's line. Like a stall, it panics when a test's own code is in the poll and
/// prints a line on stderr elsewhere, unless a mode says otherwise.
///
/// ```
/// use async_offload::{blocking, no_block, offload};
///
/// #[blocking]
/// fn query(id: u64) -> String {
///     std::thread::sleep(std::time::Duration::from_millis(1)); // a sync driver's call
///     format!("user {id}")
/// }
///
/// #[offload]
/// fn load_user(id: u64) -> String {
///     query(id) // fine: a pool thread may block
/// }
///
/// #[no_block]
/// async fn handler(id: u64) -> String {
///     load_user(id).await // calling query(id) here would panic in a debug build
/// }
/// # futures::executor::block_on(async { assert_eq!(handler(7).await, "user 7") });
/// ```
///
/// The check is [`assert_blocking_allowed`]: pool threads,
/// and threads that are not polling a `#[no_block]` future, may always block. In a release
/// build the fn is exactly what it would be without the attribute. Takes `crate = "path"`
/// like the other attributes.
#[doc(inline)]
pub use async_offload_macros::blocking;

pub use async_offload_runtime::{
    ConfigError, OffloadError, PoolConfig, PoolKind, PoolStats, PoolUse, Pools, PoolsBuilder,
    ShutdownError, TimingStats, assert_blocking_allowed, cancelled, run, shutdown, shutdown_pool,
    stall, stats, testing, try_run,
};

/// Items the code generated by the macros refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use async_offload_runtime::__private::*;
}
