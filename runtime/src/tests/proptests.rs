//! Property tests of the configuration read from text: `OFFLOAD_POOLS` (`parse_overrides`),
//! the durations and sizes in it and in `OFFLOAD_STALL_THRESHOLD` (`parse_duration`,
//! `parse_bytes`), and `OFFLOAD_STALL` (`parse_mode`).
//!
//! Whatever the text, each parser returns a value or an error that quotes the bad part,
//! and never panics. Text comes three ways: any Unicode, strings over the parsers' own
//! alphabet, and strings put together from fragments of the grammar (with mistakes in
//! them). Where the right answer is known (text made from a value), it must be that value.

use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;

use crate::config::PoolConfig;
use crate::config::env::parse_overrides;
use crate::error::ConfigError;
use crate::stall::{Mode, parse_mode};
use async_offload_rules::{parse_bytes, parse_duration};

/// Cases per property unless `PROPTEST_CASES` says otherwise: the parsers take
/// microseconds, so this keeps the whole file at a few seconds in a debug build.
const CASES: u32 = 4_000;

/// The configuration of every property here: [`CASES`] cases, or `PROPTEST_CASES`.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CASES;
    }
    config
}

/// Words the parsers' messages quote of their own (units, kinds, options, separators),
/// rather than from the text they were given.
const OWN_WORDS: &[&str] = &[
    "=",
    ",",
    ":",
    "fixed",
    "elastic",
    "queue",
    "keep_alive",
    "stack",
    "spin",
    "nice",
    "when_full",
    "wait",
    "refuse",
    "ns",
    "us",
    "µs",
    "ms",
    "s",
    "m",
    "h",
    "KiB",
    "MiB",
    "GiB",
    "K",
    "M",
    "G",
];

/// Pieces of `OFFLOAD_POOLS` text, right and wrong, to put together.
const POOL_FRAGMENTS: &[&str] = &[
    "db",
    "io",
    "cpu",
    "default",
    "données",
    "=",
    "==",
    ",",
    ":",
    "::",
    " ",
    "\t",
    "16",
    "0",
    "1",
    "007",
    "-1",
    "+1",
    "1.5",
    "99999999999999999999999",
    "fixed",
    "elastic",
    "Fixed",
    "elastik",
    "fixed:",
    "elastic:",
    "queue",
    "queue=",
    "queue=512",
    "queue=0",
    "keep_alive",
    "keep_alive=",
    "keep_alive=30s",
    "keep_alive=1.5m",
    "keep_alive=30",
    "keep_alive=-1s",
    "keep_alive=0.0000000001s",
    "stack",
    "stack=",
    "stack=4MiB",
    "stack=4MB",
    "stack=1.5M",
    "stack=-1",
    "nice",
    "nice=",
    "nice=10",
    "nice=-3",
    "nice=+",
    "nice=1.5",
    "when_full",
    "when_full=",
    "when_full=refuse",
    "when_full=wait",
    "when_full=Refuse",
    "µs",
    "ms",
    "s",
    "KiB",
    "💥",
    "\u{0}",
    "\u{feff}",
    "\u{301}",
    "\"",
    "\\",
];

/// Pieces of durations and sizes, right and wrong.
const NUMBER_FRAGMENTS: &[&str] = &[
    "0",
    "1",
    "9",
    "10",
    "007",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    ".",
    "..",
    "-",
    "+",
    " ",
    "\t",
    "e3",
    "_",
    "ns",
    "us",
    "µs",
    "\u{3bc}s",
    "ms",
    "s",
    "m",
    "h",
    "S",
    "sec",
    "K",
    "KiB",
    "M",
    "MiB",
    "G",
    "GiB",
    "TiB",
    "B",
    "💥",
    "\u{0}",
    "\u{200b}",
];

/// Text of each kind: any Unicode, the parsers' alphabet, or grammar fragments.
fn text(fragments: &'static [&'static str], alphabet: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        alphabet,
        prop::collection::vec(select(fragments), 0..12).prop_map(|parts| parts.concat()),
    ]
    .boxed()
}

