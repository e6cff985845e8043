use async_offload::no_block;

#[no_block(threshold = "fast")]
async fn handle() {}

fn main() {}
