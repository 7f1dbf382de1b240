//! Packs the firmware's sources into the binary, so that `tinytrain train --device` builds a
//! firmware from any installed `tinytrain` (`cargo install --path host`), never from the checkout it
//! was built in (see `src/device/firmware.rs`, which unpacks them).
//!
//! `OUT_DIR/firmware-sources.bin` is the files below, each as `path length (u32 LE) · path · size
//! (u32 LE) · bytes`, paths relative to the project root with `/`. No absolute path is recorded.

use std::{env, fs, path::Path, path::PathBuf};

/// What a firmware build reads: the firmware workspace, the two crates it depends on, and the
/// bundled CSVs `experiments/build.rs` embeds.
const TREES: [&str; 5] = [
    "core/src",
    "experiments/src",
    "firmware/src",
    "firmware/memory",
    "firmware/.cargo",
];
const FILES: [&str; 12] = [
    "Cargo.toml",
    "rust-toolchain.toml",
    "core/Cargo.toml",
    "experiments/Cargo.toml",
    "experiments/build.rs",
    "firmware/Cargo.toml",
    "firmware/Cargo.lock",
    "firmware/build.rs",
    "firmware/rust-toolchain.toml",
    "firmware/qemu-run.sh",
    "data/digits.csv",
    "data/iris.csv",
];

fn add(root: &Path, relative: &str, out: &mut Vec<u8>) {
    let path = root.join(relative);
    let mut bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if relative == "Cargo.toml" {
        // The root workspace, cut to the two crates a firmware build needs (their manifests
        // inherit its `[workspace.package]`); the host and the tests are not packed.
        let text = String::from_utf8(bytes).expect("Cargo.toml is UTF-8");
        let members = text
            .lines()
            .find(|l| l.starts_with("members"))
            .expect("Cargo.toml lists its members");
        bytes = text
            .replace(members, r#"members = ["core", "experiments"]"#)
            .into_bytes();
    }
    if relative == "core/Cargo.toml" {
        // The core's benches and their dev-dependency on this host crate are not packed.
        let text = String::from_utf8(bytes).expect("core/Cargo.toml is UTF-8");
        let cut = text.find("[dev-dependencies]").unwrap_or(text.len());
        bytes = text[..cut].to_string().into_bytes();
    }
    out.extend_from_slice(&(relative.len() as u32).to_le_bytes());
    out.extend_from_slice(relative.as_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&bytes);
}

fn walk(root: &Path, relative: &str, out: &mut Vec<u8>) {
    let dir = root.join(relative);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").file_name())
        .collect();
    entries.sort(); // the same bytes, so the same cache key, on every machine
    for name in entries {
        let name = name.to_str().expect("UTF-8 file names").to_string();
        let child = format!("{relative}/{name}");
        if root.join(&child).is_dir() {
            walk(root, &child, out);
        } else {
            add(root, &child, out);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("host/ has a parent").to_path_buf();
    let mut archive = Vec::new();
    for file in FILES {
        println!("cargo:rerun-if-changed=../{file}");
        add(&root, file, &mut archive);
    }
    for tree in TREES {
        println!("cargo:rerun-if-changed=../{tree}");
        walk(&root, tree, &mut archive);
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("firmware-sources.bin"), archive).expect("writing firmware-sources.bin");
    println!("cargo:rerun-if-changed=build.rs");
}
