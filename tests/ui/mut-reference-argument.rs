use async_offload::offload;

#[offload]
fn fill(buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    std::fs::File::open("Cargo.toml")?.read_to_end(buffer)
}

fn main() {
    let _ = async {
        let mut buffer = Vec::new();
        let _ = fill(&mut buffer).await;
    };
}
