// tokio's `start_paused` needs its `test-util` feature, which this crate's tokio lacks. The
// error is tokio's, located where tokio puts it without #[no_block] (at the body's last
// statement), not at #[no_block] above it.
#[async_offload::no_block]
#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let answer = 42;
    assert_eq!(answer, 42);
}
