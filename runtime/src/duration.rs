//! Durations and byte sizes as people write them: `30s`, `1.5ms`, `2MiB`.
//!
//! `OFFLOAD_POOLS` and configuration files (with the `serde` feature) read `keep_alive` and
//! `stack` values through these parsers, so both accept the same text and give the same
//! messages. A message quotes the text it refused and says what was expected.
//!
//! Stall thresholds (`OFFLOAD_STALL_THRESHOLD`, and `#[no_block(threshold = "...")]`,
//! checked by the macro at compile time) are durations of the same syntax that cannot be
//! zero: `parse_threshold`. The macro crate cannot call this code, so it keeps its own copy
//! of the syntax, and a test there fails when the two give different results for any text.

use std::time::Duration;

/// Nanoseconds in a second.
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Parses a duration: a number, integer or decimal, and a unit.
///
/// The units are `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) and `h`. White space
/// around the text, and between the number and the unit, is ignored: `" 1.5 s "` is 1.5
/// seconds. A decimal may not be finer than a nanosecond (`1.5ns` is refused). A number
/// without a unit is refused, since `10` could mean seconds or milliseconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let fail = |problem: String| Err(format!("duration {text:?} {problem}"));
    if text.is_empty() {
        return fail("is empty; write a number and a unit, like 10s".into());
    }
    if text.starts_with('-') {
        return fail("is negative; a duration cannot be".into());
    }
    let (number, unit) = split_number(text);
    if number.is_empty() {
        return fail("does not start with a number; write a number and a unit, like 10s".into());
    }
    let Some((whole, fraction)) = split_decimal(number) else {
        return fail(format!("does not start with a valid number: {number:?}"));
    };
    let unit_nanos: u128 = match unit {
        "ns" => 1,
        // U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU look the same.
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SEC,
        "m" => 60 * NANOS_PER_SEC,
        "h" => 3600 * NANOS_PER_SEC,
        "" => return fail(format!("has no unit; add a unit, like {number}s")),
        _ => {
            return fail(format!(
                "has an unknown unit {unit:?}; expected one of \"ns\", \"us\", \"µs\", \"ms\", \
                 \"s\", \"m\" (minutes), \"h\""
            ));
        }
    };
    let Some(fraction_nanos) = fraction_nanos(fraction, unit_nanos) else {
        return fail("is more precise than a nanosecond".into());
    };
    let nanos = whole
        .parse::<u128>()
        .ok()
        .and_then(|whole| whole.checked_mul(unit_nanos)?.checked_add(fraction_nanos));
    let parts = nanos.map(|nanos| {
        let secs = u64::try_from(nanos / NANOS_PER_SEC);
        (secs, u32::try_from(nanos % NANOS_PER_SEC))
    });
    match parts {
        Some((Ok(secs), Ok(subsec_nanos))) => Ok(Duration::new(secs, subsec_nanos)),
        _ => fail("is too large".into()),
    }
}

/// Parses a stall threshold: a duration as `parse_duration` reads it, other than zero.
///
/// A threshold of zero would make every poll a stall; `OFFLOAD_STALL=off` is the way to
/// stop reports.
///
/// # Errors
///
/// The message of `parse_duration`, or one saying that zero is refused; each quotes the
/// text and says what to write.
pub fn parse_threshold(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err(format!(
            "duration {:?} is zero, which would report every poll as a stall; give a \
             positive threshold, like 10ms",
            text.trim()
        )),
        threshold => Ok(threshold),
    }
}

/// Parses a size in bytes: a whole number, optionally followed by `KiB`, `MiB` or `GiB`
/// (or `K`, `M`, `G`: the same powers of 1024).
///
/// White space around the text, and between the number and the unit, is ignored.
pub(crate) fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let fail = |problem: String| Err(format!("size {text:?} {problem}"));
    if text.is_empty() {
        return fail("is empty; write a number of bytes, with or without a unit, like 2MiB".into());
    }
    if text.starts_with('-') {
        return fail("is negative; a size cannot be".into());
    }
    let (number, unit) = split_number(text);
    if number.is_empty() {
        return fail("does not start with a number; write a number of bytes, like 2MiB".into());
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return fail(format!("does not start with a whole number: {number:?}"));
    }
    let multiplier: usize = match unit {
        "" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => {
            return fail(format!(
                "has an unknown unit {unit:?}; expected none (bytes) or one of \"KiB\", \
                 \"MiB\", \"GiB\" (or \"K\", \"M\", \"G\")"
            ));
        }
    };
    match number
        .parse::<usize>()
        .ok()
        .and_then(|count| count.checked_mul(multiplier))
    {
        Some(bytes) => Ok(bytes),
        None => fail(format!("is too large; the most is {} bytes", usize::MAX)),
    }
}

/// Splits trimmed text into its leading run of digits and points, and the rest with
/// leading white space removed: `"1.5 ms"` gives `("1.5", "ms")`.
fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, rest) = text.split_at(end);
    (number, rest.trim_start())
}

/// Splits a run of digits and points into whole and fractional digits, or `None` unless
/// it has at most one point, with digits on both sides.
fn split_decimal(number: &str) -> Option<(&str, &str)> {
    match number.split_once('.') {
        None => Some((number, "")),
        Some((whole, fraction))
            if !whole.is_empty() && !fraction.is_empty() && !fraction.contains('.') =>
        {
            Some((whole, fraction))
        }
        Some(_) => None,
    }
}

/// Nanoseconds in `0.<fraction>` of a unit of `unit_nanos` nanoseconds, or `None` if that
/// is not a whole number of nanoseconds.
fn fraction_nanos(fraction: &str, unit_nanos: u128) -> Option<u128> {
    let digits = fraction.trim_end_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    // The checked steps fail only for fractions of more than 25 significant digits, which
    // are far finer than a nanosecond of any unit (an hour is 3.6e12 ns).
    let scale = 10u128.checked_pow(u32::try_from(digits.len()).ok()?)?;
    let scaled = digits.parse::<u128>().ok()?.checked_mul(unit_nanos)?;
    (scaled % scale == 0).then_some(scaled / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
