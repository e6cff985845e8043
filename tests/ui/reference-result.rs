use async_offload::offload;

#[offload]
fn label<'a>(id: u64) -> &'a str {
    if id == 0 { "root" } else { "user" }
}

fn main() {
    let _ = async {
        let _ = label(7).await;
    };
}
