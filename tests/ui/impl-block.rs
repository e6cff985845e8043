use async_offload::offload;

struct Store {
    path: String,
}

#[offload]
impl Store {
    fn size(self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |metadata| metadata.len())
    }
}

fn main() {
    let _ = Store {
        path: "Cargo.toml".to_owned(),
    }
    .size();
}
