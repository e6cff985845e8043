use async_offload::blocking;

#[blocking]
impl Db {}

struct Db;

fn main() {}