/// The parts of `message` between double quotes, as written (escapes and all).
fn quoted_parts(message: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = None;
    let mut escaped = false;
    for (at, c) in message.char_indices() {
        match (c, start, escaped) {
            (_, Some(_), true) => escaped = false,
            ('\\', Some(_), false) => escaped = true,
            ('"', None, _) => start = Some(at + 1),
            ('"', Some(from), false) => {
                parts.push(&message[from..at]);
                start = None;
            }
            _ => {}
        }
    }
    parts
}

/// Checks that every quoted part of `message` is a piece of `input` (as `{:?}` writes it)
/// or one of the parsers' own words: a message quotes what it refused, not something else.
fn quotes_only_the_input(message: &str, input: &str) -> Result<(), TestCaseError> {
    let written = format!("{input:?}");
    let inner = &written[1..written.len() - 1];
    for part in quoted_parts(message) {
        prop_assert!(
            inner.contains(part) || OWN_WORDS.contains(&part),
            "{message:?} quotes {part:?}, which is not in {input:?}"
        );
    }
    Ok(())
}

/// What any text gives `parse_overrides`: overrides for valid names that the text holds,
/// or a `Malformed` error naming one of its entries, quoting it and parts of the text only.
fn check_overrides(spec: &str) -> Result<(), TestCaseError> {
    match parse_overrides(spec) {
        Ok(overrides) => {
            let mut names: Vec<&str> = overrides.iter().map(|o| o.pool.as_str()).collect();
            for name in &names {
                prop_assert!(crate::config::validate_name(name).is_ok(), "{name:?}");
                prop_assert!(spec.contains(name), "{name:?} is not in {spec:?}");
            }
            names.sort_unstable();
            let count = names.len();
            names.dedup();
            prop_assert_eq!(names.len(), count, "a pool twice in {:?}", spec);
            if spec.trim().is_empty() {
                prop_assert_eq!(count, 0);
            } else {
                prop_assert_eq!(count, spec.split(',').count());
            }
        }
        Err(error @ ConfigError::Malformed { .. }) => {
            let ConfigError::Malformed { entry, reason } = &error else {
                unreachable!()
            };
            prop_assert!(
                spec.split(',').any(|written| written.trim() == entry),
                "{entry:?} is not an entry of {spec:?}"
            );
            prop_assert!(!reason.is_empty());
            let message = error.to_string();
            prop_assert!(
                message.contains(&format!("{entry:?}")),
                "{message:?} does not quote the entry"
            );
            quotes_only_the_input(reason, spec)?;
        }
        Err(other) => prop_assert!(false, "{spec:?} gave {other:?}, not Malformed"),
    }
    Ok(())
}

/// What any text gives `parse_duration`: a duration, or an error quoting the text.
fn check_duration(text: &str) -> Result<(), TestCaseError> {
    match parse_duration(text) {
        Ok(duration) => {
            // The same value, written in whole nanoseconds, reads back the same.
            prop_assert_eq!(
                parse_duration(&format!("{}ns", duration.as_nanos())),
                Ok(duration)
            );
        }
        Err(message) => {
            let quoted = format!("duration {:?} ", text.trim());
            prop_assert!(message.starts_with(&quoted), "{message:?} for {text:?}");
            quotes_only_the_input(&message, text)?;
        }
    }
    Ok(())
}

/// What any text gives `parse_bytes`: a size, or an error quoting the text.
fn check_bytes(text: &str) -> Result<(), TestCaseError> {
    match parse_bytes(text) {
        Ok(bytes) => prop_assert_eq!(parse_bytes(&bytes.to_string()), Ok(bytes)),
        Err(message) => {
            let quoted = format!("size {:?} ", text.trim());
            prop_assert!(message.starts_with(&quoted), "{message:?} for {text:?}");
            quotes_only_the_input(&message, text)?;
        }
    }
    Ok(())
}

