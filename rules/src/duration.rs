//! Durations and byte sizes as people write them: `30s`, `1.5ms`, `2MiB`.
//!
//! `OFFLOAD_POOLS` and configuration files (with the `serde` feature) read `keep_alive` and
//! `stack` values through these parsers, so both accept the same text and give the same
//! messages. A message quotes the text it refused and says what was expected.
//!
//! Stall thresholds (`OFFLOAD_STALL_THRESHOLD`, and `#[no_block(threshold = "...")]`,
//! checked by the macro at compile time) are durations of the same syntax that cannot be
//! zero: `parse_threshold`.

use std::time::Duration;

/// Nanoseconds in a second.
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Parses a duration: a number, integer or decimal, and a unit.
///
/// The units are `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) and `h`. White space
/// around the text, and between the number and the unit, is ignored: `" 1.5 s "` is 1.5
/// seconds. A decimal may not be finer than a nanosecond (`1.5ns` is refused). A number
/// without a unit is refused, since `10` could mean seconds or milliseconds.
///
/// # Errors
///
/// A message that quotes the text and says what is wrong and what to write.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
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
///
/// # Errors
///
/// A message that quotes the text and says what is wrong and what to write.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
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
