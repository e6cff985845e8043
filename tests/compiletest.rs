//! Compile-fail UI tests: each misuse of `#[offload]` in `tests/ui/*.rs` fails to compile
//! with the error pinned in the `.stderr` beside it.
//!
//! The messages are the compiler's, so they change with its version; the `.stderr` files are
//! written for the stable toolchain. After a deliberate change, regenerate them with
//! `TRYBUILD=overwrite cargo test --test compiletest` and read each one.

// Another toolchain words its errors differently: the pinned messages hold on stable only.
#[rustversion::attr(not(stable), ignore = "the .stderr files are written for stable Rust")]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
