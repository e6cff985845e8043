use async_offload::offload;

struct Log {
    file: std::fs::File,
}

impl Log {
    #[offload]
    fn append(&mut self, line: String) -> std::io::Result<()> {
        use std::io::Write;
        writeln!(self.file, "{line}")
    }
}

fn main() {
    let _ = async {
        let mut log = Log {
            file: std::fs::File::create("log.txt").unwrap(),
        };
        let _ = log.append("started".to_owned()).await;
    };
}
