//! Nothing here: the tests are in `tests/`, in a package of their own (see `Cargo.toml`).
