use offload::no_block;

#[no_block]
fn handle() {}

fn main() {}
