use async_offload::offload;

struct Store;

impl Store {
    #[offload(crate = "Self")]
    fn size(self) -> u64 {
        1
    }
}

fn main() {
    let _ = async {
        let _ = Store.size().await;
    };
}