/// White space the grammar allows around names, fields and values.
fn space() -> impl Strategy<Value = &'static str> {
    select(&["", "", "", " ", "  ", "\t", " \n "][..])
}

/// A duration and a way of writing it that means exactly that duration.
fn written_duration() -> impl Strategy<Value = (Duration, String)> {
    let units: &[(&str, u128)] = &[
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ];
    (
        any::<u64>(),
        0..1_000_000_000u32,
        select(units),
        space(),
        0..4usize,
    )
        .prop_map(|(secs, nanos, (unit, unit_nanos), gap, zeros)| {
            let total = Duration::new(secs, nanos).as_nanos();
            let (whole, rest) = (total / unit_nanos, total % unit_nanos);
            // Decimals of a unit of 10^digits ns are exact to the nanosecond; those of a
            // minute or an hour are not always, so those get whole units only.
            let digits = unit_nanos.to_string().len() - 1;
            let decimal = 10u128.pow(u32::try_from(digits).unwrap()) == unit_nanos;
            if rest != 0 && decimal {
                let zeros = "0".repeat(zeros);
                let text = format!("{whole}.{rest:0digits$}{zeros}{gap}{unit}");
                (Duration::new(secs, nanos), text)
            } else {
                (from_nanos(total - rest), format!("{whole}{gap}{unit}"))
            }
        })
}

/// A duration of `nanos` nanoseconds, which must fit.
fn from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).expect("fits a Duration");
    Duration::new(secs, u32::try_from(nanos % 1_000_000_000).unwrap())
}

/// A size and a way of writing it that means exactly that size.
fn written_size() -> impl Strategy<Value = (usize, String)> {
    let units: &[(&str, usize)] = &[
        ("", 1),
        ("K", 1 << 10),
        ("KiB", 1 << 10),
        ("M", 1 << 20),
        ("MiB", 1 << 20),
        ("G", 1 << 30),
        ("GiB", 1 << 30),
    ];
    (any::<usize>(), select(units), space()).prop_map(|(count, (unit, scale), gap)| {
        let count = count / scale;
        (count * scale, format!("{count}{gap}{unit}"))
    })
}

/// One valid `OFFLOAD_POOLS` entry for the pool `name`, written with random spacing and
/// option order, and the configuration it gives a pool that only it configures.
fn written_entry(name: String) -> impl Strategy<Value = (String, PoolConfig)> {
    (
        select(&[None, Some("fixed"), Some("elastic")][..]),
        0..100_000usize,
        prop::option::of(0..100_000usize),
        prop::option::of(written_duration()),
        prop::option::of(written_size()),
        prop::option::of(written_duration()),
        prop::option::of((-30..30i32, select(&["", "+"][..]))),
        prop::option::of(any::<bool>()),
        any::<prop::sample::Index>(),
        prop::collection::vec(space(), 20),
    )
        .prop_map(
            move |(kind, threads, queue, keep_alive, stack, spin, nice, refuse, order, gaps)| {
                let mut gaps = gaps.into_iter();
                let mut gap = || gaps.next().unwrap_or_default();
                let mut config = match kind {
                    Some("elastic") => PoolConfig::elastic(threads),
                    _ => PoolConfig::fixed(threads),
                };
                let mut options = Vec::new();
                if let Some(capacity) = queue {
                    config = config.queue_capacity(capacity);
                    options.push(format!("queue{}={}{capacity}", gap(), gap()));
                }
                if let Some((idle, written)) = keep_alive {
                    config = config.keep_alive(idle);
                    options.push(format!("keep_alive{}={}{written}", gap(), gap()));
                }
                if let Some((bytes, written)) = stack {
                    config = config.stack_size(bytes);
                    options.push(format!("stack{}={}{written}", gap(), gap()));
                }
                if let Some((spin, written)) = spin {
                    config = config.spin(spin);
                    options.push(format!("spin{}={}{written}", gap(), gap()));
                }
                if let Some((nice, plus)) = nice {
                    config = config.nice(nice);
                    let sign = if nice >= 0 { plus } else { "" };
                    options.push(format!("nice{}={}{sign}{nice}", gap(), gap()));
                }
                if let Some(refuse) = refuse {
                    config = config.refuse_when_full(refuse);
                    let when = if refuse { "refuse" } else { "wait" };
                    options.push(format!("when_full{}={}{when}", gap(), gap()));
                }
                if !options.is_empty() {
                    let turn = order.index(options.len());
                    options.rotate_left(turn);
                }
                let mut text = format!("{}{name}{}={}", gap(), gap(), gap());
                if let Some(kind) = kind {
                    text.push_str(&format!("{kind}{}:{}", gap(), gap()));
                }
                text.push_str(&threads.to_string());
                for option in options {
                    text.push_str(&format!("{}:{}{option}", gap(), gap()));
                }
                text.push_str(gap());
                (text, config)
            },
        )
}

