//! `train --batch-norm` as a user runs it: `weights.json` lists the batch norms with PyTorch's
//! `state_dict` names, two runs give the same bits, `--init` and `--resume` carry the running
//! statistics, mistakes are refused with a reason, `predict` reproduces the validation metrics bit
//! for bit (eval mode, running statistics), and the exports fold each batch norm into its dense
//! layer with the eval-mode outputs kept to 1e-5 relative.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{assert_fails_with, data, ok, tinytrain};
use tinytrain_host::model::Model;
use tinytrain_host::predict;
use tinytrain_host::weights::Weights;

/// `train --data digits.csv --hidden 32 --batch-norm` with `extra` (`--batch 16` unless it says
/// otherwise), into `dir/out`; the run directory and stderr.
fn train(dir: &Path, out: &str, extra: &[&str]) -> (PathBuf, String) {
    let digits = data("digits.csv");
    let mut args = vec![
        "train",
        "--data",
        digits.to_str().unwrap(),
        "--hidden",
        "32",
        "--batch-norm",
        "--out",
        out,
        "--no-plot",
    ];
    if !extra.contains(&"--batch") {
        args.extend_from_slice(&["--batch", "16"]);
    }
    args.extend_from_slice(extra);
    let output = ok(dir, &args);
    (
        dir.join(out),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The values of a weights file as bits: parameters in the flat order, then each batch norm's
/// running mean and variance.
fn bits(weights: &Weights) -> Vec<u32> {
    let stats = weights
        .batch_norms
        .iter()
        .flat_map(|bn| bn.running_mean.iter().chain(&bn.running_var));
    weights
        .flat()
        .iter()
        .chain(stats)
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn a_batch_norm_run_lists_pytorchs_names_and_repeats_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let (a, stderr) = train(dir.path(), "a", &["--epochs", "3"]);
    let (b, _) = train(dir.path(), "b", &["--epochs", "3"]);
    for name in ["metrics.jsonl", "weights.json", "init.json"] {
        assert!(read(&a.join(name)) == read(&b.join(name)), "{name} differs");
    }
    assert!(
        stderr.contains("network 64→32→10 with 1 batch norm (2474 parameters"),
        "{stderr}"
    );
    // 1438 training rows in batches of 16: no lone sample, no note.
    assert!(!stderr.contains("note:"), "{stderr}");

    let weights = json(&a.join("weights.json"));
    let layers = weights["layers"].as_array().unwrap();
    let kinds: Vec<&str> = layers.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["dense", "batch_norm", "dense"]);
    for name in ["weight", "bias", "running_mean", "running_var"] {
        let values = layers[1][name].as_array().unwrap();
        assert_eq!(values.len(), 32, "{name}");
    }
    // Trained: the running statistics have left PyTorch's initial 0 and 1.
    assert!(layers[1]["running_mean"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v.as_f64() != Some(0.0)));
    let init = json(&a.join("init.json"));
    assert!(init["layers"][1]["running_var"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v.as_f64() == Some(1.0)));

    // The manifest records the option and the layer, so predict, export and --resume rebuild it.
    let manifest = json(&a.join("manifest.json"));
    assert_eq!(manifest["config"]["batch_norm"], true);
    assert_eq!(
        manifest["network"]["layers"][1],
        serde_json::json!({"BatchNorm": {"features": 32}})
    );
    assert_eq!(manifest["network"]["params"], 2474);
}

#[test]
fn init_from_a_batch_norm_file_starts_from_it_bit_for_bit_and_resume_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = train(dir.path(), "a", &["--epochs", "2", "--quiet"]);
    let weights = a.join("weights.json");
    let (b, _) = train(
        dir.path(),
        "b",
        &[
            "--epochs",
            "1",
            "--quiet",
            "--init",
            weights.to_str().unwrap(),
        ],
    );
    // init.json is what the run started from: the file's parameters and running statistics.
    assert!(read(&b.join("init.json")) == read(&weights));
    let (from, to) = (
        Weights::read(&weights).unwrap(),
        Weights::read(&b.join("init.json")).unwrap(),
    );
    assert_eq!(bits(&from), bits(&to));
    assert_eq!(from.batch_norms.len(), 1);

    // Resumed from its checkpoint (running statistics included), a run equals one uninterrupted.
    let (full, _) = train(dir.path(), "full", &["--epochs", "4", "--quiet"]);
    ok(
        dir.path(),
        &[
            "train",
            "--resume",
            "a",
            "--epochs",
            "4",
            "--quiet",
            "--no-plot",
        ],
    );
    for name in ["metrics.jsonl", "weights.json", "checkpoint.bin"] {
        assert!(
            read(&a.join(name)) == read(&full.join(name)),
            "{name} differs"
        );
    }
    // --resume refuses a different network, either way round.
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--resume",
            "a",
            "--epochs",
            "5",
            "--batch-norm",
            "--hidden",
            "16",
        ],
    );
    assert_fails_with(&output, &["--hidden [16] (the run has [32])"]);
    let digits = data("digits.csv");
    ok(
        dir.path(),
        &[
            "train",
            "--data",
            digits.to_str().unwrap(),
            "--hidden",
            "32",
            "--batch",
            "16",
            "--epochs",
            "1",
            "--out",
            "plain",
            "--quiet",
            "--no-plot",
        ],
    );
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--resume",
            "plain",
            "--epochs",
            "2",
            "--batch-norm",
            "--batch",
            "16",
        ],
    );
    assert_fails_with(&output, &["--batch-norm true (the run has false)"]);
}

