use async_offload::offload;

#[offload(pool = "db replica")]
fn load_user(id: u64) -> u64 {
    id
}

fn main() {
    let _ = async { load_user(1).await };
}
