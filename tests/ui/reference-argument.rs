use async_offload::offload;

#[offload]
fn file_len(path: &str) -> std::io::Result<u64> {
    Ok(std::fs::metadata(path)?.len())
}

fn main() {
    let _ = async {
        let _ = file_len("Cargo.toml").await;
    };
}
