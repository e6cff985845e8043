use async_offload::offload;

#[offload(pool = "cpu")]
fn sum(first: u32, rest: ...) -> u32 {
    first
}

fn main() {
    let _ = async {
        let _ = sum(1).await;
    };
}
