//! What the tests that run the `tinytrain` binary share: the bundled data, running the binary, and
//! checking how it ended.
#![allow(dead_code)] // each test file uses some of these

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A bundled dataset, by absolute path.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// Runs `tinytrain` in `dir` with `args`.
pub fn tinytrain(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tinytrain")
}

/// Runs `tinytrain` and checks that it succeeded.
pub fn ok(dir: &Path, args: &[&str]) -> Output {
    let output = tinytrain(dir, args);
    assert!(
        output.status.success(),
        "tinytrain {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Checks that `output` failed cleanly with every one of `needles` in its message.
pub fn assert_fails_with(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "missing {needle:?} in: {stderr}");
    }
}
