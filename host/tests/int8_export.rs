//! `tinytrain export --int8` as a user runs it: the exported int8 module, built in a `#![no_std]`
//! crate, gives the host's int8 quantisation and classes of every validation row exactly (ReLU
//! fused, tanh/sigmoid/LeakyReLU tables, the sigmoid head, with and without standardisation); the
//! int8 accuracy stays within a stated tolerance of the float accuracy on iris and digits; and the
//! runs `--int8` cannot quantise are refused with a reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tinytrain_host::export::int8::rows::RunRows;
use tinytrain_host::export::int8::{Comparison, Int8Model};
use tinytrain_host::model::Model;

mod common;

use common::{assert_fails_with, data, ok, tinytrain};

/// Trains `dataset` into `dir/out` with `options` (space-separated) and returns the run directory.
fn train(dir: &Path, dataset: &str, out: &str, options: &str) -> PathBuf {
    let path = data(dataset);
    let mut args = vec![
        "train",
        "--data",
        path.to_str().unwrap(),
        "--out",
        out,
        "--quiet",
        "--no-plot",
    ];
    args.extend(options.split_whitespace());
    ok(dir, &args);
    dir.join(out)
}

/// The host's side of a run: the model, its rows, its int8 quantisation.
struct Host {
    model: Model,
    rows: RunRows,
    int8: Int8Model,
}

fn host(run: &Path) -> Host {
    let model = Model::load(run).unwrap();
    let rows = RunRows::load(&model, None).unwrap();
    let int8 = Int8Model::calibrate(&model, &rows.train).unwrap();
    Host { model, rows, int8 }
}

