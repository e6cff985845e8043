use async_offload::no_block;

fn count() -> u32 {
    7
}

#[no_block]
async fn handle() -> u32 {
    count().await
}

fn main() {}
