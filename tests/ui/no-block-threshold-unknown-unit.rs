use async_offload::no_block;

#[no_block(threshold = "2 sec")]
async fn handle() {}

fn main() {}
