//! The duration and size syntax, case by case.

use std::time::Duration;

use async_offload_rules::{parse_bytes, parse_duration, parse_threshold};

/// Shorthand for an expected duration.
fn nanos(n: u64) -> Result<Duration, String> {
    Ok(Duration::from_nanos(n))
}

/// The error for `text`, which must be refused.
fn duration_error(text: &str) -> String {
    match parse_duration(text) {
        Ok(duration) => panic!("{text:?} parsed as {duration:?}; expected an error"),
        Err(message) => message,
    }
}

/// The error for `text`, which must be refused.
fn bytes_error(text: &str) -> String {
    match parse_bytes(text) {
        Ok(bytes) => panic!("{text:?} parsed as {bytes} bytes; expected an error"),
        Err(message) => message,
    }
}

#[test]
fn every_duration_unit() {
    assert_eq!(parse_duration("7ns"), nanos(7));
    assert_eq!(parse_duration("7us"), nanos(7_000));
    assert_eq!(parse_duration("7µs"), nanos(7_000));
    assert_eq!(parse_duration("7\u{3bc}s"), nanos(7_000));
    assert_eq!(parse_duration("7ms"), Ok(Duration::from_millis(7)));
    assert_eq!(parse_duration("7s"), Ok(Duration::from_secs(7)));
    assert_eq!(parse_duration("7m"), Ok(Duration::from_secs(7 * 60)));
    assert_eq!(parse_duration("7h"), Ok(Duration::from_secs(7 * 3600)));
}

#[test]
fn decimal_durations_are_exact() {
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("0.25ms"), nanos(250_000));
    assert_eq!(parse_duration("2.5m"), Ok(Duration::from_secs(150)));
    assert_eq!(parse_duration("0.001h"), Ok(Duration::from_millis(3600)));
    assert_eq!(parse_duration("1.000000001s"), Ok(Duration::new(1, 1)));
    assert_eq!(parse_duration("0.1us"), nanos(100));
    assert_eq!(parse_duration("3.000ns"), nanos(3));
    assert_eq!(parse_duration("0.0000000001m"), nanos(6));
}

#[test]
fn zero_and_leading_zeros_are_fine() {
    assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    assert_eq!(parse_duration("0.0h"), Ok(Duration::ZERO));
    assert_eq!(parse_duration("007s"), Ok(Duration::from_secs(7)));
}

#[test]
fn a_threshold_is_any_duration_but_zero() {
    assert_eq!(parse_threshold(" 1.5ms"), nanos(1_500_000));
    assert_eq!(parse_threshold("1ns"), nanos(1));
    for zero in ["0ms", " 0.0 s", "000h"] {
        let message = parse_threshold(zero).expect_err("zero is refused");
        assert_eq!(
            message,
            format!(
                "duration {:?} is zero, which would report every poll as a stall; give a \
                 positive threshold, like 10ms",
                zero.trim()
            )
        );
    }
    assert_eq!(parse_threshold("10"), Err(duration_error("10")));
}

