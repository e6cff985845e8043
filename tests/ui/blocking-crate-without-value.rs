use async_offload::blocking;

#[blocking(crate)]
fn query(id: u64) -> String {
    format!("user {id}")
}

fn main() {
    let _ = query(7);
}
