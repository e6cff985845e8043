//! The macros' longer tests, apart from the code they test: property tests of all three
//! attributes, and the token-by-token checks of `#[no_block]`'s expansion. Short unit tests
//! stay beside their code.

mod no_block_expansion;
mod proptests;
mod shared_rules;
