use offload::no_block;

#[no_block(threshold = "fast")]
async fn handle() {}

fn main() {}
