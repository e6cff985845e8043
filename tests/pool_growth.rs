//! Pools size themselves to the load without making their callers pay for it: a call only
//! queues and signals, so a `#[no_block]` of 1 ms around each caller never fires while a
//! cold pool grows to 64 threads for 64 blocking jobs; and jobs that can only finish
//! together (each waits for all the others) each get a thread.

mod common;

use std::sync::{Arc, Barrier};

use async_offload::testing::{collect_stalls, install_pools};
use async_offload::{PoolConfig, Pools, no_block, offload};

/// The pool the test grows: elastic, 64 threads at most, none yet.
const POOL: &str = "grows";
/// Jobs at once, each waiting for all the others: only a thread for each lets them end.
const JOBS: usize = 64;

#[offload(pool = "grows")]
fn wait_for_all(all: Arc<Barrier>) {
    all.wait();
}

/// A caller held to the strictest threshold: its polls may not hold the thread 1 ms.
#[no_block(threshold = "1ms")]
async fn caller(all: Arc<Barrier>) {
    wait_for_all(all).await;
}

#[test]
fn callers_of_a_cold_pool_growing_to_64_threads_never_hold_their_thread() {
    install_pools(Pools::builder().pool(POOL, PoolConfig::elastic(JOBS)))
        .expect("the test's own pool");
    assert_eq!(common::stats_for(POOL).expect("installed").threads, 0);
    let all = Arc::new(Barrier::new(JOBS));
    let stalls = common::multi_thread().block_on(async {
        let callers: Vec<_> = (0..JOBS)
            .map(|_| tokio::spawn(collect_stalls(caller(Arc::clone(&all)))))
            .collect();
        let mut stalls = Vec::new();
        for caller in callers {
            let ((), reports) = caller.await.expect("a caller ends");
            stalls.extend(reports);
        }
        stalls
    });
    assert!(stalls.is_empty(), "{stalls:#?}");
    let stats = common::stats_for(POOL).expect("installed");
    assert_eq!((stats.threads, stats.completed), (JOBS, JOBS as u64));
}
