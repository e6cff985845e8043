//! With `OFFLOAD_DETECT_STDIO=1`, a write to stdout or stderr inside a `#[no_block]` poll is
//! reported like any other blocking call (by default it is not: a `println!` in a handler
//! is rarely the problem, and a terminal or a pipe to a test runner is rarely slow). The
//! variable is read once per process: this file is a process of its own, with one test.

use async_offload::no_block;
use async_offload::testing::collect_stalls;

#[no_block]
async fn prints() {
    // Straight to the descriptor: the test harness captures what `eprintln!` prints.
    std::io::Write::write_all(&mut std::io::stderr(), b"a line from a handler\n")
        .expect("stderr takes a line");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn with_the_variable_a_write_to_stderr_is_reported() {
    // SAFETY: the one test of this process, which sets the variable before anything reads
    // it; no other thread of the test reads the environment.
    unsafe { std::env::set_var("OFFLOAD_DETECT_STDIO", "1") };
    let ((), reports) = collect_stalls(prints()).await;
    let calls: Vec<_> = reports
        .iter()
        .map(|report| report.blocking_call())
        .collect();
    assert_eq!(calls, [Some("write")], "{reports:#?}");
}
