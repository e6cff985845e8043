//! `PoolConfig` and maps of pools read from TOML, as an application's configuration file
//! would hold them (the `serde` feature).

use std::collections::HashMap;
use std::time::Duration;

use async_offload::{PoolConfig, PoolKind};
use serde::Deserialize;

/// An application's configuration with its pools in a `[pools]` table.
#[derive(Debug, Deserialize)]
struct AppConfig {
    /// Each pool by name.
    pools: HashMap<String, PoolConfig>,
}

/// A configuration holding one pool, as an inline table.
#[derive(Debug, Deserialize)]
struct OnePool {
    /// The pool.
    pool: PoolConfig,
}

/// Reads `pool = <table>`.
fn pool(table: &str) -> Result<PoolConfig, String> {
    toml::from_str::<OnePool>(&format!("pool = {table}"))
        .map(|config| config.pool)
        .map_err(|error| error.to_string())
}

/// The message of the error that reading `pool = <table>` must give.
fn pool_error(table: &str) -> String {
    match pool(table) {
        Ok(config) => panic!("{table} gave {config:?}; expected an error"),
        Err(message) => message,
    }
}

#[test]
fn a_fixed_pool_from_an_inline_table() {
    assert_eq!(
        pool(r#"{ kind = "fixed", threads = 8, queue_capacity = 256 }"#),
        Ok(PoolConfig::fixed(8).queue_capacity(256))
    );
}

#[test]
fn an_elastic_pool_with_a_keep_alive_and_a_stack_size() {
    assert_eq!(
        pool(r#"{ kind = "elastic", threads = 128, keep_alive = "30s", stack_size = "2MiB" }"#),
        Ok(PoolConfig::elastic(128)
            .keep_alive(Duration::from_secs(30))
            .stack_size(2 * 1024 * 1024))
    );
}

#[test]
fn a_stack_size_as_a_plain_integer() {
    assert_eq!(
        pool(r#"{ kind = "fixed", threads = 2, stack_size = 1048576 }"#),
        Ok(PoolConfig::fixed(2).stack_size(1 << 20))
    );
}

#[test]
fn an_elastic_pool_keeps_the_default_keep_alive() {
    assert_eq!(
        pool(r#"{ kind = "elastic", threads = 4 }"#),
        Ok(PoolConfig::elastic(4))
    );
}

#[test]
fn a_map_of_pools_from_tables() {
    let config: AppConfig = toml::from_str(
        r#"
        [pools.db]
        kind = "fixed"
        threads = 8
        queue_capacity = 256

        [pools.io]
        kind = "elastic"
        threads = 128
        keep_alive = "1.5m"
        stack_size = "4MiB"
        "#,
    )
    .expect("a valid configuration");
    assert_eq!(config.pools.len(), 2);
    assert_eq!(config.pools["db"], PoolConfig::fixed(8).queue_capacity(256));
    assert_eq!(config.pools["io"].kind(), PoolKind::Elastic);
    assert_eq!(
        config.pools["io"],
        PoolConfig::elastic(128)
            .keep_alive(Duration::from_secs(90))
            .stack_size(4 << 20)
    );
}

#[test]
fn kind_and_threads_are_required() {
    assert!(pool_error("{ threads = 8 }").contains("missing field `kind`"));
    assert!(pool_error(r#"{ kind = "fixed" }"#).contains("missing field `threads`"));
}

#[test]
fn unknown_fields_are_refused() {
    let message = pool_error(r#"{ kind = "fixed", threads = 8, queue = 256 }"#);
    assert!(message.contains("unknown field `queue`"), "{message}");
}

#[test]
fn an_unknown_kind_is_refused() {
    let message = pool_error(r#"{ kind = "elastik", threads = 8 }"#);
    assert!(message.contains("elastik"), "{message}");
}

#[test]
fn a_bad_duration_gives_the_parser_message() {
    let message = pool_error(r#"{ kind = "elastic", threads = 8, keep_alive = "30" }"#);
    assert!(
        message.contains("duration \"30\" has no unit; add a unit, like 30s"),
        "{message}"
    );
}

#[test]
fn a_bad_size_gives_the_parser_message() {
    let message = pool_error(r#"{ kind = "fixed", threads = 8, stack_size = "2MB" }"#);
    assert!(
        message.contains("size \"2MB\" has an unknown unit \"MB\""),
        "{message}"
    );
}

#[test]
fn a_negative_stack_size_is_refused() {
    let message = pool_error(r#"{ kind = "fixed", threads = 8, stack_size = -1 }"#);
    assert!(message.contains("-1"), "{message}");
}

#[test]
fn an_error_in_a_map_points_at_the_bad_value() {
    let error = toml::from_str::<AppConfig>(
        r#"
        [pools.db]
        kind = "fixed"
        threads = 8

        [pools.io]
        kind = "elastic"
        threads = 8
        keep_alive = "10 sec"
        "#,
    )
    .expect_err("\"sec\" is not a unit");
    let message = error.to_string();
    assert!(message.contains("line 9"), "{message}");
    assert!(message.contains("keep_alive = \"10 sec\""), "{message}");
    assert!(message.contains("unknown unit \"sec\""), "{message}");
}

#[test]
fn zero_values_are_read_and_left_for_install_to_refuse() {
    assert_eq!(
        pool(r#"{ kind = "fixed", threads = 0, queue_capacity = 0 }"#),
        Ok(PoolConfig::fixed(0).queue_capacity(0))
    );
}

#[test]
fn a_lowered_priority_and_refusing_when_full() {
    assert_eq!(
        pool(r#"{ kind = "fixed", threads = 2, nice = 10, refuse_when_full = true }"#),
        Ok(PoolConfig::fixed(2).nice(10).refuse_when_full(true))
    );
    assert_eq!(
        pool(r#"{ kind = "fixed", threads = 2, refuse_when_full = false }"#),
        Ok(PoolConfig::fixed(2))
    );
    let message = pool_error(r#"{ kind = "fixed", threads = 2, nice = "low" }"#);
    assert!(message.contains("nice"), "{message}");
}
