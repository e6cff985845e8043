use async_offload::no_block;

trait Handler {
    #[no_block]
    async fn handle(&self);
}

fn main() {}
