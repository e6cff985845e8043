use async_offload::blocking;

#[blocking]
async fn query() -> u32 {
    7
}

fn main() {}
