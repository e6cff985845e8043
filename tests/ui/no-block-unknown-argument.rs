use async_offload::no_block;

#[no_block(timeout = "2ms")]
async fn handle() {}

fn main() {}
