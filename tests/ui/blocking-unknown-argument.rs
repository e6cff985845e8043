use async_offload::blocking;

#[blocking(pool = "db")]
fn query() -> u32 {
    7
}

fn main() {}
