//! `tinytrain predict` and `tinytrain export` as a user runs them: predicting a run's validation
//! rows reproduces its last epoch's validation metrics bit for bit; the exported Rust module,
//! built in a `#![no_std]` crate, gives `predict`'s outputs bit for bit; the exported C header,
//! compiled with the system's `cc`, agrees with them to 1e-6.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::{assert_fails_with, data, ok, tinytrain};

/// Trains `dataset` into `dir/out` (no early stopping: `weights.json` is the last epoch's) and
/// returns the run directory.
fn train(dir: &Path, dataset: &str, out: &str, extra: &[&str]) -> PathBuf {
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
    args.extend_from_slice(extra);
    ok(dir, &args);
    dir.join(out)
}

fn manifest(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap()
}

/// The last record of `metrics.jsonl`.
fn last_record(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

/// Writes the run's validation rows of `dataset` (header, then the rows in the manifest's order)
/// to `path`. The bundled files have no blank lines, so data row `r` is line `r + 2`.
fn validation_csv(run: &Path, dataset: &str, path: &Path) {
    let text = std::fs::read_to_string(data(dataset)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = format!("{}\n", lines[0]);
    for row in manifest(run)["split"]["val_rows"].as_array().unwrap() {
        out.push_str(lines[row.as_u64().unwrap() as usize + 1]);
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// The value after `name ` in `text` (a metrics line), as `f32`.
fn metric(text: &str, name: &str) -> f32 {
    let start = text
        .find(&format!("{name} "))
        .unwrap_or_else(|| panic!("no {name} in {text}"));
    let value = text[start + name.len() + 1..]
        .split([' ', ',', '\n'])
        .next()
        .unwrap();
    value
        .parse()
        .unwrap_or_else(|e| panic!("{name} {value:?} in {text}: {e}"))
}

/// The record's field as `f32` (shortest round-trip decimals in `metrics.jsonl`).
fn field(record: &serde_json::Value, name: &str) -> f32 {
    record[name].as_f64().unwrap() as f32
}

/// A CSV file as rows of cells (no quoting in the files these tests read).
fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let split = |l: &str| l.split(',').map(str::to_string).collect::<Vec<_>>();
    let header = split(lines.next().unwrap());
    (header, lines.map(split).collect())
}

#[test]
fn predict_on_the_validation_rows_reproduces_the_last_epochs_metrics_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "iris.csv", "iris", &["--epochs", "40"]);
    let val = dir.path().join("val.csv");
    validation_csv(&run, "iris.csv", &val);
    let output = ok(
        dir.path(),
        &["predict", "iris", "--data", "val.csv", "--out", "pred.csv"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let record = last_record(&run);
    for (printed, recorded) in [
        ("accuracy", "val_acc"),
        ("macro F1", "val_f1"),
        ("loss", "val_loss"),
    ] {
        assert_eq!(
            metric(&stderr, printed).to_bits(),
            field(&record, recorded).to_bits(),
            "{printed} vs {recorded}: {stderr}"
        );
    }
    assert!(output.stdout.is_empty());
    // The file: one row per validation row, the class names, probabilities that sum to one.
    let (header, rows) = csv_rows(&std::fs::read_to_string(dir.path().join("pred.csv")).unwrap());
    assert_eq!(header, ["predicted", "p_0", "p_1", "p_2"]);
    assert_eq!(rows.len(), 30);
    let (_, truth) = csv_rows(&std::fs::read_to_string(&val).unwrap());
    let correct = rows
        .iter()
        .zip(&truth)
        .filter(|(p, t)| p[0] == *t.last().unwrap())
        .count();
    assert_eq!(correct as f32 / 30.0, field(&record, "val_acc"));
    for row in &rows {
        let p: Vec<f32> = row[1..].iter().map(|c| c.parse().unwrap()).collect();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        let best = (0..3).fold(0, |b, k| if p[k] > p[b] { k } else { b });
        assert_eq!(row[0], best.to_string());
    }
}

#[test]
fn predict_reproduces_a_regression_runs_mae_and_rmse_in_the_targets_units() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "diabetes.csv", "diabetes", &["--epochs", "15"]);
    validation_csv(&run, "diabetes.csv", &dir.path().join("val.csv"));
    let output = ok(dir.path(), &["predict", "diabetes", "--data", "val.csv"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let record = last_record(&run);
    for (printed, recorded) in [
        ("MAE", "val_mae"),
        ("RMSE", "val_rmse"),
        ("loss", "val_loss"),
    ] {
        assert_eq!(
            metric(&stderr, printed).to_bits(),
            field(&record, recorded).to_bits(),
            "{printed} vs {recorded}: {stderr}"
        );
    }
    // Without --out the predictions go to stdout: the target's units (hundreds), not standardised.
    let (header, rows) = csv_rows(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(header, ["predicted"]);
    let mean = rows
        .iter()
        .map(|r| r[0].parse::<f32>().unwrap())
        .sum::<f32>()
        / rows.len() as f32;
    assert!((50.0..300.0).contains(&mean), "{mean}");
}

#[test]
fn predict_refuses_to_overwrite_and_explains_bad_runs_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train(d, "iris.csv", "iris", &["--epochs", "2"]);
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();

    // Features by name in any order; no label column, no metrics.
    write(
        "new.csv",
        "petal_width_cm,petal_length_cm,sepal_width_cm,sepal_length_cm\n0.2,1.4,3.5,5.1\n",
    );
    let output = ok(
        d,
        &["predict", "iris", "--data", "new.csv", "--out", "p.csv"],
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("accuracy"));
    assert_fails_with(
        &tinytrain(
            d,
            &["predict", "iris", "--data", "new.csv", "--out", "p.csv"],
        ),
        &["p.csv exists; pass --force"],
    );
    ok(
        d,
        &[
            "predict", "iris", "--data", "new.csv", "--out", "p.csv", "--force",
        ],
    );
    assert!(!d.join(format!("p.csv.tmp{}", std::process::id())).exists());

    for (text, needles) in [
        (
            "sepal_length_cm,sepal_width_cm,petal_length_cm\n5.1,3.5,1.4\n",
            &["new.csv: line 1: the file lacks the run's feature column(s) 'petal_width_cm'"][..],
        ),
        (
            "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,colour\n5.1,3.5,1.4,0.2,red\n",
            &["new.csv: line 1, column 'colour' (5): the run was not trained on this column", "--ignore"],
        ),
        (
            "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n\n5.1,3.5,x,0.2\n",
            &["new.csv: line 3, column 'petal_length_cm' (3): 'x' is not a number"],
        ),
        (
            "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,label\n5.1,3.5,1.4,0.2,7\n",
            &["new.csv: line 2, column 'label' (5): class '7' is not one of the run's classes ('0', '1', '2')"],
        ),
    ] {
        write("new.csv", text);
        assert_fails_with(&tinytrain(d, &["predict", "iris", "--data", "new.csv"]), needles);
    }
    // --ignore leaves a column out.
    write(
        "new.csv",
        "id,sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\nx1,5.1,3.5,1.4,0.2\n",
    );
    ok(
        d,
        &["predict", "iris", "--data", "new.csv", "--ignore", "id"],
    );

    // A run directory without weights, and a directory that is no run.
    std::fs::remove_file(d.join("iris/weights.json")).unwrap();
    assert_fails_with(
        &tinytrain(d, &["predict", "iris", "--data", "new.csv"]),
        &["iris has no weights.json: the run has not finished"],
    );
    std::fs::create_dir(d.join("empty")).unwrap();
    assert_fails_with(
        &tinytrain(d, &["export", "empty", "--format", "c"]),
        &["empty has no manifest.json: not a run directory"],
    );
}

/// Raw feature values of every row of `csv` in the run's feature order, parsed as the host's
/// reader parses them (`f64`, then rounded to `f32`).
fn features_of(run: &Path, csv: &Path) -> Vec<Vec<f32>> {
    let names: Vec<String> = manifest(run)["data"]["feature_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let (header, rows) = csv_rows(&std::fs::read_to_string(csv).unwrap());
    let index: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).unwrap())
        .collect();
    rows.iter()
        .map(|row| {
            index
                .iter()
                .map(|&k| row[k].trim().parse::<f64>().unwrap() as f32)
                .collect()
        })
        .collect()
}

/// `predict --logits` on `csv`: per row, the `predicted` cell and the raw outputs.
fn predicted(dir: &Path, run: &str, csv: &Path) -> Vec<(String, Vec<f32>)> {
    let output = ok(
        dir,
        &["predict", run, "--data", csv.to_str().unwrap(), "--logits"],
    );
    let (header, rows) = csv_rows(&String::from_utf8(output.stdout).unwrap());
    let first = header
        .iter()
        .position(|h| h.starts_with("logit") || h == "output")
        .unwrap();
    rows.into_iter()
        .map(|row| {
            let outputs = row[first..].iter().map(|c| c.parse().unwrap()).collect();
            (row[0].clone(), outputs)
        })
        .collect()
}

/// The source directory of the `libm` crate the workspace builds (the exported module's tanh and
/// sigmoid call it), from `Cargo.lock` and the cargo registry.
fn libm_source() -> PathBuf {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"))
        .unwrap();
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"libm\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path().join(format!("libm-{version}")))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("libm {version} is not in {}", src.display()))
}

/// The runs the export tests use: (module name, run directory, validation CSV).
fn export_runs(dir: &Path) -> Vec<(&'static str, PathBuf, PathBuf)> {
    [
        // Softmax over 3 classes, ReLU, dropout.
        ("iris", "iris.csv", "--epochs 40"),
        // The binary sigmoid head, two tanh hidden layers, 30 features.
        (
            "cancer",
            "breast_cancer.csv",
            "--epochs 5 --hidden 16,8 --activation tanh",
        ),
        // Regression (the target in its units), a sigmoid hidden layer.
        (
            "diabetes",
            "diabetes.csv",
            "--epochs 10 --hidden 16 --activation sigmoid",
        ),
        // LeakyReLU, and no standardisation: the raw input feeds the first layer.
        (
            "wine",
            "wine.csv",
            "--epochs 5 --hidden 8 --activation leaky-relu --normalize none",
        ),
    ]
    .into_iter()
    .map(|(name, dataset, options)| {
        let options: Vec<&str> = options.split(' ').collect();
        let run = train(dir, dataset, name, &options);
        let val = dir.join(format!("{name}-val.csv"));
        validation_csv(&run, dataset, &val);
        (name, run, val)
    })
    .collect()
}

/// A `#![no_std]` library crate holding one exported module per run, and a std binary that reads
/// `MODULE BITS…` lines (the features' `f32` bits in hex) and prints each module's outputs' bits
/// and its `predict`.
fn build_rust_crate(dir: &Path, runs: &[(&str, PathBuf, PathBuf)]) -> PathBuf {
    let krate = dir.join("exported");
    std::fs::create_dir_all(krate.join("src/bin")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"exported\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nlibm = {{ path = {:?} }}\n\n[workspace]\n",
            libm_source().display().to_string()
        ),
    )
    .unwrap();
    let mut lib = String::from("#![no_std]\n");
    let mut arms = String::new();
    for (name, run, _) in runs {
        let module = krate.join(format!("src/{name}.rs"));
        ok(
            dir,
            &[
                "export",
                run.to_str().unwrap(),
                "--format",
                "rust",
                "--out",
                module.to_str().unwrap(),
            ],
        );
        lib.push_str(&format!("pub mod {name};\n"));
        arms.push_str(&format!(
            "            \"{name}\" => {{ let x = x.try_into().unwrap(); \
             (bits(&exported::{name}::forward(&x)), format!(\"{{}}\", exported::{name}::predict(&x))) }}\n"
        ));
    }
    std::fs::write(krate.join("src/lib.rs"), lib).unwrap();
    std::fs::write(
        krate.join("src/bin/run.rs"),
        format!(
            "use std::io::BufRead;\n\
             fn bits(v: &[f32]) -> String {{ v.iter().map(|v| format!(\"{{:08x}}\", v.to_bits())).collect::<Vec<_>>().join(\" \") }}\n\
             fn main() {{\n\
             \x20   for line in std::io::stdin().lock().lines() {{\n\
             \x20       let line = line.unwrap();\n\
             \x20       let mut cells = line.split(' ');\n\
             \x20       let name = cells.next().unwrap();\n\
             \x20       let x: Vec<f32> = cells.map(|c| f32::from_bits(u32::from_str_radix(c, 16).unwrap())).collect();\n\
             \x20       let (out, predicted) = match name {{\n{arms}\
             \x20           _ => panic!(\"no module {{name}}\"),\n\
             \x20       }};\n\
             \x20       println!(\"{{out}} {{predicted}}\");\n\
             \x20   }}\n\
             }}\n"
        ),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--offline", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", krate.join("target"))
        // libm is a path dependency here, so its lints would be shown.
        .env("RUSTFLAGS", "--cap-lints=allow")
        .status()
        .unwrap();
    assert!(status.success(), "the exported crate does not build");
    krate.join("target/release/run")
}

#[test]
fn the_rust_export_builds_no_std_and_equals_predict_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let runs = export_runs(dir.path());
    let program = build_rust_crate(dir.path(), &runs);
    for (name, run, val) in &runs {
        let rows = features_of(run, val);
        let input: String = rows
            .iter()
            .map(|x| {
                let bits: Vec<String> = x.iter().map(|v| format!("{:08x}", v.to_bits())).collect();
                format!("{name} {}\n", bits.join(" "))
            })
            .collect();
        let mut child = Command::new(&program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let lines: Vec<String> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let expected = predicted(dir.path(), name, val);
        assert_eq!(lines.len(), expected.len());
        let classes: Vec<String> = manifest(run)["data"]["class_names"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        for (line, (label, outputs)) in lines.iter().zip(&expected) {
            let mut cells: Vec<&str> = line.split(' ').collect();
            let predict = cells.pop().unwrap();
            let want: Vec<String> = outputs
                .iter()
                .map(|v| format!("{:08x}", v.to_bits()))
                .collect();
            assert_eq!(cells, want, "{name}: the outputs' bits");
            if classes.is_empty() {
                let value: f32 = predict.parse().unwrap();
                let want: f32 = label.parse().unwrap();
                assert_eq!(value.to_bits(), want.to_bits(), "{name}: predict()");
            } else {
                assert_eq!(classes[predict.parse::<usize>().unwrap()], *label, "{name}");
            }
        }
    }
}

#[test]
fn the_c_export_compiles_and_agrees_with_predict_to_1e_6() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runs = export_runs(d);
    let mut program = String::from("#include <stdio.h>\n#include <string.h>\n");
    let mut body = String::new();
    let mut expected: HashMap<&str, Vec<(String, Vec<f32>)>> = HashMap::new();
    for (name, run, val) in &runs {
        let header = format!("{name}_model.h");
        let output = ok(
            d,
            &[
                "export",
                run.to_str().unwrap(),
                "--format",
                "c",
                "--out",
                &header,
            ],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("bytes of constants"), "{stderr}");
        program.push_str(&format!("#include \"{header}\"\n"));
        let rows = features_of(run, val);
        let n_in = rows[0].len();
        let bits: Vec<String> = rows
            .iter()
            .map(|x| {
                let cells: Vec<String> = x
                    .iter()
                    .map(|v| format!("0x{:08x}u", v.to_bits()))
                    .collect();
                format!("{{{}}}", cells.join(", "))
            })
            .collect();
        program.push_str(&format!(
            "static const unsigned int {name}_rows[{}][{n_in}] = {{{}}};\n",
            rows.len(),
            bits.join(",\n")
        ));
        let up = name.to_ascii_uppercase();
        body.push_str(&format!(
            "    for (r = 0; r < {rows}; r++) {{\n\
             \x20       float x[{up}_MODEL_N_IN], out[{up}_MODEL_N_OUT];\n\
             \x20       memcpy(x, {name}_rows[r], sizeof x);\n\
             \x20       {name}_model_forward(x, out);\n\
             \x20       printf(\"{name}\");\n\
             \x20       for (k = 0; k < {up}_MODEL_N_OUT; k++) printf(\" %.9g\", out[k]);\n\
             \x20       printf(\" %s\\n\", {predict});\n\
             \x20   }}\n",
            rows = rows.len(),
            predict = if *name == "diabetes" {
                "\"\"".to_string()
            } else {
                format!("{name}_model_class_name({name}_model_predict(x))")
            }
        ));
        expected.insert(name, predicted(d, name, val));
    }
    program.push_str(&format!(
        "int main(void) {{\n    int r, k;\n{body}    return 0;\n}}\n"
    ));
    std::fs::write(d.join("main.c"), program).unwrap();
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let compiled = Command::new(cc)
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
            "-lm",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let output = Command::new(d.join("main")).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut worst = 0.0f32;
    for line in text.lines() {
        let mut cells: Vec<&str> = line.trim_end().split(' ').collect();
        let name = cells.remove(0);
        let (key, want) = expected.get_key_value(name).unwrap();
        let row = seen.entry(key).or_default();
        let (label, outputs) = &want[*row];
        *row += 1;
        let got: Vec<f32> = cells[..outputs.len()]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        for (&g, &w) in got.iter().zip(outputs) {
            // Within 1e-6, relative to the output's magnitude when that exceeds 1.
            let error = (g - w).abs() / w.abs().max(1.0);
            worst = worst.max(error);
            assert!(error <= 1e-6, "{name} row {row}: C {g} vs predict {w}");
        }
        if name != "diabetes" {
            // The class agrees unless the outputs tie to within the tolerance.
            let predicted_class = cells.get(outputs.len()).copied().unwrap_or("");
            let margin = {
                let mut sorted = outputs.clone();
                sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
                if sorted.len() > 1 {
                    sorted[0] - sorted[1]
                } else {
                    sorted[0].abs()
                }
            };
            if margin > 1e-5 {
                assert_eq!(predicted_class, label, "{name}");
            }
        }
    }
    for (name, _, _) in &runs {
        assert_eq!(seen[name], expected[name].len(), "{name}: rows");
    }
    eprintln!("largest C-versus-predict difference: {worst:e} (relative, above magnitude 1)");
}

/// `--restore-best` without early stopping (Keras' `ModelCheckpoint(save_best_only=True)`): every
/// epoch trains, `weights.json` holds the epoch of the lowest validation loss (the first, on a
/// tie), the manifest says which, and `predict` on the validation rows gives that epoch's loss bit
/// for bit. Without the option the manifest names the last epoch.
#[test]
fn restore_best_alone_trains_every_epoch_and_keeps_the_best_epochs_weights() {
    let dir = tempfile::tempdir().unwrap();
    let options = ["--epochs", "40", "--lr", "0.05"];
    let run = train(
        dir.path(),
        "iris.csv",
        "best",
        &[&options[..], &["--restore-best"]].concat(),
    );
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 40, "--restore-best alone never stops early");
    let best = (0..records.len()).fold(0, |b, k| {
        if field(&records[k], "val_loss") < field(&records[b], "val_loss") {
            k
        } else {
            b
        }
    });
    assert!(best + 1 < 40, "the test needs a best epoch before the last");
    assert_eq!(
        manifest(&run)["weights"],
        serde_json::json!({"epoch": best + 1, "chosen": "best val_loss"})
    );
    let val = dir.path().join("val.csv");
    validation_csv(&run, "iris.csv", &val);
    let output = ok(dir.path(), &["predict", "best", "--data", "val.csv"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        metric(&stderr, "loss").to_bits(),
        field(&records[best], "val_loss").to_bits(),
        "{stderr}"
    );

    let last = train(dir.path(), "iris.csv", "last", &options);
    assert_eq!(
        manifest(&last)["weights"],
        serde_json::json!({"epoch": 40, "chosen": "last"})
    );
}
