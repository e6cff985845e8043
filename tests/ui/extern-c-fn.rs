use async_offload::offload;

#[offload(pool = "cpu")]
extern "C" fn checksum(data: Vec<u8>) -> u32 {
    data.iter().map(|&byte| u32::from(byte)).sum()
}

fn main() {
    let _ = async {
        let _ = checksum(vec![1, 2, 3]).await;
    };
}
