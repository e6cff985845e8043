//! Unit tests of the `OFFLOAD_POOLS` parser (`config::env`).

use std::time::Duration;

use crate::config::env::{Override, parse_overrides};
use crate::config::{PoolConfig, PoolKind};
use crate::error::ConfigError;

/// The single override `spec` must parse to.
fn one(spec: &str) -> Override {
    match parse_overrides(spec) {
        Ok(mut overrides) if overrides.len() == 1 => overrides.remove(0),
        other => panic!("{spec:?} gave {other:?}; expected one override"),
    }
}

/// The `(entry, reason)` of the error `spec` must give.
fn malformed(spec: &str) -> (String, String) {
    match parse_overrides(spec) {
        Err(ConfigError::Malformed { entry, reason }) => (entry, reason),
        other => panic!("{spec:?} gave {other:?}; expected a Malformed error"),
    }
}

/// The reason of the error `spec` must give, checking that its entry is `spec` trimmed.
fn reason(spec: &str) -> String {
    let (entry, reason) = malformed(spec);
    assert_eq!(entry, spec.trim(), "the error names the wrong entry");
    reason
}

/// What `spec` makes of a pool that has no configuration in code.
fn new_pool(spec: &str) -> PoolConfig {
    one(spec).apply(None)
}

#[test]
fn empty_or_blank_means_no_entries() {
    assert_eq!(parse_overrides(""), Ok(Vec::new()));
    assert_eq!(parse_overrides("  \t\n "), Ok(Vec::new()));
}

#[test]
fn a_bare_thread_count() {
    let entry = one("db=16");
    assert_eq!(entry.pool, "db");
    assert_eq!(entry.kind, None);
    assert_eq!(entry.threads, 16);
    assert_eq!(entry.queue_capacity, None);
    assert_eq!(entry.keep_alive, None);
    assert_eq!(entry.stack_size, None);
}

#[test]
fn the_examples_from_the_docs() {
    assert_eq!(new_pool("db=16"), PoolConfig::fixed(16));
    assert_eq!(new_pool("io=elastic:256"), PoolConfig::elastic(256));
    assert_eq!(
        new_pool("db=fixed:16:queue=512"),
        PoolConfig::fixed(16).queue_capacity(512)
    );
    assert_eq!(
        new_pool("io=elastic:128:keep_alive=30s:stack=4MiB"),
        PoolConfig::elastic(128)
            .keep_alive(Duration::from_secs(30))
            .stack_size(4 << 20)
    );
}

#[test]
fn several_entries_keep_their_order() {
    let overrides = parse_overrides("db=16,io=elastic:256,cpu=4").unwrap();
    let names: Vec<&str> = overrides.iter().map(|o| o.pool.as_str()).collect();
    assert_eq!(names, ["db", "io", "cpu"]);
    assert_eq!(overrides[1].kind, Some(PoolKind::Elastic));
    assert_eq!(overrides[2].threads, 4);
}

#[test]
fn white_space_around_entries_and_fields_is_ignored() {
    let spaced = parse_overrides(
        "  db = fixed : 16 : queue = 512 ,\n io =elastic: 8 :keep_alive= 1.5 s : stack = 2 MiB ",
    );
    let tight = parse_overrides("db=fixed:16:queue=512,io=elastic:8:keep_alive=1500ms:stack=2M");
    assert_eq!(spaced, tight);
    assert_eq!(spaced.map(|o| o.len()), Ok(2));
}

#[test]
fn options_come_in_any_order() {
    assert_eq!(
        one("io=elastic:4:stack=1M:queue=3:keep_alive=2m"),
        one("io=elastic:4:keep_alive=120s:queue=3:stack=1MiB")
    );
}

#[test]
fn zero_values_are_left_for_install_to_refuse() {
    let entry = one("db=0:queue=0:stack=0");
    assert_eq!(entry.threads, 0);
    assert_eq!(entry.queue_capacity, Some(0));
    assert_eq!(entry.stack_size, Some(0));
    assert_eq!(
        one("io=elastic:1:keep_alive=0s").keep_alive,
        Some(Duration::ZERO)
    );
}

