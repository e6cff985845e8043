//! Unit tests of the configuration parsers that outgrew their files.

mod env;
#[cfg(feature = "serde")]
mod serde;
