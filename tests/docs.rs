//! The public docs are written as a user reads them: every example and path goes through
//! the facade's name, `async_offload`, never through the crates behind it, whose names a
//! user's `Cargo.toml` does not have (rustc would suggest adding them).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the source folder exists") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn doc_comments_name_only_the_facade() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut lines_read = 0;
    for dir in ["src", "runtime/src", "macros/src"] {
        for file in sources(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            for (number, line) in text.lines().enumerate() {
                let line = line.trim_start();
                if !(line.starts_with("///") || line.starts_with("//!")) {
                    continue;
                }
                lines_read += 1;
                if line.contains("async_offload_runtime") || line.contains("async_offload_macros") {
                    found.push(format!("{}:{}: {line}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(
        lines_read > 1_000,
        "only {lines_read} doc lines found: wrong folder?"
    );
    assert!(
        found.is_empty(),
        "doc comments that name a crate behind the facade:\n{}",
        found.join("\n")
    );
}
