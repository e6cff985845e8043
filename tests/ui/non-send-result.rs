use std::rc::Rc;

use async_offload::offload;

#[offload]
fn make(value: u32) -> Rc<u32> {
    Rc::new(value)
}

fn main() {
    let _ = async {
        let _ = make(7).await;
    };
}
