//! The attributes apply the rules of `async-offload-rules`, which the runtime applies too,
//! for any input: `#[offload(pool = "...")]` accepts exactly the pool names the runtime can
//! configure, and `#[no_block(threshold = "...")]` reads the same durations as
//! `OFFLOAD_STALL_THRESHOLD`, to the nanosecond, and refuses the same text with the same
//! message. These tests fail if an attribute adds a check of its own, or skips one.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use proptest::prelude::*;
use proptest::sample::select;
use quote::quote;
use syn::LitStr;

use async_offload_rules::{check_pool_name, parse_threshold};

/// Generated inputs per test unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 4_000;

/// `key = "text"` as the attribute's arguments.
fn argument(key: &str, text: &str) -> TokenStream {
    let key = syn::Ident::new(key, Span::call_site());
    let literal = LitStr::new(text, Span::call_site());
    quote!(#key = #literal)
}

/// What `#[offload(pool = "name")]` makes of `name`: accepted or not.
fn macro_accepts_pool(name: &str) -> bool {
    crate::offload::args::parse(argument("pool", name)).is_ok()
}

/// What `#[no_block(threshold = "text")]` makes of `text`: the threshold, or the error's
/// message.
fn macro_threshold(text: &str) -> Result<Duration, String> {
    match crate::no_block::args::parse(argument("threshold", text)) {
        Ok(args) => Ok(args.threshold.expect("the threshold is set")),
        Err(error) => Err(error.to_string()),
    }
}

/// Characters a pool name may or may not hold: plain ones, and each kind the rule is about
/// (white space, control characters, both, the separators of `OFFLOAD_POOLS`).
const NAME_CHARACTERS: &[char] = &[
    'a', 'z', 'D', '0', '9', '-', '_', '.', '/', 'é', '💥', '"', '\\', ' ', '\t', '\n', '\r',
    '\u{0}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{3000}', '\u{200b}', '\u{feff}', ',',
    '=', ':',
];

/// A pool name, mostly of the characters above, sometimes of any.
fn pool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(select(NAME_CHARACTERS), 0..8)
            .prop_map(|characters| characters.into_iter().collect()),
        1 => any::<String>(),
    ]
}

/// Units, those of the syntax and others people write (so that a unit the attribute took
/// or refused on its own would be noticed).
const UNITS: &[&str] = &[
    "ns", "us", "µs", "\u{3bc}s", "ms", "s", "m", "h", "", "nsec", "usec", "msec", "sec", "secs",
    "second", "seconds", "min", "mins", "minute", "hr", "hrs", "hour", "d", "day", "w", "week",
    "M", "month", "y", "year", "S", "MS", "H", "µ", "ps",
];

/// Text for a threshold: a number and a unit, often well formed, often not.
fn threshold_text() -> impl Strategy<Value = String> {
    let well_formed = (
        "[0-9]{1,22}",
        prop::option::of("[0-9]{1,12}"),
        select(&["", " ", "\t"][..]),
        select(UNITS),
    )
        .prop_map(|(whole, fraction, gap, unit)| match fraction {
            Some(fraction) => format!("{whole}.{fraction}{gap}{unit}"),
            None => format!("{whole}{gap}{unit}"),
        });
    // Right and wrong text alike; the parser's own corners (overflow, decimals finer than
    // a nanosecond) are the rules crate's and the runtime's property tests' to cover.
    prop_oneof![
        2 => well_formed,
        1 => "[0-9. \tnumshrecdwyMSµ+_-]{0,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_pool_name_is_accepted_by_the_macro_exactly_when_the_rule_allows_it(
        name in pool_name()
    ) {
        prop_assert_eq!(
            macro_accepts_pool(&name),
            check_pool_name(&name).is_ok(),
            "{:?}", name
        );
    }

    #[test]
    fn a_threshold_reads_the_same_in_the_attribute_and_in_the_environment(
        text in threshold_text()
    ) {
        prop_assert_eq!(macro_threshold(&text), parse_threshold(&text), "{:?}", text);
    }
}

#[test]
fn the_generators_reach_both_verdicts() {
    // Not a property: a check that the inputs above exercise acceptance and refusal.
    assert!(macro_accepts_pool("db-replica.2") && !macro_accepts_pool("d b"));
    assert_eq!(macro_threshold("1.5 ms"), Ok(Duration::from_micros(1500)));
    assert!(macro_threshold("0ms").is_err() && parse_threshold("0ms").is_err());
}
