use async_offload::offload;

#[offload]
async fn read_config(path: String) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn main() {
    let _ = async {
        let _ = read_config("app.toml".to_owned()).await;
    };
}
