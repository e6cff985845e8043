use async_offload::offload;

const DB: &str = "db";

#[offload(pool = DB)]
fn load_user(id: u64) -> String {
    format!("user {id}")
}

fn main() {
    let _ = async {
        let _ = load_user(7).await;
    };
}
