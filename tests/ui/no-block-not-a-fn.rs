use async_offload::no_block;

#[no_block]
struct Handler {
    id: u64,
}

fn main() {}