#[test]
fn a_bare_count_keeps_the_kind_and_settings_from_code() {
    let code = PoolConfig::elastic(8)
        .keep_alive(Duration::from_secs(3))
        .queue_capacity(7)
        .stack_size(1 << 20);
    assert_eq!(
        one("io=32").apply(Some(code.clone())),
        code.clone().with_threads(32)
    );
    assert_eq!(
        one("io=elastic:32").apply(Some(code.clone())),
        code.with_threads(32),
        "stating the same kind keeps the keep-alive"
    );
}

#[test]
fn stated_settings_replace_those_from_code() {
    let code = PoolConfig::fixed(8).queue_capacity(7).stack_size(1 << 20);
    assert_eq!(
        one("db=4:queue=100").apply(Some(code)),
        PoolConfig::fixed(4).queue_capacity(100).stack_size(1 << 20)
    );
}

#[test]
fn a_new_kind_resets_the_keep_alive() {
    let elastic = PoolConfig::elastic(8).keep_alive(Duration::from_secs(3));
    let fixed = one("io=fixed:8").apply(Some(elastic.clone()));
    assert_eq!(fixed.kind(), PoolKind::Fixed);
    assert_eq!(fixed.keep_alive, None);

    let back = one("db=elastic:8").apply(Some(PoolConfig::fixed(2).queue_capacity(5)));
    assert_eq!(back, PoolConfig::elastic(8).queue_capacity(5));
    assert_eq!(back.keep_alive, Some(PoolConfig::DEFAULT_KEEP_ALIVE));

    let stated = one("db=elastic:8:keep_alive=1m").apply(Some(PoolConfig::fixed(2)));
    assert_eq!(stated.keep_alive, Some(Duration::from_secs(60)));
}

#[test]
fn a_keep_alive_on_a_fixed_pool_parses_and_install_refuses_it() {
    let config = new_pool("db=4:keep_alive=5s");
    assert_eq!(config.kind(), PoolKind::Fixed);
    assert_eq!(config.keep_alive, Some(Duration::from_secs(5)));
    assert!(matches!(
        config.validate("db"),
        Err(ConfigError::Invalid {
            setting: "keep_alive",
            ..
        })
    ));
}

#[test]
fn thread_counts_must_be_numbers() {
    assert_eq!(reason("db=x"), "thread count \"x\" is not a number");
    assert_eq!(reason("db=-1"), "thread count \"-1\" is not a number");
    assert_eq!(reason("db=+1"), "thread count \"+1\" is not a number");
    assert_eq!(reason("db=1.5"), "thread count \"1.5\" is not a number");
    assert_eq!(reason("db=fixed:x"), "thread count \"x\" is not a number");
    assert_eq!(reason("db=x:queue=5"), "thread count \"x\" is not a number");
    assert_eq!(reason("db="), "thread count is missing");
    assert_eq!(reason("db=  "), "thread count is missing");
    assert_eq!(reason("db=fixed:"), "thread count is missing");
    assert!(reason("db=99999999999999999999999").contains("is too large"));
}

#[test]
fn a_kind_needs_a_count() {
    assert_eq!(
        reason("db=fixed"),
        "kind \"fixed\" needs a thread count after it, like fixed:16"
    );
    assert!(reason("io=elastic").contains("like elastic:16"));
}

#[test]
fn unknown_kinds() {
    let expected = "unknown kind \"elastik\"; expected \"fixed\" or \"elastic\"";
    assert_eq!(reason("io=elastik:16"), expected);
    assert_eq!(reason("io=elastik:16:queue=4"), expected);
    assert_eq!(reason("io=elastik:x"), expected);
    assert!(reason("io=Fixed:16").contains("unknown kind \"Fixed\""));
    assert!(reason("io=:16").contains("unknown kind \"\""));
}

#[test]
fn the_count_comes_before_the_options() {
    assert_eq!(
        reason("db=queue=5"),
        "expected the thread count before the options, found \"queue=5\""
    );
    assert!(reason("db=fixed:queue=5:16").contains("found \"queue=5\""));
}