#[test]
fn mistakes_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digits = data("digits.csv");
    let digits = digits.to_str().unwrap();
    let output = tinytrain(
        d,
        &[
            "train",
            "--data",
            digits,
            "--batch-norm",
            "--batch",
            "1",
            "--out",
            "x",
        ],
    );
    assert_fails_with(
        &output,
        &[
            "--batch-norm needs --batch 2 or more, not 1",
            "normalises each feature over the mini-batch",
            "PyTorch's BatchNorm1d refuses a batch of 1 too",
        ],
    );
    assert!(!d.join("x").exists());

    // A batch-norm file into a network without, and the other way round.
    let (bn, _) = train(d, "bn", &["--epochs", "1", "--quiet"]);
    let bn_weights = bn.join("weights.json");
    let output = tinytrain(
        d,
        &[
            "train",
            "--data",
            digits,
            "--hidden",
            "32",
            "--init",
            bn_weights.to_str().unwrap(),
            "--out",
            "y",
        ],
    );
    assert_fails_with(
        &output,
        &[
            &format!("--init {}", bn_weights.display()),
            "the file's layers are [dense 64→32, batch norm 32, dense 32→10] but the network's \
             are [dense 64→32, dense 32→10]: layer 1 is batch norm 32 in the file and dense \
             32→10 in the network",
            "trained with --batch-norm",
        ],
    );
    ok(
        d,
        &[
            "train",
            "--data",
            digits,
            "--hidden",
            "32",
            "--epochs",
            "1",
            "--out",
            "plain",
            "--quiet",
            "--no-plot",
        ],
    );
    let plain_weights = d.join("plain/weights.json");
    let output = tinytrain(
        d,
        &[
            "train",
            "--data",
            digits,
            "--hidden",
            "32",
            "--batch-norm",
            "--init",
            plain_weights.to_str().unwrap(),
            "--out",
            "z",
        ],
    );
    assert_fails_with(
        &output,
        &[
            "layer 1 is dense 32→10 in the file and batch norm 32 in the network",
            "this network has batch norm",
        ],
    );

    // A lone last sample is skipped, and said so once.
    let (_, stderr) = train(d, "three", &["--batch", "3", "--epochs", "2"]);
    assert_eq!(stderr.matches("note:").count(), 1, "{stderr}");
    assert!(
        stderr.contains("note: 1438 training rows in batches of 3 leave 1 row for the last batch of each epoch; it is skipped"),
        "{stderr}"
    );
}

