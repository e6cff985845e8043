//! A pool configured under a name that nearly matches one the program uses (another case,
//! one typing slip) is refused at install, naming both names and where the meant one is
//! used: otherwise the typo makes a pool nobody uses and leaves the meant one as it was.
//!
//! Its own test binary: the program's pools are those its `#[offload]` fns name, and the
//! last install succeeds.

mod common;

use async_offload::{ConfigError, PoolConfig, Pools, offload};

/// The line of the attribute on `load_user`, two lines down.
const LOAD_USER_LINE: u32 = line!() + 2;
/// The pool the tests below misspell.
#[offload(pool = "db")]
fn load_user(id: u64) -> u64 {
    id
}

/// The near miss `install` reports for `builder`.
#[track_caller]
fn near_miss(builder: async_offload::PoolsBuilder) -> (String, String, bool, String) {
    let error = builder.install().expect_err("a near miss");
    let ConfigError::NearMiss {
        configured,
        used,
        uses,
        from_overrides,
    } = &error
    else {
        panic!("expected NearMiss, got {error:?}");
    };
    if used == "db" {
        assert_eq!(uses.len(), 1, "{uses:?}");
        assert_eq!(uses[0].function(), "pool_near_miss::load_user");
        assert_eq!((uses[0].file(), uses[0].line()), (file!(), LOAD_USER_LINE));
    } else {
        assert!(uses.is_empty(), "{uses:?}");
    }
    (
        configured.clone(),
        used.clone(),
        *from_overrides,
        error.to_string(),
    )
}

#[test]
fn near_misses_are_refused_naming_both_pools_and_the_meant_one_is_installed_once_fixed() {
    // OFFLOAD_POOLS="DB=4" (what `.from_env()` applies, as `.overrides` does) while the code
    // configures "db": "DB" would be a new pool, and "db" would keep its 8 threads.
    let (configured, used, from_overrides, message) = near_miss(
        Pools::builder()
            .pool("db", PoolConfig::fixed(8))
            .overrides("DB=4")
            .unwrap(),
    );
    assert_eq!((&*configured, &*used, from_overrides), ("DB", "db", true));
    for expected in [
        "offload pool \"DB\" comes from OFFLOAD_POOLS (read by .from_env())",
        "did you mean \"db\", used by pool_near_miss::load_user (",
        "write the entry as db=... instead",
    ] {
        assert!(message.contains(expected), "{expected:?} not in {message}");
    }
    assert!(
        message.contains(&format!("{}:{LOAD_USER_LINE}", file!())),
        "{message}"
    );

    // One slip in OFFLOAD_POOLS, for a pool nobody configured in code: the same.
    let (configured, used, ..) = near_miss(Pools::builder().overrides("bd=4").unwrap());
    assert_eq!((&*configured, &*used), ("bd", "db"));
    // A built-in pool counts as used.
    let (configured, used, _, message) = near_miss(Pools::builder().overrides("CPU=2").unwrap());
    assert_eq!((&*configured, &*used), ("CPU", "cpu"));
    assert!(
        message.contains("did you mean \"cpu\", the built-in pool?"),
        "{message}"
    );
    // In code, another case is a typo too.
    let (configured, used, from_overrides, message) =
        near_miss(Pools::builder().pool("Db", PoolConfig::fixed(2)));
    assert_eq!((&*configured, &*used, from_overrides), ("Db", "db", false));
    assert!(
        message.contains("configure .pool(\"db\", ...) instead"),
        "{message}"
    );

    // One slip in code, with "db" left unconfigured: the unknown use says which name was
    // configured instead.
    let error = Pools::builder()
        .pool("dbs", PoolConfig::fixed(2))
        .install()
        .expect_err("\"db\" is not configured");
    assert!(
        matches!(&error, ConfigError::UnknownPools { uses, .. } if uses[0].pool() == "db"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(", not \"dbs\" as configured: did you mean \"db\"?"),
        "{error}"
    );

    // A pool configured in code one slip away from a used one, next to it, may be meant
    // (one used only through `run`): installed.
    Pools::builder()
        .pool("db", PoolConfig::fixed(1))
        .pool("gpu", PoolConfig::fixed(1))
        .overrides("db=2")
        .unwrap()
        .install()
        .unwrap();
    let thread = futures::executor::block_on(async_offload::run("gpu", common::thread_name));
    assert_eq!(thread, "offload-gpu-0");
    assert_eq!(futures::executor::block_on(load_user(7)), 7);
}
