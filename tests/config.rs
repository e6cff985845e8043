//! Pool configuration: what is refused, with which message, and what installing does.

mod common;

use std::time::Duration;

use async_offload::{ConfigError, OffloadError, PoolConfig, PoolKind, Pools};

/// The error installing `config` under `name` gives (nothing is installed on an error).
fn install_error(name: &str, config: PoolConfig) -> ConfigError {
    Pools::builder()
        .pool(name, config)
        .install()
        .expect_err("an invalid configuration")
}

/// Checks that `error` is `Invalid` for `pool`'s `setting` and that its message names the
/// pool and the value.
fn assert_invalid(error: &ConfigError, pool: &str, setting: &str, value: &str) {
    let ConfigError::Invalid {
        pool: got_pool,
        setting: got_setting,
        value: got_value,
        ..
    } = error
    else {
        panic!("expected Invalid, got {error:?}");
    };
    assert_eq!((got_pool.as_str(), *got_setting), (pool, setting));
    assert_eq!(got_value, value);
    let message = error.to_string();
    assert!(message.contains(&format!("{pool:?}")), "{message}");
    assert!(message.contains(value), "{message}");
}

#[test]
fn invalid_values_are_errors_naming_the_pool_and_the_value() {
    let error = install_error("db", PoolConfig::fixed(0));
    assert_invalid(&error, "db", "threads", "0");
    let error = install_error("io", PoolConfig::elastic(4).queue_capacity(0));
    assert_invalid(&error, "io", "queue_capacity", "0");
    let error = install_error(
        "db",
        PoolConfig::fixed(2).keep_alive(Duration::from_secs(3)),
    );
    assert_invalid(&error, "db", "keep_alive", "3s");
    let error = install_error("io", PoolConfig::elastic(2).keep_alive(Duration::ZERO));
    assert_invalid(&error, "io", "keep_alive", "0ns");
    let error = install_error("db", PoolConfig::fixed(2).stack_size(1024));
    assert_invalid(&error, "db", "stack_size", "1024");
    let error = install_error("db", PoolConfig::fixed(2).spin(Duration::from_millis(5)));
    assert_invalid(&error, "db", "spin", "5ms");
    for nice in [0, 20, -5] {
        let error = install_error("cpu", PoolConfig::fixed(2).nice(nice));
        assert_invalid(&error, "cpu", "nice", &nice.to_string());
    }
    let error = install_error("my pool", PoolConfig::fixed(2));
    assert_invalid(&error, "my pool", "name", "\"my pool\"");
}

#[test]
fn a_malformed_offload_pools_entry_is_an_error_quoting_it() {
    for (spec, entry, part) in [
        ("db=sixteen", "db=sixteen", "\"sixteen\""),
        ("db=4,io=elastik:16", "io=elastik:16", "\"elastik\""),
        ("db=4:queu=8", "db=4:queu=8", "\"queu\""),
        ("db", "db", "="),
        (
            "io=elastic:8:keep_alive=30",
            "io=elastic:8:keep_alive=30",
            "\"30\"",
        ),
    ] {
        let error = Pools::builder().overrides(spec).expect_err(spec);
        let ConfigError::Malformed {
            entry: got_entry,
            reason,
        } = &error
        else {
            panic!("{spec}: expected Malformed, got {error:?}");
        };
        assert_eq!(got_entry, entry, "{spec}");
        assert!(reason.contains(part), "{spec}: {reason}");
        assert!(error.to_string().contains(entry), "{error}");
    }
}

#[test]
fn overrides_change_only_what_they_state() {
    let builder = Pools::builder()
        .pool("db", PoolConfig::fixed(8).queue_capacity(256))
        .pool(
            "io",
            PoolConfig::elastic(128).keep_alive(Duration::from_secs(30)),
        )
        .overrides("db=16, io=elastic:64, batch=elastic:4:queue=8:spin=50us, cpu=3")
        .unwrap();
    assert_eq!(
        builder.config("db"),
        Some(&PoolConfig::fixed(16).queue_capacity(256))
    );
    assert_eq!(
        builder.config("io"),
        Some(&PoolConfig::elastic(64).keep_alive(Duration::from_secs(30)))
    );
    assert_eq!(
        builder.config("batch"),
        Some(
            &PoolConfig::elastic(4)
                .queue_capacity(8)
                .spin(Duration::from_micros(50))
        )
    );
    // A built-in pool is overridden from its built-in configuration.
    assert_eq!(
        builder.config("cpu").map(PoolConfig::kind),
        Some(PoolKind::Fixed)
    );
    assert_eq!(builder.config("cpu").map(PoolConfig::threads), Some(3));
}

