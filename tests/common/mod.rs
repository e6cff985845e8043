//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::future::Future;
use std::pin::Pin;
use std::sync::Once;
use std::task::Poll;
use std::time::Duration;

/// How long a test waits for something that should happen at once, before it fails
/// instead of hanging. Never a measure of speed: only a guard against a hung test.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// A single-threaded tokio runtime, as `#[tokio::test]` makes by default.
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// A multi-thread tokio runtime with two workers.
pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime")
}

/// Polls `future` once and says whether it finished.
pub async fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let mut future = Some(future);
    std::future::poll_fn(|cx| Poll::Ready(future.take().expect("polled once").poll(cx))).await
}

/// A panic payload the tests throw on purpose; the panic hook stays silent about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPanic(pub u32);

/// Keeps the panic hook from printing the panics tests cause on purpose (those with an
/// [`ExpectedPanic`] payload); every other panic is printed as usual.
pub fn silence_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<ExpectedPanic>().is_none() {
                default_hook(info);
            }
        }));
    });
}

/// The name of the thread this runs on.
pub fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned()
}

/// Runs `future` as a task on a current-thread runtime and returns the payload it
/// panicked with; fails the test if it did not panic.
pub fn panic_of<F>(future: F) -> Box<dyn std::any::Any + Send>
where
    F: Future + Send + 'static,
    F::Output: Send + std::fmt::Debug + 'static,
{
    let outcome = current_thread().block_on(async { tokio::spawn(future).await });
    match outcome {
        Ok(value) => panic!("expected a panic, got {value:?}"),
        Err(error) => error.into_panic(),
    }
}

/// The message of a panic raised with `panic!("...")` and arguments.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .expect("a panic message")
}

/// Waits until `condition` holds, checking it every millisecond, and says whether it did
/// within [`HANG_GUARD`]. For what the OS finishes just after the call that caused it (a
/// joined thread leaving the process's thread list); never a measure of speed.
pub fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// How many threads the process has, as the OS counts them (`Threads:` in
/// `/proc/self/status`).
#[cfg(target_os = "linux")]
pub fn process_threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("a Threads: line")
}

/// The names of the process's threads as the OS knows them (cut to 15 bytes), for the
/// pool threads named `offload-<pool>-<n>` that are still alive.
#[cfg(target_os = "linux")]
pub fn os_thread_names() -> Vec<String> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .filter_map(|task| {
            // A thread that exits while the list is read has no `comm` any more.
            let comm = std::fs::read_to_string(task.ok()?.path().join("comm")).ok()?;
            Some(comm.trim_end().to_owned())
        })
        .collect()
}

/// How many live threads of the process are threads of `pool` (named `offload-<pool>-<n>`;
/// `pool` must be short enough for the OS to keep `offload-<pool>-`).
#[cfg(target_os = "linux")]
pub fn pool_threads_alive(pool: &str) -> usize {
    let prefix = format!("offload-{pool}-");
    assert!(prefix.len() < 15, "the OS cuts thread names to 15 bytes");
    os_thread_names()
        .iter()
        .filter(|name| name.starts_with(&prefix))
        .count()
}

/// The stats of the pool named `pool`, if there is one.
pub fn stats_for(pool: &str) -> Option<async_offload::PoolStats> {
    async_offload::stats()
        .into_iter()
        .find(|stats| stats.name == pool)
}

/// The jobs a pool's counters say were answered: the left side of `PoolStats`'s accounting
/// identity, which equals `submitted` once every job has its answer.
pub fn settled(stats: &async_offload::PoolStats) -> u64 {
    stats.completed
        + stats.panicked
        + stats.cancelled
        + stats.abandoned
        + stats.refused
        + stats.queue_full
}

/// The function names of a report's stack, innermost first, without generic arguments:
/// `std::sync::mpsc::Receiver::recv` for both stable's symbol names
/// (`std::sync::mpsc::Receiver<T>::recv`) and nightly's, which name the type
/// (`<std::sync::mpsc::Receiver<()>>::recv`).
pub fn stack_functions(report: &async_offload::stall::StallReport) -> Vec<String> {
    report
        .stack
        .iter()
        .flat_map(|stack| &stack.frames)
        .filter_map(|frame| frame.function.as_deref())
        .map(without_generic_arguments)
        .collect()
}

/// `name` without its generic arguments (a `<` right after a name opens them), and without
/// the brackets of a path that starts with a type (`<Type>::f` becomes `Type::f`,
/// `<Type as Trait>::f` becomes `Type as Trait::f`).
fn without_generic_arguments(name: &str) -> String {
    let mut kept = String::with_capacity(name.len());
    // For each `<` still open: whether it opened generic arguments.
    let mut open: Vec<bool> = Vec::new();
    let mut previous = ' ';
    for c in name.chars() {
        match c {
            '<' => open.push(previous.is_alphanumeric() || previous == '_'),
            '>' if !open.is_empty() => {
                open.pop();
            }
            _ if !open.contains(&true) => kept.push(c),
            _ => {}
        }
        previous = c;
    }
    kept
}

/// Set, to the child test's name, in the environment of a child process that
/// [`child_test`] starts.
const CHILD_TEST_ENV: &str = "OFFLOAD_TESTS_CHILD";

/// The variables that change how stalls are reported, unset in a child so that it starts
/// from the defaults and sets only what its parent gives it.
const STALL_VARIABLES: [&str; 5] = [
    "OFFLOAD_STALL",
    "OFFLOAD_STALL_THRESHOLD",
    "OFFLOAD_STALL_STACKS",
    "OFFLOAD_STALL_SIGNAL",
    "OFFLOAD_DETECT_STDIO",
];

/// A command that runs the ignored test `name` of this test binary alone in a child
/// process, its output not captured, the stall variables unset: for what a test cannot do
/// in a process it shares (set the environment, hang a thread, install a signal handler).
pub fn child_test(name: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_TEST_ENV, name);
    for variable in STALL_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Whether this process was started to run the child test `name`: a child test does
/// nothing anywhere else (as in a run with `--include-ignored`).
pub fn in_child(name: &str) -> bool {
    std::env::var(CHILD_TEST_ENV).is_ok_and(|child| child == name)
}

/// Tells the parent that the child test `name` ran to its end.
pub fn child_done(name: &str) {
    println!("child {name} done");
}

/// Fails unless the child test `name`, whose `output` this is, passed and ran to its end.
#[track_caller]
pub fn assert_child_passed(name: &str, output: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success()
            && stdout.contains("test result: ok. 1 passed")
            && stdout.contains(&format!("child {name} done")),
        "the child {name} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the child test `name` with `env` set, fails unless it passed, and returns its
/// output.
#[track_caller]
pub fn run_child(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let output = child_test(name)
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs");
    assert_child_passed(name, &output);
    output
}