#[test]
fn white_space_around_and_inside_is_ignored() {
    assert_eq!(parse_duration("  30s\t"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_duration("1 s"), Ok(Duration::from_secs(1)));
    assert_eq!(parse_duration(" 1.5 \t ms "), nanos(1_500_000));
}

#[test]
fn a_number_alone_asks_for_a_unit() {
    let message = duration_error("10");
    assert_eq!(message, "duration \"10\" has no unit; add a unit, like 10s");
    assert!(duration_error(" 2.5 ").contains("add a unit, like 2.5s"));
}

#[test]
fn empty_text_is_refused() {
    assert!(duration_error("").contains("duration \"\" is empty"));
    assert!(duration_error("  \t ").contains("duration \"\" is empty"));
}

#[test]
fn a_unit_alone_is_refused() {
    let message = duration_error("ms");
    assert!(
        message.contains("\"ms\" does not start with a number"),
        "{message}"
    );
}

#[test]
fn malformed_numbers_are_refused() {
    for text in ["1.5.5s", "1.s", ".5s", "1..5s", "."] {
        let message = duration_error(text);
        assert!(message.contains(&format!("{text:?}")), "{message}");
        assert!(message.contains("valid number"), "{message}");
    }
    for text in ["+1s", "one s", "NaNs", "infs"] {
        let message = duration_error(text);
        assert!(
            message.contains("does not start with a number"),
            "{message}"
        );
    }
}

#[test]
fn negative_durations_are_refused() {
    let message = duration_error("-1s");
    assert_eq!(
        message,
        "duration \"-1s\" is negative; a duration cannot be"
    );
    assert!(duration_error(" -0.5 ms").contains("negative"));
}

#[test]
fn unknown_units_are_quoted() {
    let message = duration_error("10sec");
    assert!(message.contains("\"10sec\""), "{message}");
    assert!(message.contains("unknown unit \"sec\""), "{message}");
    assert!(message.contains("\"ms\""), "{message}");
    for text in ["10S", "10MS", "10d", "10 s s", "1e3s", "1_000ms", "5s\u{0}"] {
        assert!(duration_error(text).contains("unknown unit"), "{text:?}");
    }
}

#[test]
fn finer_than_a_nanosecond_is_refused() {
    assert!(duration_error("1.5ns").contains("more precise than a nanosecond"));
    assert!(duration_error("0.0000000001s").contains("more precise than a nanosecond"));
    let long_fraction = format!("0.{}1h", "0".repeat(100));
    assert!(duration_error(&long_fraction).contains("more precise than a nanosecond"));
}

#[test]
fn trailing_zeros_of_a_fraction_do_not_count_as_precision() {
    let text = format!("1.5{}s", "0".repeat(200));
    assert_eq!(parse_duration(&text), Ok(Duration::from_millis(1500)));
}

#[test]
fn the_largest_duration_is_accepted_and_one_more_nanosecond_is_not() {
    let max = format!("{}.999999999s", u64::MAX);
    assert_eq!(parse_duration(&max), Ok(Duration::MAX));
    let over = format!("{}s", u128::from(u64::MAX) + 1);
    assert!(duration_error(&over).contains("is too large"));
}

#[test]
fn overflow_is_an_error_not_a_panic() {
    for text in [
        "99999999999999999999999s",
        "99999999999999999999999h",
        "340282366920938463463374607431768211456ns",
        "9999999999999999999999999999999999999999999999999ns",
        "6000000000000000000m",
    ] {
        let message = duration_error(text);
        assert!(
            message.contains(&format!("{text:?} is too large")),
            "{message}"
        );
    }
}

#[test]
fn odd_input_never_panics() {
    for text in [
        "\u{0}",
        "µ",
        "µs",
        "sµ",
        "1µ",
        "1.µs",
        "..",
        "-",
        "--1s",
        "1-s",
        "💥",
        "1💥",
        "\u{feff}1s",
        "1\u{200b}s",
    ] {
        assert!(parse_duration(text).is_err(), "{text:?}");
        assert!(parse_bytes(text).is_err(), "{text:?}");
    }
}

#[test]
fn plain_byte_counts() {
    assert_eq!(parse_bytes("0"), Ok(0));
    assert_eq!(parse_bytes("65536"), Ok(65536));
    assert_eq!(parse_bytes("  4096 "), Ok(4096));
    assert_eq!(parse_bytes(&usize::MAX.to_string()), Ok(usize::MAX));
}

#[test]
fn binary_units_and_their_short_forms() {
    assert_eq!(parse_bytes("64KiB"), Ok(64 * 1024));
    assert_eq!(parse_bytes("64K"), Ok(64 * 1024));
    assert_eq!(parse_bytes("2MiB"), Ok(2 * 1024 * 1024));
    assert_eq!(parse_bytes("2M"), Ok(2 * 1024 * 1024));
    assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
    assert_eq!(parse_bytes("1G"), Ok(1 << 30));
    assert_eq!(parse_bytes("4 MiB"), Ok(4 << 20));
}

#[test]
fn decimal_and_ambiguous_units_are_refused() {
    for text in ["4MB", "4kb", "4k", "4KB", "4mib", "4B", "4 bytes", "4TiB"] {
        let message = bytes_error(text);
        assert!(message.contains("unknown unit"), "{message}");
        assert!(message.contains("\"MiB\""), "{message}");
    }
}

#[test]
fn fractional_sizes_are_refused() {
    let message = bytes_error("1.5MiB");
    assert!(message.contains("\"1.5MiB\""), "{message}");
    assert!(message.contains("whole number: \"1.5\""), "{message}");
}

#[test]
fn bad_sizes_are_quoted() {
    assert!(bytes_error("").contains("size \"\" is empty"));
    assert!(bytes_error("MiB").contains("\"MiB\" does not start with a number"));
    assert_eq!(
        bytes_error("-1"),
        "size \"-1\" is negative; a size cannot be"
    );
    assert!(bytes_error("+1").contains("does not start with a number"));
}

#[test]
fn size_overflow_is_an_error_not_a_panic() {
    let just_over = format!("{}", usize::MAX as u128 + 1);
    assert!(bytes_error(&just_over).contains("is too large"));
    let times_unit = format!("{}K", usize::MAX / 1024 + 1);
    assert!(bytes_error(&times_unit).contains("is too large"));
    assert!(bytes_error("99999999999999999999999GiB").contains("is too large"));
}
