use async_offload::no_block;

#[no_block]
fn handle() {}

fn main() {}
