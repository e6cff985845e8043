use async_offload::no_block;

#[tokio::test]
#[no_block]
async fn handler_never_blocks() {}

fn main() {}