#[test]
fn the_int8_export_builds_no_std_and_equals_the_hosts_int8_model_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runs: Vec<(&str, PathBuf)> = [
        // Softmax over 3 classes, ReLU fused into its dense layer, dropout.
        ("iris", "iris.csv", "--epochs 40"),
        // The binary sigmoid head, two tanh tables, 30 features.
        (
            "cancer",
            "breast_cancer.csv",
            "--epochs 5 --hidden 16,8 --activation tanh",
        ),
        // A LeakyReLU table, no standardisation: the raw input is quantised (iris: raw wine
        // features, proline in the thousands, leave a short float run at one class).
        (
            "raw_iris",
            "iris.csv",
            "--epochs 40 --hidden 16 --activation leaky-relu --normalize none",
        ),
        // A sigmoid table, 10 classes, 64 features.
        (
            "digits",
            "digits.csv",
            "--epochs 3 --hidden 32 --activation sigmoid",
        ),
    ]
    .into_iter()
    .map(|(name, dataset, options)| (name, train(d, dataset, name, options)))
    .collect();

    // A no_std library of the exports and a std program that prints, per `NAME BITS…` line, the
    // int8 row, the int8 logits and the class.
    let krate = d.join("exported");
    std::fs::create_dir_all(krate.join("src/bin")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"exported\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let mut lib = String::from("#![no_std]\n#![forbid(unsafe_code)]\n");
    let mut arms = String::new();
    for (name, run) in &runs {
        let module = krate.join(format!("src/{name}.rs"));
        let output = ok(
            d,
            &[
                "export",
                run.to_str().unwrap(),
                "--int8",
                "--format",
                "rust",
                "--out",
                module.to_str().unwrap(),
            ],
        );
        // stderr states what the host measured.
        let h = host(run);
        let comparison =
            Comparison::measure(&h.model, &h.int8, &h.rows.val, &h.rows.val_classes).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&comparison.text()), "{stderr}");
        assert!(stderr.contains("bytes of constants"), "{stderr}");
        lib.push_str(&format!("pub mod {name};\n"));
        arms.push_str(&format!(
            "            \"{name}\" => {{ use exported::{name} as m; let x = x.try_into().unwrap(); \
             let q = m::quantize_input(&x); (ints(&q), ints(&m::forward_int8(&q)), m::predict(&x), m::predict_int8(&q)) }}\n"
        ));
    }
    std::fs::write(krate.join("src/lib.rs"), lib).unwrap();
    std::fs::write(
        krate.join("src/bin/run.rs"),
        format!(
            "use std::io::BufRead;\n\
             fn ints(v: &[i8]) -> String {{ v.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(\",\") }}\n\
             fn main() {{\n\
             \x20   for line in std::io::stdin().lock().lines() {{\n\
             \x20       let line = line.unwrap();\n\
             \x20       let mut cells = line.split(' ');\n\
             \x20       let name = cells.next().unwrap();\n\
             \x20       let x: Vec<f32> = cells.map(|c| f32::from_bits(u32::from_str_radix(c, 16).unwrap())).collect();\n\
             \x20       let (q, logits, class, class_int8) = match name {{\n{arms}\
             \x20           _ => panic!(\"no module {{name}}\"),\n\
             \x20       }};\n\
             \x20       assert_eq!(class, class_int8);\n\
             \x20       println!(\"{{q}} {{logits}} {{class}}\");\n\
             \x20   }}\n\
             }}\n"
        ),
    )
    .unwrap();
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let mut command = Command::new(&cargo);
    // The toolchain that runs this test, not the default one of the temporary directory.
    let rustc = cargo.with_file_name("rustc");
    if rustc.is_file() {
        command.env("RUSTC", rustc);
    }
    let build = command
        .args(["build", "--release", "--offline", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", krate.join("target"))
        // Warnings in the generated code fail the build.
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the exported crate does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let ints = |v: &[i8]| {
        v.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    for (name, run) in &runs {
        let h = host(run);
        let input: String = h
            .rows
            .val
            .iter()
            .map(|x| {
                let bits: Vec<String> = x.iter().map(|v| format!("{:08x}", v.to_bits())).collect();
                format!("{name} {}\n", bits.join(" "))
            })
            .collect();
        // From a file: through a pipe, digits' output would fill its buffer before the input is
        // all written.
        let rows_file = d.join(format!("{name}-rows.txt"));
        std::fs::write(&rows_file, input).unwrap();
        let output = Command::new(krate.join("target/release/run"))
            .stdin(std::fs::File::open(&rows_file).unwrap())
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: the program failed");
        let lines: Vec<String> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(lines.len(), h.rows.val.len(), "{name}: one line per row");
        let mut classes = std::collections::BTreeSet::new();
        for (row, (line, x)) in lines.iter().zip(&h.rows.val).enumerate() {
            let q = h.int8.quantize(x);
            let logits = h.int8.forward(&q);
            let class = h.int8.predict(x);
            classes.insert(class);
            let want = format!("{} {} {class}", ints(&q), ints(&logits));
            assert_eq!(
                *line, want,
                "{name} row {row}: device vs host (q, logits, class)"
            );
        }
        // Not a degenerate model that answers one class for everything.
        assert!(classes.len() > 1, "{name}: the int8 classes {classes:?}");
    }
}

/// Validation rows the int8 model may lose against the float one: 2 points of accuracy, rounded
/// down (none of iris's 30 rows, 7 of digits' 359).
fn allowed_loss(rows: usize) -> usize {
    rows * 2 / 100
}

#[test]
fn int8_accuracy_is_within_two_percent_of_float_on_iris_and_digits() {
    let dir = tempfile::tempdir().unwrap();
    for (dataset, options) in [
        // README's accuracy settings (host/src/accuracy.rs), seed 1.
        (
            "iris.csv",
            "--epochs 200 --hidden 64,32 --batch 16 --seed 1",
        ),
        ("digits.csv", "--seed 1"),
    ] {
        let run = train(dir.path(), dataset, dataset, options);
        let h = host(&run);
        let c = Comparison::measure(&h.model, &h.int8, &h.rows.val, &h.rows.val_classes).unwrap();
        eprintln!("{dataset}: {}", c.text());
        assert!(
            c.int8_correct + allowed_loss(c.rows) >= c.float_correct,
            "{dataset}: {}",
            c.text()
        );
        // The float side is the run's own last validation accuracy.
        let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        let val_acc = last["val_acc"].as_f64().unwrap() as f32;
        assert_eq!(val_acc, c.float_correct as f32 / c.rows as f32, "{dataset}");
    }
}

#[test]
fn export_int8_refuses_what_it_cannot_quantise_and_data_that_is_not_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train(d, "diabetes.csv", "diabetes", "--epochs 2");
    assert_fails_with(
        &tinytrain(d, &["export", "diabetes", "--int8", "--format", "rust"]),
        &["diabetes is a regression run: --int8 quantises classification runs"],
    );
    train(d, "iris.csv", "iris", "--epochs 2");
    assert_fails_with(
        &tinytrain(d, &["export", "iris", "--int8", "--format", "c"]),
        &["--int8 exports Rust only (--format rust)"],
    );
    // Another file with the run's columns: its split is not the run's.
    let text = std::fs::read_to_string(data("iris.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.truncate(120);
    std::fs::write(d.join("fewer.csv"), lines.join("\n") + "\n").unwrap();
    assert_fails_with(
        &tinytrain(
            d,
            &[
                "export",
                "iris",
                "--int8",
                "--format",
                "rust",
                "--data",
                "fewer.csv",
            ],
        ),
        &["differs from the run's", "--data FILE.csv"],
    );
    // The same rows in another file are accepted; --data needs --int8.
    std::fs::write(d.join("copy.csv"), &text).unwrap();
    ok(
        d,
        &[
            "export", "iris", "--int8", "--format", "rust", "--data", "copy.csv", "--out", "m.rs",
        ],
    );
    assert!(std::fs::read_to_string(d.join("m.rs"))
        .unwrap()
        .contains("pub fn forward_int8(q: &[i8; N_IN]) -> [i8; N_OUT]"));
    let output = tinytrain(
        d,
        &["export", "iris", "--format", "rust", "--data", "copy.csv"],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--int8"));
}
