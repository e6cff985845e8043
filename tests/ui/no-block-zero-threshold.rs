use async_offload::no_block;

#[no_block(threshold = "0ms")]
async fn handle() {}

fn main() {}
