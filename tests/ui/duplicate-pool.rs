use async_offload::offload;

#[offload(pool = "db", pool = "cache")]
fn load_user(id: u64) -> String {
    format!("user {id}")
}

fn main() {
    let _ = async {
        let _ = load_user(7).await;
    };
}
