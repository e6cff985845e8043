use std::rc::Rc;

use async_offload::offload;

#[offload]
fn double(value: Rc<u32>) -> u32 {
    *value * 2
}

fn main() {
    let _ = async {
        let _ = double(Rc::new(21)).await;
    };
}