#[test]
fn installing_checks_everything_first_and_never_changes_an_installed_pool() {
    // A built-in pool that has run a job cannot be replaced any more.
    futures::executor::block_on(async_offload::run("cpu", || ()));
    let error = Pools::builder()
        .pool("fresh", PoolConfig::fixed(1))
        .pool("cpu", PoolConfig::fixed(2))
        .install()
        .unwrap_err();
    assert_eq!(error, ConfigError::InUse { pool: "cpu".into() });
    assert!(error.to_string().contains("\"cpu\""), "{error}");

    let error = Pools::builder()
        .pool("fresh", PoolConfig::fixed(1))
        .pool("fresh", PoolConfig::fixed(2))
        .install()
        .unwrap_err();
    assert_eq!(
        error,
        ConfigError::Duplicate {
            pool: "fresh".into()
        }
    );

    let error = Pools::builder()
        .pool("fresh", PoolConfig::fixed(1))
        .pool("broken", PoolConfig::fixed(0))
        .install()
        .unwrap_err();
    assert!(matches!(&error, ConfigError::Invalid { pool, .. } if pool == "broken"));

    // None of the refused installs put anything in place.
    let unknown = futures::executor::block_on(async_offload::try_run("fresh", || ()));
    assert!(matches!(unknown, Err(OffloadError::UnknownPool { .. })));

    Pools::builder()
        .pool("fresh", PoolConfig::fixed(1))
        .pool("spare", PoolConfig::fixed(1))
        .pool("default", PoolConfig::elastic(4)) // not used yet: may be replaced
        .install()
        .unwrap();
    let thread = futures::executor::block_on(async_offload::run("fresh", common::thread_name));
    assert_eq!(thread, "offload-fresh-0");
    // Nothing names "spare": installed all the same.
    let spare = futures::executor::block_on(async_offload::run("spare", common::thread_name));
    assert_eq!(spare, "offload-spare-0");

    // A later install adds pools with new names, and accepts the same configuration of an
    // installed pool again, changing nothing.
    Pools::builder()
        .pool("other", PoolConfig::fixed(1))
        .pool("fresh", PoolConfig::fixed(1))
        .install()
        .expect("a new pool, and an installed one unchanged");
    let thread = futures::executor::block_on(async_offload::run("other", common::thread_name));
    assert_eq!(thread, "offload-other-0");
    // A change to an installed pool is refused, naming it, and installs nothing else.
    let changed = Pools::builder()
        .pool("late", PoolConfig::fixed(1))
        .pool("fresh", PoolConfig::fixed(2))
        .install()
        .unwrap_err();
    assert_eq!(
        changed,
        ConfigError::AlreadyInstalled {
            pool: "fresh".into(),
            installed: Box::new(PoolConfig::fixed(1)),
            requested: Box::new(PoolConfig::fixed(2)),
        }
    );
    // The message names the setting that differs, and is what `main` prints for it.
    let message = changed.to_string();
    assert_eq!(
        message,
        "offload pool \"fresh\" is already installed and keeps its configuration: threads 1 \
         (installed), 2 (asked for). Install it once with one configuration, or give the \
         other configuration a pool of its own"
    );
    assert_eq!(format!("{changed:?}"), message);
    let late = futures::executor::block_on(async_offload::try_run("late", || ()));
    assert!(
        matches!(late, Err(OffloadError::UnknownPool { .. })),
        "nothing was installed"
    );
    // The replaced built-in pool is an installed pool like the others.
    let default = Pools::builder()
        .pool("default", PoolConfig::elastic(8))
        .install()
        .unwrap_err();
    assert!(matches!(&default, ConfigError::AlreadyInstalled { pool, .. } if pool == "default"));
}

/// The variable the child process reads; see `from_env_reads_offload_pools`.
const CHILD_TEST: &str = "from_env_in_a_child_process";

#[test]
fn from_env_reads_offload_pools() {
    // The environment of this process is shared by every test in it: the check runs in a
    // child process with the variable set.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--ignored", "--test-threads=1"])
        .env("OFFLOAD_POOLS", "db=3, io=elastic:5:keep_alive=2s")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");

    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--ignored", "--test-threads=1"])
        .env("OFFLOAD_POOLS", "db=3,,io=4")
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "a malformed variable fails the child"
    );
}

#[test]
#[ignore = "run by from_env_reads_offload_pools, in a child process with OFFLOAD_POOLS set"]
fn from_env_in_a_child_process() {
    let builder = Pools::builder()
        .pool("db", PoolConfig::fixed(8).queue_capacity(16))
        .from_env()
        .expect("OFFLOAD_POOLS parses");
    assert_eq!(
        builder.config("db"),
        Some(&PoolConfig::fixed(3).queue_capacity(16))
    );
    assert_eq!(
        builder.config("io"),
        Some(&PoolConfig::elastic(5).keep_alive(Duration::from_secs(2)))
    );
}