/// Pool names `OFFLOAD_POOLS` can write.
fn pool_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.-][a-zA-Z0-9_.é-]{0,11}"
}

/// Entries that are wrong, each for one reason, naming the pool `bad`.
const BAD_ENTRIES: &[&str] = &[
    "",
    "bad",
    "bad:16",
    "bad=",
    "bad=x",
    "bad=-1",
    "bad=fixed",
    "bad=elastik:4",
    "bad=queue=4",
    "bad=4:",
    "bad=4::queue=1",
    "bad=4:queu=1",
    "bad=4:queue",
    "bad=4:queue=",
    "bad=4:queue=1:queue=1",
    "bad=4:keep_alive=10",
    "bad=4:keep_alive=1.5ns",
    "bad=4:keep_alive=99999999999999999999999h",
    "bad=4:stack=4MB",
    "bad=4:stack=1.5M",
    "bad=4:spin=1",
    "bad=4:spin=1ms:spin=1ms",
    "bad=4:nice=",
    "bad=4:nice=high",
    "bad=4:nice=--1",
    "bad=4:nice=99999999999",
    "bad=4:nice=1:nice=1",
    "bad=4:when_full=",
    "bad=4:when_full=drop",
    "bad=4:when_full=wait:when_full=wait",
    "bad=99999999999999999999999",
    "b ad=4",
    "=4",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_pools_text_gives_overrides_or_an_error_quoting_its_entry(
        spec in text(POOL_FRAGMENTS, "[a-z0-9=:,. \t_µé-]{0,40}")
    ) {
        check_overrides(&spec)?;
    }

    #[test]
    fn any_mode_text_gives_the_mode_it_names_or_an_error_quoting_it(
        text in text(&["panic", "warn", "off", "PANIC", " Warn ", "of", "panics"], "[a-zA-Z \t]{0,8}")
    ) {
        let expected = match text.trim().to_ascii_lowercase().as_str() {
            "panic" => Some(Mode::Panic),
            "warn" => Some(Mode::Warn),
            "off" => Some(Mode::Off),
            _ => None,
        };
        match (parse_mode(&text), expected) {
            (Ok(mode), Some(expected)) => prop_assert_eq!(mode, expected),
            (Err(message), None) => {
                prop_assert!(message.contains(&format!("{text:?}")), "{} does not quote {:?}", message, text);
            }
            (got, expected) => prop_assert!(false, "{:?} gave {:?}, expected {:?}", text, got, expected),
        }
    }

    #[test]
    fn any_duration_text_gives_a_duration_or_an_error_quoting_it(
        text in text(NUMBER_FRAGMENTS, "[0-9. \tnumshµ-]{0,24}")
    ) {
        check_duration(&text)?;
    }

    #[test]
    fn any_size_text_gives_a_size_or_an_error_quoting_it(
        text in text(NUMBER_FRAGMENTS, "[0-9. \tKMGiB-]{0,24}")
    ) {
        check_bytes(&text)?;
    }

    #[test]
    fn a_written_duration_reads_back_exactly((duration, text) in written_duration()) {
        prop_assert_eq!(parse_duration(&text), Ok(duration), "{:?}", text);
        prop_assert_eq!(parse_duration(&format!(" {text}\t")), Ok(duration));
    }

    #[test]
    fn a_written_size_reads_back_exactly((bytes, text) in written_size()) {
        prop_assert_eq!(parse_bytes(&text), Ok(bytes), "{:?}", text);
    }

    #[test]
    fn a_number_and_a_unit_give_their_exact_value_or_say_why_not(
        whole in "[0-9]{1,25}",
        fraction in prop::option::of("[0-9]{1,12}"),
        zeros in 0..30usize,
        (unit, unit_nanos) in select(&[
            ("ns", 1u128), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
            ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ][..]),
    ) {
        let text = match &fraction {
            Some(fraction) => format!("{whole}.{fraction}{}{unit}", "0".repeat(zeros)),
            None => format!("{whole}{unit}"),
        };
        let fraction = fraction.unwrap_or_default();
        let scale = 10u128.pow(u32::try_from(fraction.len()).unwrap());
        let fraction_scaled = fraction.parse::<u128>().unwrap_or(0) * unit_nanos;
        let parsed = parse_duration(&text);
        if fraction_scaled % scale != 0 {
            let message = parsed.expect_err("finer than a nanosecond");
            prop_assert!(message.contains("more precise than a nanosecond"), "{}", message);
        } else {
            let nanos = whole.parse::<u128>().unwrap() * unit_nanos + fraction_scaled / scale;
            match u64::try_from(nanos / 1_000_000_000) {
                Ok(_) => prop_assert_eq!(parsed, Ok(from_nanos(nanos)), "{:?}", text),
                Err(_) => {
                    let message = parsed.expect_err("beyond Duration::MAX");
                    prop_assert!(message.contains("is too large"), "{}", message);
                }
            }
        }
    }

    #[test]
    fn written_pools_read_back_exactly(
        entries in prop::collection::btree_set(pool_name(), 1..5)
            .prop_flat_map(|names| names.into_iter().map(written_entry).collect::<Vec<_>>())
    ) {
        let spec = entries.iter().map(|(text, _)| text.as_str()).collect::<Vec<_>>().join(",");
        let overrides = parse_overrides(&spec)
            .map_err(|error| TestCaseError::fail(format!("{spec:?}: {error}")))?;
        prop_assert_eq!(overrides.len(), entries.len());
        for (parsed, (text, config)) in overrides.iter().zip(&entries) {
            prop_assert!(text.contains(&parsed.pool));
            prop_assert_eq!(&parsed.apply(None), config, "{:?}", text);
        }
    }

    #[test]
    fn a_wrong_entry_among_right_ones_is_the_one_the_error_names(
        entries in prop::collection::btree_set(pool_name(), 0..4)
            .prop_flat_map(|names| names.into_iter().map(written_entry).collect::<Vec<_>>()),
        bad in select(BAD_ENTRIES),
        at in any::<prop::sample::Index>(),
    ) {
        let mut texts: Vec<String> = entries.into_iter().map(|(text, _)| text).collect();
        texts.insert(at.index(texts.len() + 1), bad.to_owned());
        let spec = texts.join(",");
        if spec.trim().is_empty() {
            // A lone empty entry is an empty `OFFLOAD_POOLS`: no pools, no error.
            prop_assert_eq!(parse_overrides(&spec), Ok(Vec::new()));
            return Ok(());
        }
        match parse_overrides(&spec) {
            Err(ConfigError::Malformed { entry, reason }) => {
                prop_assert_eq!(&entry, bad, "{:?}: {}", spec, reason);
            }
            other => prop_assert!(false, "{:?} gave {:?}", spec, other),
        }
        check_overrides(&spec)?;
    }
}
