use async_offload::offload;

#[offload]
fn describe<T: std::fmt::Debug + Send>(value: T) -> String {
    format!("{value:?}")
}

fn main() {
    let _ = async {
        let _ = describe(7).await;
    };
}
