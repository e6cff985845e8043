//! `PoolConfig::nice`: on Linux each thread of the pool runs at the nice value configured,
//! or at its process's, if that is higher already; the threads of other pools are left
//! alone.

#![cfg(target_os = "linux")]

use async_offload::{PoolConfig, Pools};

/// The nice value in a `/proc/.../stat` line: the 19th field, the 17th after the command
/// name's closing parenthesis.
fn nice_in(stat: &str) -> i32 {
    let (_, after_name) = stat.rsplit_once(')').expect("a stat line");
    after_name
        .split_whitespace()
        .nth(16)
        .and_then(|field| field.parse().ok())
        .expect("a nice field")
}

/// The nice value of the calling thread.
fn thread_nice() -> i32 {
    nice_in(&std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat"))
}

#[test]
fn the_threads_of_a_pool_run_at_its_nice_value_and_those_of_others_as_the_process() {
    Pools::builder()
        .pool("lowered", PoolConfig::fixed(2).nice(10))
        .pool("lowest", PoolConfig::fixed(1).nice(PoolConfig::MAX_NICE))
        .pool("normal", PoolConfig::fixed(1))
        .install()
        .expect("the test pools install");
    // Tests may run under `nice` themselves: a pool's threads never go above the process.
    let process = nice_in(&std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat"));
    futures::executor::block_on(async {
        let lowered = async_offload::run("lowered", thread_nice).await;
        assert_eq!(lowered, process.max(10));
        let lowest = async_offload::run("lowest", thread_nice).await;
        assert_eq!(lowest, PoolConfig::MAX_NICE);
        let normal = async_offload::run("normal", thread_nice).await;
        assert_eq!(normal, process);
    });
}
