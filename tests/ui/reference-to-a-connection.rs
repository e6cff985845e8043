use async_offload::offload;
use std::cell::Cell;

/// Like many database connections: `Send`, not `Sync`.
struct Connection {
    queries: Cell<u64>,
}

#[offload(pool = "db")]
fn query(connection: &Connection, id: u64) -> u64 {
    connection.queries.set(connection.queries.get() + 1);
    id
}

fn main() {}
