use async_offload::offload;

#[offload(pool = "cpu")]
fn join(words: Vec<&str>) -> String {
    words.join(" ")
}

fn main() {
    let _ = async {
        let _ = join(vec!["a", "b"]).await;
    };
}
