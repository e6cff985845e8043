use async_offload::{OffloadError, offload};

// The one error is the borrow's: callers that use the fn as fallible add none.
#[offload(fallible)]
fn count_words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn main() {
    let _ = async {
        let counted: Result<usize, OffloadError> = count_words("a b").await;
        let _ = counted;
    };
}
