//! `detect-blocking-calls`: directory and name operations of `std::fs` made inside a poll
//! of a `#[no_block]` fn are reported, each under the C function std calls for it.

use std::path::{Path, PathBuf};

use detect_blocking::{calls, reports_of, shown, temporary, ten_bytes};

/// An empty directory of its own name.
fn empty_directory(name: &str) -> PathBuf {
    let path = temporary(name);
    // A directory left by an earlier run of this process's id.
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir(&path).expect("a temporary directory");
    path
}

/// Makes `call` in a poll, checks that it succeeded, and asserts that the poll's reports
/// include `c_call`, made by the std function whose path starts with `std_from`.
async fn assert_reported<T, E: std::fmt::Debug>(
    c_call: &str,
    std_from: &str,
    call: impl FnOnce() -> Result<T, E>,
) -> T {
    let (result, reports) = reports_of(call).await;
    let value = result.expect("the call succeeds");
    assert!(
        calls(&reports)
            .iter()
            .any(|(call, from)| *call == c_call && from.starts_with(std_from)),
        "{c_call} from {std_from} is reported: {:?}\n{}",
        calls(&reports),
        shown(&reports)
    );
    value
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn reading_a_directory_is_reported() {
    let directory = empty_directory("read_dir");
    std::fs::write(directory.join("a"), b"").expect("a file");
    let (names, reports) = reports_of(|| {
        std::fs::read_dir(&directory)
            .expect("the directory")
            .map(|entry| entry.expect("an entry").file_name())
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(names, ["a"]);
    let calls = calls(&reports);
    assert!(
        calls.contains(&("opendir", "std::fs::read_dir")),
        "{calls:?}\n{}",
        shown(&reports)
    );
    assert!(
        calls.iter().any(|(call, _)| *call == "readdir64"),
        "{calls:?}\n{}",
        shown(&reports)
    );
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn making_directories_is_reported() {
    let parent = empty_directory("mkdir");
    assert_reported("mkdir", "std::fs::create_dir", || {
        std::fs::create_dir(parent.join("one"))
    })
    .await;
    assert_reported("mkdir", "std::fs::create_dir_all", || {
        std::fs::create_dir_all(parent.join("two/three"))
    })
    .await;
    assert!(parent.join("two/three").is_dir());
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn removing_a_file_is_reported() {
    let path = ten_bytes("unlink");
    assert_reported("unlink", "std::fs::remove_file", || {
        std::fs::remove_file(&path)
    })
    .await;
    assert!(!path.exists());
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn renaming_is_reported() {
    let from = ten_bytes("rename-from");
    let to = temporary("rename-to");
    assert_reported("rename", "std::fs::rename", || std::fs::rename(&from, &to)).await;
    assert_eq!(std::fs::read(&to).expect("the renamed file"), b"0123456789");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn removing_directories_is_reported() {
    let empty = empty_directory("rmdir");
    assert_reported("rmdir", "std::fs::remove_dir", || {
        std::fs::remove_dir(&empty)
    })
    .await;

    let tree = empty_directory("remove_dir_all");
    std::fs::create_dir(tree.join("inner")).expect("a directory");
    std::fs::write(tree.join("inner/file"), b"").expect("a file");
    let ((), reports) = reports_of(|| std::fs::remove_dir_all(&tree).expect("removed")).await;
    let calls = calls(&reports);
    // std walks the tree through descriptors: `openat`, `fdopendir`, `readdir64`, and
    // removes each name with `unlinkat`.
    for expected in ["fdopendir", "readdir64", "unlinkat"] {
        assert!(
            calls.iter().any(
                |(call, from)| *call == expected && from.starts_with("std::fs::remove_dir_all")
            ),
            "{expected}: {calls:?}\n{}",
            shown(&reports)
        );
    }
    assert!(!tree.exists());
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn links_are_reported() {
    let file = ten_bytes("link-target");
    let hard = temporary("hard-link");
    let soft = temporary("symbolic-link");
    assert_reported("linkat", "std::fs::hard_link", || {
        std::fs::hard_link(&file, &hard)
    })
    .await;
    assert_reported("symlink", "std::os::unix::fs::symlink", || {
        std::os::unix::fs::symlink(&file, &soft)
    })
    .await;
    let target = assert_reported("readlink", "std::fs::read_link", || {
        std::fs::read_link(&soft)
    })
    .await;
    assert_eq!(target, file);
    let resolved = assert_reported("realpath", "std::fs::canonicalize", || {
        std::fs::canonicalize(&soft)
    })
    .await;
    assert_eq!(
        resolved,
        std::fs::canonicalize(&file).expect("the file's path")
    );
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn changing_a_files_mode_and_length_is_reported() {
    use std::os::unix::fs::PermissionsExt;

    let path = ten_bytes("chmod");
    assert_reported("chmod", "std::fs::set_permissions", || {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
    })
    .await;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("the file");
    assert_reported("fchmod", "<std::fs::File>::set_permissions", || {
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
    })
    .await;
    assert_reported("ftruncate64", "<std::fs::File>::set_len", || {
        file.set_len(4)
    })
    .await;
    assert_eq!(std::fs::read(&path).expect("the file"), b"0123");
    assert_eq!(mode(&path), 0o644);
}

/// The permission bits of a file.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("its metadata")
        .permissions()
        .mode()
        & 0o777
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_connect_with_a_timeout_is_reported_as_its_poll() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let to = listener.local_addr().expect("its address");
    let (stream, reports) = reports_of(|| {
        std::net::TcpStream::connect_timeout(&to, std::time::Duration::from_secs(60))
    })
    .await;
    stream.expect("connected");
    // std connects without blocking (`O_NONBLOCK`, not reported), then waits in `poll`.
    assert_eq!(
        calls(&reports)
            .iter()
            .map(|(call, _)| *call)
            .collect::<Vec<_>>(),
        ["poll"],
        "{}",
        shown(&reports)
    );
}
