use std::borrow::Cow;

use async_offload::offload;

#[offload(pool = "cpu")]
fn shout(text: Cow<'_, str>) -> String {
    text.to_uppercase()
}

fn main() {
    let _ = async {
        let _ = shout("hi".into()).await;
    };
}
