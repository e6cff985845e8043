use std::rc::Rc;

use async_offload::offload;

struct Store {
    path: String,
}

impl Store {
    #[offload]
    fn size(self: Rc<Self>) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |metadata| metadata.len())
    }
}

fn main() {
    let _ = async {
        let store = Rc::new(Store {
            path: "Cargo.toml".to_owned(),
        });
        let _ = store.size().await;
    };
}
