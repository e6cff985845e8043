use async_offload::offload;

#[offload(pool = "cpu")]
fn count_words<'a>(text: &'a str) -> usize {
    text.split_whitespace().count()
}

fn main() {
    let _ = async {
        let _ = count_words("a b c").await;
    };
}
