use std::borrow::Cow;

use async_offload::offload;

#[offload]
fn greeting<'a>(name: String) -> Cow<'a, str> {
    Cow::Owned(format!("hello, {name}"))
}

fn main() {
    let _ = async {
        let _ = greeting("world".to_owned()).await;
    };
}
