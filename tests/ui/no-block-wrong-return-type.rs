use async_offload::no_block;

#[no_block]
async fn handle(id: u64) -> u64 {
    if id == 0 {
        return "none";
    }
    id
}

fn main() {}
