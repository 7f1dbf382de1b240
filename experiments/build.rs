//! Turns the project's CSV datasets into compact binary tables that the crate embeds with
//! `include_bytes!`, so a firmware carries its training data in flash (the row counts follow from
//! the tables' lengths, see `src/datasets.rs`).
//!
//! * `digits_pixels.bin`: 64 pixels per row, one `u8` each (0..=16), row-major.
//! * `digits_labels.bin`: one `u8` class per row.
//! * `iris_features.bin`: 4 features per row as `f32` little-endian bytes, each the value Rust's
//!   `str::parse::<f32>` gives for the CSV text (what a host reading the CSV gets, bit for bit).
//! * `iris_labels.bin`: one `u8` class per row.
//!
//! Any malformed cell fails the build: an experiment must never train on silently altered data.
//! The CSV files are read with the `csv` crate and `weights.json` with `serde_json`, as on the host
//! (build dependencies: they never reach the device).

use std::{env, fs, path::Path, path::PathBuf};

/// A classification CSV: a header, `columns` feature cells and the class (`< classes`) last.
struct Table {
    features: Vec<String>,
    labels: Vec<u8>,
}

fn read(path: &Path, columns: usize, classes: u8) -> Table {
    println!("cargo:rerun-if-changed={}", path.display());
    let name = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .unwrap_or_else(|e| panic!("reading {name}: {e}"));
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("{name}: header: {e}"));
    assert_eq!(
        header.len(),
        columns + 1,
        "{name}: header has the wrong width"
    );
    let mut table = Table {
        features: Vec::new(),
        labels: Vec::new(),
    };
    // The reader rejects a row whose width differs from the header's.
    for (row, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("{name}: row {row}: {e}"));
        let label: u8 = record[columns]
            .parse()
            .unwrap_or_else(|e| panic!("{name}: row {row} label: {e}"));
        assert!(
            label < classes,
            "{name}: row {row} label {label} out of range"
        );
        table
            .features
            .extend(record.iter().take(columns).map(str::to_string));
        table.labels.push(label);
    }
    table
}

/// Writes `OUT_DIR/name`.
fn write(out: &Path, name: &str, bytes: &[u8]) {
    fs::write(out.join(name), bytes).unwrap_or_else(|e| panic!("writing {name}: {e}"));
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let data = manifest.join("../data");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    let digits = read(&data.join("digits.csv"), 64, 10);
    let pixels: Vec<u8> = digits
        .features
        .iter()
        .map(|c| match c.parse::<u8>() {
            Ok(p) if p <= 16 => p,
            _ => panic!("digits.csv: pixel {c:?} is not an integer in 0..=16"),
        })
        .collect();
    write(&out, "digits_pixels.bin", &pixels);
    write(&out, "digits_labels.bin", &digits.labels);

    let iris = read(&data.join("iris.csv"), 4, 3);
    let mut features = Vec::with_capacity(iris.features.len() * 4);
    for cell in &iris.features {
        let value: f32 = cell
            .parse()
            .unwrap_or_else(|e| panic!("iris.csv: {cell:?}: {e}"));
        assert!(value.is_finite(), "iris.csv: {cell:?} is not finite");
        features.extend_from_slice(&value.to_le_bytes());
    }
    write(&out, "iris_features.bin", &features);
    write(&out, "iris_labels.bin", &iris.labels);
    init_weights(&out);
    println!("cargo:rerun-if-changed=build.rs");
}

/// `TINYTRAIN_INIT_WEIGHTS=path/to/weights.json`: the parameters as `OUT_DIR/init_weights.rs`
/// (see `src/init.rs`), with `TINYTRAIN_INIT_EXPERIMENT` naming the experiment (default: the one
/// whose network has the file's shape, decided at compile time). Unset: no built-in weights.
fn init_weights(out: &Path) {
    println!("cargo:rerun-if-env-changed=TINYTRAIN_INIT_WEIGHTS");
    println!("cargo:rerun-if-env-changed=TINYTRAIN_INIT_EXPERIMENT");
    let experiment = env::var("TINYTRAIN_INIT_EXPERIMENT").unwrap_or_default();
    let code = match env::var_os("TINYTRAIN_INIT_WEIGHTS").filter(|p| !p.is_empty()) {
        None => "pub const SOURCE: Option<&str> = None;\npub const EXPERIMENT: &str = \"\";\n\
                 pub const SHAPES: &[(usize, usize)] = &[];\npub const PARAMS: &[f32] = &[];\n"
            .to_string(),
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "TINYTRAIN_INIT_WEIGHTS: cannot read {}: {e}",
                    path.display()
                )
            });
            // The host's `weights.json` types (host/src/weights.rs), read the same way.
            let file: Weights = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("TINYTRAIN_INIT_WEIGHTS: {}: {e}", path.display()));
            let mut shapes = Vec::new();
            let mut params = Vec::new();
            for (k, Dense { weight, bias }) in file.layers.iter().enumerate() {
                assert!(
                    weight.iter().flatten().chain(bias).all(|v| v.is_finite()),
                    "TINYTRAIN_INIT_WEIGHTS: layer {k}: a parameter is not finite"
                );
                let outputs = weight.len();
                let inputs = weight.first().map_or(0, Vec::len);
                assert!(
                    outputs > 0 && inputs > 0 && weight.iter().all(|row| row.len() == inputs),
                    "TINYTRAIN_INIT_WEIGHTS: layer {k}: the weight is not a non-empty [outputs][inputs] matrix"
                );
                assert_eq!(
                    bias.len(),
                    outputs,
                    "TINYTRAIN_INIT_WEIGHTS: layer {k}: {outputs} weight rows but {} biases",
                    bias.len()
                );
                shapes.push((inputs, outputs));
                weight.iter().for_each(|row| params.extend_from_slice(row));
                params.extend_from_slice(bias);
            }
            let shapes: Vec<String> = shapes.iter().map(|(i, o)| format!("({i}, {o})")).collect();
            let params: Vec<String> = params
                .iter()
                .map(|v| format!("f32::from_bits({:#010x})", v.to_bits()))
                .collect();
            format!(
                "pub const SOURCE: Option<&str> = Some({:?});\npub const EXPERIMENT: &str = {experiment:?};\n\
                 pub const SHAPES: &[(usize, usize)] = &[{}];\npub const PARAMS: &[f32] = &[{}];\n",
                path.display().to_string(),
                shapes.join(", "),
                params.join(", ")
            )
        }
    };
    write(out, "init_weights.rs", code.as_bytes());
}

/// `weights.json`: `{"layers":[{"weight":[[..]],"bias":[..]}, ...]}`.
#[derive(serde::Deserialize)]
struct Weights {
    layers: Vec<Dense>,
}

/// One dense layer: `weight` `[outputs][inputs]`, `bias` `[outputs]`.
#[derive(serde::Deserialize)]
struct Dense {
    weight: Vec<Vec<f32>>,
    bias: Vec<f32>,
}
