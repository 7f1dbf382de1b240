//! Turns the project's CSV datasets into compact binary tables that the crate embeds with
//! `include_bytes!`, so a firmware carries its training data in flash.
//!
//! * `digits_pixels.bin`: 1797 × 64 pixels, one `u8` each (0..=16), row-major.
//! * `digits_labels.bin`: one `u8` class per row.
//! * `iris_features.bin`: 150 × 4 features as `f32` little-endian bytes, each the value Rust's
//!   `str::parse::<f32>` gives for the CSV text (what a host reading the CSV gets, bit for bit).
//! * `iris_labels.bin`: one `u8` class per row.
//!
//! Any malformed cell fails the build: an experiment must never train on silently altered data.

use std::{env, fs, path::PathBuf};

struct Table {
    features: Vec<String>,
    labels: Vec<u8>,
}

fn read(path: &PathBuf, columns: usize, classes: u8) -> Table {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("{}: empty file", path.display()));
    assert_eq!(
        header.split(',').count(),
        columns + 1,
        "{}: header has the wrong width",
        path.display()
    );
    let mut table = Table {
        features: Vec::new(),
        labels: Vec::new(),
    };
    for (row, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.trim().split(',').collect();
        assert_eq!(
            cells.len(),
            columns + 1,
            "{}: row {row} has {} cells",
            path.display(),
            cells.len()
        );
        let label: u8 = cells[columns]
            .parse()
            .unwrap_or_else(|e| panic!("{}: row {row} label: {e}", path.display()));
        assert!(
            label < classes,
            "{}: row {row} label {label} out of range",
            path.display()
        );
        table
            .features
            .extend(cells[..columns].iter().map(|c| c.to_string()));
        table.labels.push(label);
    }
    table
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let data = manifest.join("../data");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    let digits_csv = data.join("digits.csv");
    println!("cargo:rerun-if-changed={}", digits_csv.display());
    let digits = read(&digits_csv, 64, 10);
    let pixels: Vec<u8> = digits
        .features
        .iter()
        .map(|c| match c.parse::<u8>() {
            Ok(p) if p <= 16 => p,
            _ => panic!("digits.csv: pixel {c:?} is not an integer in 0..=16"),
        })
        .collect();
    assert_eq!(digits.labels.len(), 1797, "digits.csv: expected 1797 rows");
    fs::write(out.join("digits_pixels.bin"), &pixels).expect("writing digits_pixels.bin");
    fs::write(out.join("digits_labels.bin"), &digits.labels).expect("writing digits_labels.bin");

    let iris_csv = data.join("iris.csv");
    println!("cargo:rerun-if-changed={}", iris_csv.display());
    let iris = read(&iris_csv, 4, 3);
    assert_eq!(iris.labels.len(), 150, "iris.csv: expected 150 rows");
    let mut features = Vec::with_capacity(iris.features.len() * 4);
    for cell in &iris.features {
        let value: f32 = cell
            .parse()
            .unwrap_or_else(|e| panic!("iris.csv: {cell:?}: {e}"));
        assert!(value.is_finite(), "iris.csv: {cell:?} is not finite");
        features.extend_from_slice(&value.to_le_bytes());
    }
    fs::write(out.join("iris_features.bin"), &features).expect("writing iris_features.bin");
    fs::write(out.join("iris_labels.bin"), &iris.labels).expect("writing iris_labels.bin");
    println!("cargo:rerun-if-changed=build.rs");
}
