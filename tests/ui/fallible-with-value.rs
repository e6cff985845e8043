use async_offload::offload;

#[offload(fallible = true)]
fn load_user(id: u64) -> String {
    format!("user {id}")
}

fn main() {
    let _ = async {
        let _ = load_user(7).await;
    };
}
