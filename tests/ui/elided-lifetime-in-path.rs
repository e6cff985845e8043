use async_offload::offload;

struct Words<'a> {
    text: &'a str,
}

#[offload(pool = "cpu")]
fn count(words: Words) -> usize {
    words.text.split_whitespace().count()
}

fn main() {
    let _ = async {
        let _ = count(Words { text: "a b c" }).await;
    };
}
