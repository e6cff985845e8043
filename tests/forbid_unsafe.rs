//! A crate that forbids unsafe code uses `#[offload(pool = "...")]` cleanly: the pool
//! registrations the attribute emits (statics collected at link time) compile under
//! `#![forbid(unsafe_code)]`, and the start-up check sees every one of them, on a free fn,
//! an associated fn and a method. So does `#[no_block]`'s site (with `release-stalls`, a
//! static in the link-time list too).
//!
//! Its own test binary: it installs the pools it names.

#![forbid(unsafe_code)]

use async_offload::{ConfigError, PoolConfig, Pools, no_block, offload};

#[offload(pool = "forbid-free")]
fn free(value: u32) -> u32 {
    value + 1
}

struct Store {
    factor: u32,
}

impl Store {
    #[offload(pool = "forbid-associated")]
    fn new(factor: u32) -> Self {
        Store { factor }
    }

    #[offload(pool = "forbid-method")]
    fn times(self, value: u32) -> u32 {
        self.factor * value
    }
}

#[no_block(threshold = "1s")]
async fn handler(value: u32) -> u32 {
    free(value).await
}

#[test]
fn every_registration_is_seen_and_the_fns_run_once_their_pools_exist() {
    let error = Pools::builder()
        .install()
        .expect_err("the three pools are not configured yet");
    let ConfigError::UnknownPools { uses, .. } = &error else {
        panic!("expected UnknownPools, got {error:?}");
    };
    let mut seen: Vec<(&str, &str)> = uses
        .iter()
        .map(|usage| (usage.pool(), usage.function()))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("forbid-associated", "forbid_unsafe::new"),
            ("forbid-free", "forbid_unsafe::free"),
            ("forbid-method", "forbid_unsafe::times"),
        ]
    );

    Pools::builder()
        .pool("forbid-free", PoolConfig::fixed(1))
        .pool("forbid-associated", PoolConfig::fixed(1))
        .pool("forbid-method", PoolConfig::fixed(1))
        .install()
        .expect("every use now has its pool");

    futures::executor::block_on(async {
        assert_eq!(handler(1).await, 2);
        let store = Store::new(3).await;
        assert_eq!(store.times(5).await, 15);
    });
}