#[test]
fn a_missing_equals_sign() {
    let expected = "missing \"=\" between the pool name and its settings, like db=16";
    assert_eq!(reason("db"), expected);
    assert_eq!(reason("db:16"), expected);
    assert_eq!(malformed("db=4, io"), ("io".into(), expected.into()));
}

#[test]
fn unknown_options() {
    assert_eq!(
        reason("db=16:queu=4"),
        "unknown option \"queu\"; expected one of \"queue\", \"keep_alive\", \"stack\", \"spin\", \"nice\", \"when_full\""
    );
    assert!(reason("db=16:stack_size=1M").contains("unknown option \"stack_size\""));
    assert!(reason("db=16:=4").contains("unknown option \"\""));
}

#[test]
fn options_need_a_value() {
    assert!(reason("db=16:32").contains("option \"32\" has no \"=\""));
    assert!(reason("db=16:queue").contains("option \"queue\" has no \"=\""));
    assert_eq!(reason("db=16:queue="), "queue size is missing");
    assert!(reason("db=16:keep_alive=").contains("keep_alive: duration \"\" is empty"));
    assert!(reason("db=16:stack=").contains("stack: size \"\" is empty"));
}

#[test]
fn bad_option_values_are_quoted() {
    assert_eq!(
        reason("db=16:queue=many"),
        "queue size \"many\" is not a number"
    );
    assert_eq!(
        reason("io=elastic:8:keep_alive=30"),
        "keep_alive: duration \"30\" has no unit; add a unit, like 30s"
    );
    assert!(reason("io=elastic:8:keep_alive=30x").contains("unknown unit \"x\""));
    assert!(reason("db=16:stack=4MB").contains("stack: size \"4MB\" has an unknown unit"));
    assert!(reason("db=16:queue=99999999999999999999999").contains("is too large"));
}

#[test]
fn an_option_set_twice() {
    assert_eq!(
        reason("db=16:queue=1:queue=2"),
        "option \"queue\" set twice"
    );
    assert_eq!(
        reason("io=elastic:1:keep_alive=1s:keep_alive=1s"),
        "option \"keep_alive\" set twice"
    );
    assert_eq!(
        reason("db=1:stack=1M:stack=x"),
        "option \"stack\" set twice"
    );
}

#[test]
fn empty_settings_are_refused() {
    assert!(reason("db=16:").contains("remove the extra \":\""));
    assert!(reason("db=16::queue=4").contains("empty setting"));
}

#[test]
fn empty_entries_are_refused() {
    let (entry, reason) = malformed("db=16,,io=4");
    assert_eq!(entry, "");
    assert_eq!(reason, "entry 2 of 3 is empty; remove the extra \",\"");
    assert_eq!(
        malformed("db=16,").1,
        "entry 2 of 2 is empty; remove the extra \",\""
    );
    assert_eq!(
        malformed(",db=16").1,
        "entry 1 of 2 is empty; remove the extra \",\""
    );
    assert_eq!(
        malformed(" , ").1,
        "entry 1 of 2 is empty; remove the extra \",\""
    );
}

#[test]
fn a_pool_named_twice() {
    let (entry, reason) = malformed("db=16, io=4, db = elastic:2");
    assert_eq!(entry, "db = elastic:2");
    assert_eq!(
        reason,
        "the same pool \"db\" appears twice (first in \"db=16\"); give each pool one entry"
    );
}

#[test]
fn names_validate_name_refuses() {
    assert_eq!(
        reason("=16"),
        "pool name \"\" is not allowed: a pool name cannot be empty"
    );
    assert!(reason("my pool=16").contains("pool name \"my pool\" is not allowed"));
    assert!(reason("a\u{7}b=16").contains("control characters"));
}

#[test]
fn a_second_equals_sign_belongs_to_the_settings() {
    assert!(reason("a=b=4").contains("found \"b=4\""));
}

