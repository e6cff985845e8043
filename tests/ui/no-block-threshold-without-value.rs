use async_offload::no_block;

#[no_block(threshold)]
async fn handle(id: u64) -> String {
    format!("user {id}")
}

fn main() {
    let _ = handle(7);
}
