#![deny(unused_must_use)]

use async_offload::offload;

#[offload]
fn save(id: u64) {
    let _ = id;
}

fn main() {
    // The body never runs: nothing polls the future. (`let _ = save(7);` hides it from
    // the compiler; Clippy's `let_underscore_future` still says so.)
    save(7);
}