#[test]
fn the_first_bad_entry_is_reported() {
    let (entry, reason) = malformed("db=x,io=y");
    assert_eq!(entry, "db=x");
    assert!(reason.contains("\"x\""));
}

#[test]
fn the_error_displays_entry_and_reason() {
    let error = parse_overrides("db=16:queu=4").unwrap_err();
    assert_eq!(
        error.to_string(),
        "OFFLOAD_POOLS entry \"db=16:queu=4\" is malformed: unknown option \"queu\"; \
         expected one of \"queue\", \"keep_alive\", \"stack\", \"spin\", \"nice\", \"when_full\""
    );
}

#[test]
fn names_may_be_unicode() {
    assert_eq!(one("données=3").pool, "données");
}

#[test]
fn odd_input_never_panics() {
    for spec in [
        ",",
        ",,",
        "=",
        "==",
        ":",
        "=:",
        "=::",
        "db=:",
        "db=::",
        "db=1:=",
        "db=1:==",
        "db=1:queue==1",
        "\u{0}",
        "db=\u{0}",
        "db=1:\u{0}=1",
        "💥=💥",
        "db=1:keep_alive=💥",
        "db=elastic:1:keep_alive=-1s",
        "db=1:stack=-1",
        "db=1,db=1,db=1",
    ] {
        assert!(parse_overrides(spec).is_err(), "{spec:?}");
    }
    let long = "db=1:".repeat(10_000);
    assert!(parse_overrides(&long).is_err());
}

#[test]
fn a_nice_value_is_a_whole_number_with_an_optional_sign_checked_at_install() {
    assert_eq!(new_pool("cpu=2:nice=10"), PoolConfig::fixed(2).nice(10));
    assert_eq!(new_pool("cpu=2:nice=+19"), PoolConfig::fixed(2).nice(19));
    // Out of range parses, and installing it names the pool, the setting and the value.
    let config = new_pool("cpu=2:nice=-5");
    assert_eq!(config, PoolConfig::fixed(2).nice(-5));
    match config.validate("cpu") {
        Err(ConfigError::Invalid {
            pool,
            setting,
            value,
            ..
        }) => assert_eq!(
            (pool.as_str(), setting, value.as_str()),
            ("cpu", "nice", "-5")
        ),
        other => panic!("nice=-5 gave {other:?}"),
    }
    for nice in [PoolConfig::MIN_NICE, 10, PoolConfig::MAX_NICE] {
        assert_eq!(PoolConfig::fixed(2).nice(nice).validate("cpu"), Ok(()));
    }
    assert_eq!(
        reason("cpu=2:nice=low"),
        "nice value \"low\" is not a whole number"
    );
    assert_eq!(
        reason("cpu=2:nice=-"),
        "nice value \"-\" is not a whole number"
    );
    assert_eq!(
        reason("cpu=2:nice=1.5"),
        "nice value \"1.5\" is not a whole number"
    );
    assert_eq!(
        reason("cpu=2:nice=99999999999"),
        "nice value \"99999999999\" is far outside 1..=19"
    );
    assert_eq!(reason("cpu=2:nice=1:nice=2"), "option \"nice\" set twice");
}

#[test]
fn when_full_is_wait_or_refuse() {
    assert_eq!(
        new_pool("render=4:queue=32:when_full=refuse"),
        PoolConfig::fixed(4)
            .queue_capacity(32)
            .refuse_when_full(true)
    );
    assert_eq!(new_pool("render=4:when_full = wait"), PoolConfig::fixed(4));
    // A pool that refuses in code waits again if the entry says so.
    let code = PoolConfig::fixed(2).refuse_when_full(true);
    assert_eq!(
        one("render=4:when_full=wait").apply(Some(code)),
        PoolConfig::fixed(4)
    );
    assert_eq!(
        reason("render=4:when_full=drop"),
        "when_full \"drop\" is neither \"wait\" nor \"refuse\""
    );
    assert_eq!(
        reason("render=4:when_full=wait:when_full=refuse"),
        "option \"when_full\" set twice"
    );
}
