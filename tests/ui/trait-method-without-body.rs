use async_offload::offload;

trait Store {
    #[offload]
    fn size(self) -> u64;
}

struct File {
    path: String,
}

impl Store for File {
    fn size(self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |metadata| metadata.len())
    }
}

fn main() {
    let _ = File {
        path: "Cargo.toml".to_owned(),
    }
    .size();
}
