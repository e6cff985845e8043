//! Unit tests of reading a `PoolConfig` with serde (`config::serde`).

use ::serde::de::IntoDeserializer;
use ::serde::de::value::{Error, MapDeserializer, StrDeserializer};

use ::serde::de::{Deserialize, Deserializer, Visitor};

use std::time::Duration;

use crate::config::PoolConfig;
use Value::{Bool, Int, Str};

/// A field's value, as a self-describing format such as TOML or JSON hands it over.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// A string.
    Str(&'static str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl<'de> Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Str(text) => visitor.visit_str(text),
            Value::Int(number) => visitor.visit_i64(number),
            Value::Bool(flag) => visitor.visit_bool(flag),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Value::Str(text) => {
                StrDeserializer::new(text).deserialize_enum(name, variants, visitor)
            }
            Value::Int(_) | Value::Bool(_) => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    ::serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl IntoDeserializer<'_, Error> for Value {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// Deserializes a `PoolConfig` from a map with these fields.
fn read(fields: &[(&'static str, Value)]) -> Result<PoolConfig, Error> {
    PoolConfig::deserialize(MapDeserializer::new(fields.iter().copied()))
}

/// The message of the error that reading these fields must give.
fn error(fields: &[(&'static str, Value)]) -> String {
    match read(fields) {
        Ok(config) => panic!("{fields:?} gave {config:?}; expected an error"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_fixed_pool_with_a_queue() {
    let config = read(&[
        ("kind", Str("fixed")),
        ("threads", Int(8)),
        ("queue_capacity", Int(256)),
    ]);
    assert_eq!(config, Ok(PoolConfig::fixed(8).queue_capacity(256)));
}

#[test]
fn an_elastic_pool_with_every_setting() {
    let config = read(&[
        ("kind", Str("elastic")),
        ("threads", Int(128)),
        ("keep_alive", Str("30s")),
        ("stack_size", Str("2MiB")),
    ]);
    let expected = PoolConfig::elastic(128)
        .keep_alive(Duration::from_secs(30))
        .stack_size(2 << 20);
    assert_eq!(config, Ok(expected));
}

#[test]
fn left_out_settings_take_the_kind_defaults() {
    let elastic = read(&[("kind", Str("elastic")), ("threads", Int(4))]);
    assert_eq!(elastic, Ok(PoolConfig::elastic(4)));
    assert_eq!(
        elastic.map(|config| config.keep_alive),
        Ok(Some(PoolConfig::DEFAULT_KEEP_ALIVE))
    );
    let fixed = read(&[("threads", Int(2)), ("kind", Str("fixed"))]);
    assert_eq!(fixed, Ok(PoolConfig::fixed(2)));
}

#[test]
fn a_stack_size_may_be_a_plain_number() {
    let config = read(&[
        ("kind", Str("fixed")),
        ("threads", Int(1)),
        ("stack_size", Int(1_048_576)),
    ]);
    assert_eq!(config.map(|config| config.stack_size), Ok(Some(1 << 20)));
}

#[test]
fn kind_and_threads_are_required() {
    assert!(error(&[("threads", Int(1))]).contains("missing field `kind`"));
    assert!(error(&[("kind", Str("fixed"))]).contains("missing field `threads`"));
}

#[test]
fn unknown_fields_are_refused() {
    let message = error(&[
        ("kind", Str("fixed")),
        ("threads", Int(1)),
        ("queue", Int(5)),
    ]);
    assert!(message.contains("unknown field `queue`"), "{message}");
    assert!(message.contains("queue_capacity"), "{message}");
}

#[test]
fn unknown_kinds_are_refused() {
    let message = error(&[("kind", Str("Fixed")), ("threads", Int(1))]);
    assert!(message.contains("unknown variant `Fixed`"), "{message}");
}

#[test]
fn bad_durations_give_the_parser_message() {
    let message = error(&[
        ("kind", Str("elastic")),
        ("threads", Int(1)),
        ("keep_alive", Str("30")),
    ]);
    assert_eq!(message, "duration \"30\" has no unit; add a unit, like 30s");
}

#[test]
fn a_keep_alive_must_be_a_string() {
    let message = error(&[
        ("kind", Str("elastic")),
        ("threads", Int(1)),
        ("keep_alive", Int(30)),
    ]);
    assert!(message.contains("invalid type: integer `30`"), "{message}");
    assert!(message.contains("like \"30s\""), "{message}");
}

#[test]
fn bad_sizes_give_the_parser_message() {
    let message = error(&[
        ("kind", Str("fixed")),
        ("threads", Int(1)),
        ("stack_size", Str("2MB")),
    ]);
    assert!(
        message.starts_with("size \"2MB\" has an unknown unit"),
        "{message}"
    );
}

#[test]
fn a_negative_stack_size_is_refused() {
    let message = error(&[
        ("kind", Str("fixed")),
        ("threads", Int(1)),
        ("stack_size", Int(-1)),
    ]);
    assert!(message.contains("invalid value: integer `-1`"), "{message}");
}

#[test]
fn a_negative_thread_count_is_refused() {
    let message = error(&[("kind", Str("fixed")), ("threads", Int(-1))]);
    assert!(message.contains("-1"), "{message}");
}

#[test]
fn values_are_left_for_install_to_check() {
    let config = read(&[
        ("kind", Str("fixed")),
        ("threads", Int(0)),
        ("queue_capacity", Int(0)),
        ("keep_alive", Str("1s")),
        ("stack_size", Int(0)),
    ]);
    let Ok(config) = config else {
        panic!("zeros should parse: {config:?}");
    };
    assert_eq!(config.threads, 0);
    assert_eq!(config.keep_alive, Some(Duration::from_secs(1)));
    assert!(config.validate("db").is_err());
}

#[test]
fn a_nice_value_is_a_number_checked_at_install() {
    let config = read(&[
        ("kind", Str("fixed")),
        ("threads", Int(2)),
        ("nice", Int(10)),
    ]);
    assert_eq!(config, Ok(PoolConfig::fixed(2).nice(10)));
    let config = read(&[
        ("kind", Str("fixed")),
        ("threads", Int(2)),
        ("nice", Int(-5)),
    ]);
    assert_eq!(config, Ok(PoolConfig::fixed(2).nice(-5)));
    let message = error(&[
        ("kind", Str("fixed")),
        ("threads", Int(2)),
        ("nice", Str("low")),
    ]);
    assert!(message.contains("\"low\""), "{message}");
}

#[test]
fn refuse_when_full_is_a_boolean() {
    let config = read(&[
        ("kind", Str("fixed")),
        ("threads", Int(4)),
        ("queue_capacity", Int(32)),
        ("refuse_when_full", Bool(true)),
    ]);
    let expected = PoolConfig::fixed(4)
        .queue_capacity(32)
        .refuse_when_full(true);
    assert_eq!(config, Ok(expected));
    let message = error(&[
        ("kind", Str("fixed")),
        ("threads", Int(4)),
        ("refuse_when_full", Str("yes")),
    ]);
    assert!(message.contains("\"yes\""), "{message}");
}
