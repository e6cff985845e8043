use async_offload::offload;
use std::future::Future;

trait Sized {
    fn size(&self) -> impl Future<Output = u64> + Send;
}

struct Store {
    path: String,
}

// The trait fixes `&self`: the message says what to do instead of `self: Arc<Self>`.
impl Sized for Store {
    #[offload]
    fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }
}

fn main() {}
