//! The arguments of `#[no_block]`: `threshold = "2ms"` and `crate = "path"`.

use proc_macro2::TokenStream;
use syn::LitStr;

use crate::attribute::arguments;
use crate::attribute::crate_path;

/// The parsed arguments.
pub(crate) struct Args {
    /// The threshold in nanoseconds, if the attribute sets one.
    pub(crate) threshold_nanos: Option<u64>,
    /// Where generated code finds the `async_offload` crate, if the attribute says.
    pub(crate) krate: Option<syn::Path>,
}

/// Parses the arguments, reporting every mistake on its own tokens.
pub(crate) fn parse(args: TokenStream) -> syn::Result<Args> {
    let mut threshold: Option<u64> = None;
    let mut krate: Option<syn::Path> = None;
    arguments::parse_each(args, |meta| {
        if meta.path.is_ident("threshold") {
            arguments::set_once(meta, &mut threshold, "threshold = \"2ms\"", |meta| {
                let literal: LitStr = meta.value()?.parse().map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        "the threshold must be a string literal, like `threshold = \"2ms\"`",
                    )
                })?;
                parse_threshold(&literal)
            })
        } else if meta.path.is_ident("crate") {
            arguments::set_once(meta, &mut krate, crate_path::EXAMPLE, crate_path::parse)
        } else {
            Err(arguments::unknown(
                meta,
                "`threshold = \"2ms\"` or `crate = \"path\"`",
            ))
        }
    })?;
    Ok(Args {
        threshold_nanos: threshold,
        krate,
    })
}

/// Parses `"250us"`, `"2ms"`, `"1s"`: a whole number and one of `ns`, `us`, `ms`, `s`.
fn parse_threshold(literal: &LitStr) -> syn::Result<u64> {
    let text = literal.value();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let scale: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => 0,
    };
    let nanos = number
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|number| number.checked_mul(scale));
    match nanos {
        Some(0) => Err(syn::Error::new(
            literal.span(),
            "a threshold of zero would report every poll; give a positive duration, like \"2ms\"",
        )),
        Some(nanos) => Ok(nanos),
        None => Err(syn::Error::new(
            literal.span(),
            format!(
                "{text:?} is not a duration; write a whole number and a unit (ns, us, ms or s), \
                 like \"250us\", \"2ms\" or \"1s\""
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threshold(text: &str) -> syn::Result<u64> {
        parse_threshold(&LitStr::new(text, proc_macro2::Span::call_site()))
    }

    #[test]
    fn thresholds_in_each_unit() {
        assert_eq!(threshold("250us").unwrap(), 250_000);
        assert_eq!(threshold("2ms").unwrap(), 2_000_000);
        assert_eq!(threshold("1s").unwrap(), 1_000_000_000);
        assert_eq!(threshold("7ns").unwrap(), 7);
    }

    /// The message of the error `args` give, and the text its span covers.
    fn argument_error(args: &str) -> (String, Option<String>) {
        let tokens: TokenStream = args.parse().unwrap();
        match parse(tokens) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(error) => (error.to_string(), error.span().source_text()),
        }
    }

    #[test]
    fn a_key_without_a_value_is_refused_on_the_key() {
        for (args, key, example) in [
            ("threshold", "threshold", "threshold = \"2ms\""),
            ("threshold =", "threshold", "threshold = \"2ms\""),
            ("threshold(\"2ms\")", "threshold", "threshold = \"2ms\""),
            ("crate", "crate", "crate = \"my_offload\""),
            (
                "threshold = \"2ms\", crate =",
                "crate",
                "crate = \"my_offload\"",
            ),
        ] {
            let (message, at) = argument_error(args);
            assert_eq!(message, format!("`{key}` takes a value: write `{example}`"));
            assert_eq!(at.as_deref(), Some(key), "{args:?}");
        }
    }

    #[test]
    fn malformed_thresholds_are_refused() {
        for text in [
            "",
            "2",
            "ms",
            "2 ms",
            "1.5ms",
            "-1ms",
            "2min",
            "0ms",
            "99999999999999s",
        ] {
            assert!(threshold(text).is_err(), "{text:?} was accepted");
        }
    }
}
