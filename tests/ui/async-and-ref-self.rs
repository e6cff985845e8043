use async_offload::offload;

struct Store {
    path: String,
}

impl Store {
    #[offload]
    async fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |metadata| metadata.len())
    }
}

fn main() {
    let _ = async {
        let store = Store {
            path: "Cargo.toml".to_owned(),
        };
        let _ = store.size().await;
    };
}
