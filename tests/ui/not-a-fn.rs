use async_offload::offload;

#[offload]
struct Loader {
    path: String,
}

fn main() {}
