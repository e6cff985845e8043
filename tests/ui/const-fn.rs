use async_offload::offload;

#[offload(pool = "cpu")]
const fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _ = async {
        let _ = square(7).await;
    };
}
