//! `train --targets COL1,COL2,…`: several regression outputs from one CSV, each column standardised
//! by its own statistics; per-epoch errors averaged over the outputs (in standard deviations), and
//! each target's error in its own units in targets.json and from `predict`.

use std::path::Path;

mod common;

use common::{assert_fails_with, data, ok, tinytrain};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `train --no-plot` with `args` in `dir`; stderr.
fn train(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["train", "--no-plot"];
    all.extend_from_slice(args);
    String::from_utf8_lossy(&ok(dir, &all).stderr).into_owned()
}

/// One target named with `--targets` is the run `--label` makes: the same metrics, bit for bit, and
/// the same weights.
#[test]
fn one_target_column_is_the_label_run() {
    let dir = tempfile::tempdir().unwrap();
    let diabetes = data("diabetes.csv");
    let common = ["--data", diabetes.to_str().unwrap(), "--epochs", "8"];
    train(
        dir.path(),
        &[&common[..], &["--label", "target", "--out", "label"]].concat(),
    );
    train(
        dir.path(),
        &[&common[..], &["--targets", "target", "--out", "targets"]].concat(),
    );
    let read = |run: &str, file: &str| std::fs::read_to_string(dir.path().join(run).join(file));
    assert_eq!(
        read("label", "metrics.jsonl").unwrap(),
        read("targets", "metrics.jsonl").unwrap()
    );
    assert_eq!(
        read("label", "weights.json").unwrap(),
        read("targets", "weights.json").unwrap()
    );
    // targets.json's one MAE is the last val_mae, measured against the file's values instead of
    // the standardised-and-back ones the core counts: equal to about an f32 rounding.
    let last: serde_json::Value = serde_json::from_str(
        read("targets", "metrics.jsonl")
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let each = json(&dir.path().join("targets/targets.json"));
    let (mae, val_mae) = (
        each["targets"][0]["mae"].as_f64().unwrap(),
        last["val_mae"].as_f64().unwrap(),
    );
    assert!(
        (mae - val_mae).abs() <= 1e-5 * val_mae,
        "{mae} vs {val_mae}"
    );
}

/// Iris petals from sepals: two outputs; the manifest keeps both targets' statistics; targets.json
/// gives each target's validation MAE and RMSE in centimetres, which this test recomputes in f64
/// from `predict`'s output and the file; the per-epoch loss is PyTorch's `MSELoss(reduction='mean')`
/// over both outputs, so it equals the mean squared error of the standardised outputs.
#[test]
fn two_targets_train_and_each_is_measured_in_its_units() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    let stderr = train(
        dir.path(),
        &[
            "--data",
            iris,
            "--targets",
            "petal_length_cm,petal_width_cm",
            "--ignore",
            "label",
            "--epochs",
            "60",
            "--out",
            "run",
        ],
    );
    assert!(
        stderr.contains("regression on 2 targets (petal_length_cm, petal_width_cm; errors per epoch in standard deviations)"),
        "{stderr}"
    );
    let run = dir.path().join("run");
    let manifest = json(&run.join("manifest.json"));
    assert_eq!(
        manifest["config"]["targets"],
        serde_json::json!(["petal_length_cm", "petal_width_cm"])
    );
    assert_eq!(
        manifest["network"]["layers"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["Dense"]["outputs"],
        2
    );
    let normalization = &manifest["normalization"];
    assert_eq!(normalization["target_mean"].as_array().unwrap().len(), 2);

    // The file, and the validation rows.
    let text = std::fs::read_to_string(data("iris.csv")).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    let val: Vec<usize> = manifest["split"]["val_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();

    // predict: a column per target, in the targets' units.
    let out = ok(dir.path(), &["predict", "run", "--data", iris]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "predicted_petal_length_cm,predicted_petal_width_cm"
    );
    let predicted: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(predicted.len(), 150);
    let each = json(&run.join("targets.json"));
    assert_eq!(
        (each["rows"].as_str(), each["count"].as_u64()),
        (Some("validation"), Some(30))
    );
    for (j, column) in [(0, 2), (1, 3)] {
        let errors: Vec<f64> = val
            .iter()
            .map(|&r| predicted[r][j] - rows[r][column])
            .collect();
        let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / 30.0;
        let rmse = (errors.iter().map(|e| e * e).sum::<f64>() / 30.0).sqrt();
        let entry = &each["targets"][j];
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.max(1e-3);
        assert!(
            close(entry["mae"].as_f64().unwrap(), mae),
            "{entry} vs mae {mae}"
        );
        assert!(
            close(entry["rmse"].as_f64().unwrap(), rmse),
            "{entry} vs rmse {rmse}"
        );
    }
    // It learnt: petal length from the sepals to within 0.6 cm on average (its spread is 1.77 cm).
    assert!(each["targets"][0]["mae"].as_f64().unwrap() < 0.6, "{each}");
    // predict with the targets in the file: the core's averaged metrics, then each target's.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("(over 2 targets, in standard deviations)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("per target, on 150 data rows: petal_length_cm MAE"),
        "{stderr}"
    );

    // The loss is the mean over both outputs of the squared standardised error: from predict's
    // raw outputs and the manifest's statistics.
    let out = ok(dir.path(), &["predict", "run", "--data", iris, "--logits"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let raw: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(2).map(|c| c.parse().unwrap()).collect())
        .collect();
    let stat = |name: &str, j: usize| normalization[name][j].as_f64().unwrap();
    let mse: f64 = val
        .iter()
        .flat_map(|&r| {
            (0..2).map({
                let raw = &raw;
                let rows = &rows;
                move |j| {
                    let y = (rows[r][2 + j] as f32 - stat("target_mean", j) as f32) as f64
                        * stat("target_scale", j);
                    (raw[r][j] - y).powi(2)
                }
            })
        })
        .sum::<f64>()
        / 60.0;
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let val_loss = last["val_loss"].as_f64().unwrap();
    assert!(
        (val_loss - mse).abs() <= 1e-5 * mse,
        "val_loss {val_loss} vs {mse}"
    );
}

/// Mistakes name the option, the column or the reason (the device refuses what it cannot do).
#[test]
fn bad_targets_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    let fails = |args: &[&str], message: &str| {
        let mut all = vec!["train", "--no-plot", "--data", iris, "--epochs", "1"];
        all.extend_from_slice(args);
        assert_fails_with(&tinytrain(dir.path(), &all), &[message]);
    };
    fails(
        &["--targets", "petal_length_cm,petal_size"],
        "there is no label column 'petal_size'",
    );
    fails(
        &["--targets", "petal_length_cm,petal_length_cm"],
        "--targets names column 'petal_length_cm' twice",
    );
    fails(
        &[
            "--targets",
            "petal_length_cm",
            "--ignore",
            "petal_length_cm",
        ],
        "the label column cannot also be ignored",
    );
    fails(
        &[
            "--targets",
            "petal_length_cm,label",
            "--task",
            "classification",
        ],
        "--targets names regression targets, but --task is classification",
    );
    fails(
        &["--targets", "petal_length_cm", "--label", "label"],
        "cannot be used with",
    );
    fails(
        &[
            "--targets",
            "petal_length_cm,petal_width_cm",
            "--ignore",
            "label",
            "--device",
            "qemu",
            "--stream",
        ],
        "a sample frame carries one target",
    );
    // A target cell that is no number: the file, the line and the column.
    let path = dir.path().join("bad.csv");
    let text = std::fs::read_to_string(data("iris.csv")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 5 {
                l.replacen("0.2", "wide", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = tinytrain(
        dir.path(),
        &[
            "train",
            "--no-plot",
            "--data",
            "bad.csv",
            "--targets",
            "petal_length_cm,petal_width_cm",
            "--ignore",
            "label",
        ],
    );
    assert_fails_with(
        &out,
        &["bad.csv: line 6, column 'petal_width_cm' (4): 'wide' is not a number"],
    );
    // predict with only one of the two targets in the file.
    train(
        dir.path(),
        &[
            "--data",
            iris,
            "--targets",
            "petal_length_cm,petal_width_cm",
            "--ignore",
            "label",
            "--epochs",
            "1",
            "--out",
            "run",
        ],
    );
    let partial = dir.path().join("partial.csv");
    // The sepals and the petal length: no petal width, no label.
    let text: Vec<String> = text
        .lines()
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    std::fs::write(&partial, text.join("\n")).unwrap();
    let out = tinytrain(dir.path(), &["predict", "run", "--data", "partial.csv"]);
    assert_fails_with(&out, &["lacks 'petal_width_cm'"]);
}

/// The export of a `--targets` run: the Rust module (`#![no_std]`) predicts every target in its
/// units bit for bit as `tinytrain predict` does; the C header compiles warning-free and agrees to
/// 1e-6 (its first layer has the standardiser folded in, in double).
#[test]
fn a_run_with_several_targets_exports_to_rust_and_c() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    train(
        d,
        &[
            "--data",
            iris,
            "--targets",
            "petal_length_cm,petal_width_cm",
            "--ignore",
            "label",
            "--epochs",
            "20",
            "--out",
            "run",
        ],
    );
    // predict's values, as f32, for every row; and the rows' two sepal features.
    let csv = String::from_utf8(ok(d, &["predict", "run", "--data", iris]).stdout).unwrap();
    let want: Vec<Vec<f32>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    let text = std::fs::read_to_string(data("iris.csv")).unwrap();
    let rows: Vec<Vec<f32>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(2).map(|c| c.parse().unwrap()).collect())
        .collect();

    // Rust: a crate with the module and a program that prints predict()'s bits per row.
    let krate = d.join("exported");
    std::fs::create_dir_all(krate.join("src/bin")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"exported\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let module = krate.join("src/petals.rs");
    ok(
        d,
        &[
            "export",
            "run",
            "--format",
            "rust",
            "--out",
            module.to_str().unwrap(),
        ],
    );
    std::fs::write(krate.join("src/lib.rs"), "#![no_std]\npub mod petals;\n").unwrap();
    let table: Vec<String> = rows
        .iter()
        .map(|r| format!("[{:?}f32, {:?}f32]", r[0], r[1]))
        .collect();
    std::fs::write(
        krate.join("src/bin/run.rs"),
        format!(
            "fn main() {{\n    assert_eq!(exported::petals::TARGETS, [\"petal_length_cm\", \"petal_width_cm\"]);\n    for x in [{}] {{\n        let y = exported::petals::predict(&x);\n        println!(\"{{:08x}} {{:08x}}\", y[0].to_bits(), y[1].to_bits());\n    }}\n}}\n",
            table.join(", ")
        ),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = std::process::Command::new(cargo)
        .args(["run", "--release", "--offline", "--quiet", "--bin", "run"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", krate.join("target"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let lines: Vec<String> = String::from_utf8(built.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), want.len());
    for (line, want) in lines.iter().zip(&want) {
        assert_eq!(
            *line,
            format!("{:08x} {:08x}", want[0].to_bits(), want[1].to_bits())
        );
    }

    // C: predict() into an array, against predict's values.
    ok(
        d,
        &["export", "run", "--format", "c", "--out", "petals_model.h"],
    );
    let cells: Vec<String> = rows
        .iter()
        .map(|r| format!("{{{:?}f, {:?}f}}", r[0], r[1]))
        .collect();
    std::fs::write(
        d.join("main.c"),
        format!(
            "#include <stdio.h>\n#include <string.h>\n#include \"petals_model.h\"\n\
             static const float rows[{}][2] = {{{}}};\n\
             int main(void) {{\n    int r;\n    if (strcmp(petals_model_target_name(1), \"petal_width_cm\")) return 1;\n\
             \x20   for (r = 0; r < {}; r++) {{\n        float y[PETALS_MODEL_N_OUT];\n        petals_model_predict(rows[r], y);\n        printf(\"%.9g %.9g\\n\", y[0], y[1]);\n    }}\n    return 0;\n}}\n",
            rows.len(),
            cells.join(", "),
            rows.len()
        ),
    )
    .unwrap();
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let compiled = std::process::Command::new(cc)
        .args([
            "-std=c99",
            "-pedantic",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-O2",
            "-ffp-contract=off",
            "main.c",
            "-o",
            "main",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let out = std::process::Command::new(d.join("main")).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut worst = 0.0f32;
    for (line, want) in text.lines().zip(&want) {
        for (cell, &w) in line.split(' ').zip(want) {
            let got: f32 = cell.parse().unwrap();
            worst = worst.max((got - w).abs() / w.abs().max(1.0));
        }
    }
    assert_eq!(text.lines().count(), want.len());
    assert!(worst <= 1e-6, "the C export is {worst} off");
}
