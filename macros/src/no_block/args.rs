//! The arguments of `#[no_block]`: `threshold = "2ms"` and `crate = "path"`.

use std::time::Duration;

use proc_macro2::TokenStream;
use syn::LitStr;

use async_offload_rules::parse_threshold;

use crate::attribute::arguments;
use crate::attribute::crate_path;

/// The parsed arguments.
pub(crate) struct Args {
    /// The threshold, if the attribute sets one.
    pub(crate) threshold: Option<Duration>,
    /// Where generated code finds the `async_offload` crate, if the attribute says.
    pub(crate) krate: Option<syn::Path>,
}

/// Parses the arguments, reporting every mistake on its own tokens.
pub(crate) fn parse(args: TokenStream) -> syn::Result<Args> {
    let mut threshold: Option<Duration> = None;
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
                parse_threshold(&literal.value())
                    .map_err(|message| syn::Error::new(literal.span(), message))
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
    Ok(Args { threshold, krate })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threshold of `#[no_block(threshold = "text")]`, or the error's message.
    fn threshold(text: &str) -> Result<Duration, String> {
        let literal = LitStr::new(text, proc_macro2::Span::call_site());
        match parse(quote::quote!(threshold = #literal)) {
            Ok(args) => Ok(args.threshold.expect("a threshold")),
            Err(error) => Err(error.to_string()),
        }
    }

    #[test]
    fn thresholds_in_each_unit() {
        assert_eq!(threshold("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(threshold("2ms"), Ok(Duration::from_millis(2)));
        assert_eq!(threshold("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(threshold("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(threshold("1.5ms"), Ok(Duration::from_micros(1500)));
        assert_eq!(threshold(" 2 ms "), Ok(Duration::from_millis(2)));
        assert_eq!(threshold("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(
            threshold("99999999999999s"),
            Ok(Duration::from_secs(99_999_999_999_999))
        );
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
            "1.5ns",
            "-1ms",
            "2min",
            "0ms",
            "0.0s",
            "99999999999999999999999s",
        ] {
            let message = threshold(text).expect_err(text);
            assert!(
                message.starts_with(&format!("duration {:?} ", text.trim())),
                "{message}"
            );
        }
    }
}
