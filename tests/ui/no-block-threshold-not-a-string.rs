use async_offload::no_block;

#[no_block(threshold = 2)]
async fn handle() {}

fn main() {}