/// `predict` runs eval mode with the running statistics: on the validation rows it gives the last
/// epoch's `val_acc` and `val_loss` bit for bit. The folded model (what every export runs) gives
/// the same outputs to 1e-5 relative, and the C export, compiled, agrees with it.
#[test]
fn predict_uses_the_running_statistics_and_the_exports_fold_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (run, _) = train(d, "run", &["--epochs", "4", "--quiet"]);
    let manifest = json(&run.join("manifest.json"));
    let text = std::fs::read_to_string(data("digits.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut val = format!("{}\n", lines[0]);
    for row in manifest["split"]["val_rows"].as_array().unwrap() {
        val.push_str(lines[row.as_u64().unwrap() as usize + 1]);
        val.push('\n');
    }
    std::fs::write(d.join("val.csv"), &val).unwrap();
    let output = ok(d, &["predict", "run", "--data", "val.csv"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    let value = |name: &str| -> f32 {
        let start = stderr.find(&format!("{name} ")).unwrap() + name.len() + 1;
        stderr[start..]
            .split([' ', ',', '\n'])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    for (printed, recorded) in [("accuracy", "val_acc"), ("loss", "val_loss")] {
        let recorded = last[recorded].as_f64().unwrap() as f32;
        assert_eq!(
            value(printed).to_bits(),
            recorded.to_bits(),
            "{printed}: {stderr}"
        );
    }

    // The folded model against the batch-norm model, both through the core's forward pass.
    let model = Model::load(&run).unwrap();
    let folded = model.for_inference().unwrap();
    assert!(model.has_batch_norm() && !folded.has_batch_norm());
    assert_eq!(folded.folded, [0]);
    assert_eq!(folded.plan.params, 2410);
    let inputs = predict::read_inputs(&model, &d.join("val.csv"), None, &[]).unwrap();
    let want = predict::predict(&model, &inputs).unwrap();
    let got = predict::predict(&folded, &inputs).unwrap();
    let mut worst = 0.0f32;
    for (w, g) in want.outputs.iter().zip(&got.outputs) {
        worst = worst.max((g - w).abs() / w.abs().max(1.0));
    }
    assert!(worst <= 1e-5, "folded vs batch norm: {worst}");

    // Every export takes the folded model.
    for (format, out) in [("rust", "m.rs"), ("c", "run_model.h")] {
        let output = ok(d, &["export", "run", "--format", format, "--out", out]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("64→32→10, 1 batch norm folded in"),
            "{stderr}"
        );
        let code = std::fs::read_to_string(d.join(out)).unwrap();
        assert!(
            code.contains("dense 64→32 (batch norm folded in)"),
            "{code}"
        );
        assert!(!code.contains("Bit-identical"), "{code}");
    }
    let output = ok(
        d,
        &[
            "export", "run", "--format", "rust", "--int8", "--out", "i8.rs",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("validation accuracy float"), "{stderr}");

    // The C header, compiled, on the validation rows: within 1e-5 of predict's outputs.
    let rows: Vec<String> = val
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            format!("{{{}}}", cells[..cells.len() - 1].join(".0f, ") + ".0f")
        })
        .collect();
    let program = format!(
        "#include <stdio.h>\n#include \"run_model.h\"\n\
         static const float rows[{n}][RUN_MODEL_N_IN] = {{{rows}}};\n\
         int main(void) {{\n    int r, k;\n    for (r = 0; r < {n}; r++) {{\n        \
         float out[RUN_MODEL_N_OUT];\n        run_model_forward(rows[r], out);\n        \
         for (k = 0; k < RUN_MODEL_N_OUT; k++) printf(\"%.9g \", out[k]);\n        \
         printf(\"\\n\");\n    }}\n    return 0;\n}}\n",
        n = rows.len(),
        rows = rows.join(",\n"),
    );
    std::fs::write(d.join("main.c"), program).unwrap();
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let compiled = Command::new(cc)
        .args([
            "-std=c99",
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
    let c_outputs: Vec<f32> = String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(c_outputs.len(), want.outputs.len());
    let worst = c_outputs
        .iter()
        .zip(&want.outputs)
        .map(|(c, w)| (c - w).abs() / w.abs().max(1.0))
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "C export vs predict: {worst}");
}
