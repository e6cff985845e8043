use async_offload::no_block;

#[no_block(threshold = "2ms", threshold = "5ms")]
async fn handle() {}

fn main() {}
