//! Turns the bundled CSV datasets the experiments train on (`BUNDLED`) into tables the crate embeds
//! with `include_bytes!` (`src/datasets.rs`), so a firmware carries its training data in flash:
//!
//! * `<name>_features.bin`: each row's features, row-major, in the narrowest encoding that gives
//!   back exactly the `f32` Rust's `str::parse::<f32>` reads from the CSV text (what a host reading
//!   the CSV gets, bit for bit): digits' pixels `0..=16` take one byte, iris's lengths four;
//! * `<name>_labels.bin`: one class byte per row (the last column, an integer `0..`);
//! * `tables.rs`: each dataset as a `Table` constant, with its row, feature and class counts as
//!   read from the file.
//!
//! Any malformed cell fails the build, naming the file, line and column: an experiment must never
//! train on silently altered data. The CSV files are read with the `csv` crate and `weights.json`
//! with `serde_json`, as on the host (build dependencies: they never reach the device).

use std::fmt::Write as _;
use std::{env, fs, path::Path, path::PathBuf};

#[allow(dead_code)]
#[path = "src/encoding.rs"]
mod encoding;

use encoding::Encoding;

/// The bundled datasets the experiments train on, by file stem (`data/<name>.csv`).
const BUNDLED: [&str; 2] = ["digits", "iris"];

/// A classification CSV: a header, the features, the class last.
struct Table {
    columns: usize,
    features: Vec<f32>,
    labels: Vec<u8>,
}

fn read(path: &Path) -> Table {
    println!("cargo:rerun-if-changed={}", path.display());
    let name = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .unwrap_or_else(|e| panic!("reading {name}: {e}"));
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("{name}: header: {e}"))
        .clone();
    let columns = header.len() - 1;
    let mut table = Table {
        columns,
        features: Vec::new(),
        labels: Vec::new(),
    };
    // The reader rejects a row whose width differs from the header's.
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{name}: {e}"));
        let line = record.position().map_or(0, |p| p.line());
        let label = &record[columns];
        table.labels.push(label.parse().unwrap_or_else(|e| {
            panic!(
                "{name}: line {line}, column '{}': label {label:?}: {e}",
                &header[columns]
            )
        }));
        for (cell, column) in record.iter().zip(&header).take(columns) {
            let value: f32 = cell
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .unwrap_or_else(|| {
                    panic!(
                        "{name}: line {line}, column '{column}': {cell:?} is not a finite number"
                    )
                });
            table.features.push(value);
        }
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

    let mut tables = String::new();
    for name in BUNDLED {
        let table = read(&data.join(format!("{name}.csv")));
        let encoding = Encoding::narrowest(table.features.iter().copied());
        let mut bytes = vec![0u8; table.features.len() * encoding.width()];
        for (v, cell) in table
            .features
            .iter()
            .zip(bytes.chunks_exact_mut(encoding.width()))
        {
            encoding.encode(*v, cell);
        }
        write(&out, &format!("{name}_features.bin"), &bytes);
        write(&out, &format!("{name}_labels.bin"), &table.labels);
        let upper = name.to_uppercase();
        let classes = table.labels.iter().max().map_or(0, |&c| usize::from(c) + 1);
        let _ = writeln!(
            tables,
            "/// `data/{name}.csv`: {rows} rows of {columns} features ({encoding:?}), {classes} classes.\n\
             pub const {upper}: Table = Table {{\n    features: {columns},\n    encoding: Encoding::{encoding:?},\n    \
             x: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}_features.bin\")),\n    \
             y: Targets::Classes(include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}_labels.bin\"))),\n}};\n\
             /// Rows of `data/{name}.csv`.\npub const {upper}_ROWS: usize = {rows};\n\
             /// Classes of `data/{name}.csv`.\npub const {upper}_CLASSES: usize = {classes};\n",
            rows = table.labels.len(),
            columns = table.columns,
        );
    }
    write(&out, "tables.rs", tables.as_bytes());
    init_weights(&out);
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/encoding.rs");
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
            // Built-in weights are dense layers only: a batch norm's running statistics have no
            // place in them (`tinytrain train --device --init` carries batch norms whole).
            let value: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("TINYTRAIN_INIT_WEIGHTS: {}: {e}", path.display()));
            let layers = value["layers"].as_array().map_or(&[][..], Vec::as_slice);
            if let Some(k) = layers.iter().position(|l| l["kind"] == "batch_norm") {
                panic!(
                    "TINYTRAIN_INIT_WEIGHTS: {}: layer {k} is a batch norm, and built-in weights \
                     carry dense layers only; use tinytrain train --device --init, which carries \
                     batch norms with their running statistics",
                    path.display()
                );
            }
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
