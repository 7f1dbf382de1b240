//! Learning after deployment, as a user runs it: `--init` a shipped model (its weights.json
//! carries the columns, their statistics and the classes), `--freeze` its first layers (they keep
//! their bits; the RAM they no longer need is stated), give it a new head, and `--task
//! autoencoder` with the anomaly threshold and its precision and recall. Mistakes are refused with
//! the file, the option and the reason.

use std::path::{Path, PathBuf};

mod common;

use common::{assert_fails_with, data, ok, tinytrain};
use tinytrain_host::anomaly::{self, quantile_of};
use tinytrain_host::model::Model;
use tinytrain_host::pipeline;
use tinytrain_host::weights::Weights;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// `train --no-plot` with `args` in `dir`; stderr.
fn train(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["train", "--no-plot"];
    all.extend_from_slice(args);
    String::from_utf8_lossy(&ok(dir, &all).stderr).into_owned()
}

/// A copy of a bundled CSV with `edit` applied to every line (header first), in `dir`.
fn edited(dir: &Path, name: &str, edit: impl Fn(usize, &str) -> Option<String>) -> PathBuf {
    let text = std::fs::read_to_string(data(name)).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| edit(i, line))
        .collect();
    let path = dir.join(format!("edited-{name}"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn last_record(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

/// Acceptance 2: iris with `--init` and `--freeze 0`: layer 0 of weights.json is the init's, bit
/// for bit; the head moved; the note names the frozen layer and the training RAM with and without
/// freezing (measured by the allocator's own sizing, `VecMemory::run_bytes`).
#[test]
fn a_frozen_layer_keeps_its_weights_and_the_head_trains() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    let common = ["--data", iris, "--hidden", "16", "--epochs", "5"];
    train(dir.path(), &[&common[..], &["--out", "base"]].concat());
    let stderr = train(
        dir.path(),
        &[
            &common[..],
            &[
                "--init",
                "base/weights.json",
                "--freeze",
                "0",
                "--out",
                "ft",
            ],
        ]
        .concat(),
    );
    let base = Weights::read(&dir.path().join("base/weights.json")).unwrap();
    let tuned = Weights::read(&dir.path().join("ft/weights.json")).unwrap();
    let flat = |w: &Weights, k: usize| {
        let mut v: Vec<f32> = w.layers[k].weight.concat();
        v.extend(&w.layers[k].bias);
        v
    };
    assert_eq!(bits(&flat(&base, 0)), bits(&flat(&tuned, 0)));
    assert_ne!(bits(&flat(&base, 1)), bits(&flat(&tuned, 1)));
    assert!(
        stderr.contains("--freeze: layer 0 (dense 4→16) frozen, 51 of 131 parameters train"),
        "{stderr}"
    );
    // Adam: params 131, gradients and two moments of 51 instead of 131, activations, deltas, a
    // mask word, for batch 32 (the host holds the mini-batch).
    let ram = |kb: &str| kb.trim_end_matches(" KB").parse::<f64>().unwrap();
    let tail = stderr.split("training RAM ").nth(1).unwrap();
    let (with, rest) = tail.split_once(" instead of ").unwrap();
    let without = rest.split(" (").next().unwrap();
    assert!(ram(with) < ram(without), "{stderr}");
    assert!(
        (ram(without) - ram(with) - 4.0 * 80.0 * 3.0 / 1000.0).abs() < 0.11,
        "{stderr}"
    );
    let manifest = json(&dir.path().join("ft/manifest.json"));
    assert_eq!(manifest["config"]["freeze"], serde_json::json!([0]));
    // The core's count: dense, ReLU, dropout come before the head.
    assert_eq!(manifest["train_config"]["freeze"], 3);
    // The file is a model on its own: columns, classes, statistics.
    let about = json(&dir.path().join("ft/weights.json"));
    assert_eq!(about["feature_names"].as_array().unwrap().len(), 4);
    assert_eq!(about["class_names"], serde_json::json!(["0", "1", "2"]));
    assert_eq!(
        about["normalization"]["feature_mean"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

/// Acceptance 3 on the host: digits 0–4, then all ten digits with a new 10-class head on the
/// frozen first layer. The note says which layer came from the file; the inputs are standardised
/// with the file's statistics (those of digits 0–4, not re-fitted: the manifest holds them); the
/// new head learns (chance is 10%).
#[test]
fn a_new_head_learns_on_a_frozen_shipped_feature_extractor() {
    let dir = tempfile::tempdir().unwrap();
    let few = edited(dir.path(), "digits.csv", |i, line| {
        let label: u32 = line.rsplit(',').next().unwrap().parse().unwrap_or(0);
        (i == 0 || label < 5).then(|| line.to_string())
    });
    let digits = data("digits.csv");
    let common = ["--hidden", "32", "--epochs", "10"];
    train(
        dir.path(),
        &[
            &common[..],
            &["--data", few.to_str().unwrap(), "--out", "five"],
        ]
        .concat(),
    );
    let before = last_record(&dir.path().join("five"));
    let stderr = train(
        dir.path(),
        &[
            &common[..],
            &[
                "--data",
                digits.to_str().unwrap(),
                "--init",
                "five/weights.json",
                "--freeze",
                "0",
                "--out",
                "ten",
            ],
        ]
        .concat(),
    );
    assert!(
        stderr.contains(
            "--init five/weights.json: layer 0 (dense 64→32) from the file; layer 1 (dense 32→10) \
             initialised from seed 1 (the file's layer 1 is dense 32→5); inputs standardised with \
             the file's statistics, not re-fitted"
        ),
        "{stderr}"
    );
    let after = last_record(&dir.path().join("ten"));
    let (acc5, acc10) = (
        before["val_acc"].as_f64().unwrap(),
        after["val_acc"].as_f64().unwrap(),
    );
    eprintln!("digits 0-4: val_acc {acc5}; all ten, new head on frozen layer 0: {acc10}");
    assert!(acc5 > 0.9 && acc10 > 0.5, "{acc5} {acc10}");
    let five = json(&dir.path().join("five/weights.json"));
    let ten = json(&dir.path().join("ten/manifest.json"));
    assert_eq!(
        five["normalization"]["feature_mean"],
        ten["normalization"]["feature_mean"]
    );
    let (a, b) = (
        Weights::read(&dir.path().join("five/weights.json")).unwrap(),
        Weights::read(&dir.path().join("ten/weights.json")).unwrap(),
    );
    assert_eq!(
        bits(&a.layers[0].weight.concat()),
        bits(&b.layers[0].weight.concat())
    );
}

#[test]
fn mistakes_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            iris,
            "--hidden",
            "8",
            "--epochs",
            "1",
            "--no-plot",
        ];
        args.extend_from_slice(extra);
        tinytrain(dir.path(), &args)
    };
    assert_fails_with(
        &run(&["--freeze", "1"]),
        &[
            "--freeze 1: frozen layers must be the first ones",
            "--freeze 0,1",
        ],
    );
    assert_fails_with(
        &run(&["--freeze", "0,1"]),
        &[
            "has 2 layers with parameters (0 to 1)",
            "leaves nothing to train",
        ],
    );
    assert_fails_with(
        &run(&["--normal", "1"]),
        &["--normal and --threshold-quantile apply with --task autoencoder"],
    );
    assert_fails_with(
        &run(&["--task", "autoencoder", "--normal", "rose"]),
        &["--normal rose: no such class", "(its classes: 0, 1, 2)"],
    );
    let diabetes = data("diabetes.csv");
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--data",
            diabetes.to_str().unwrap(),
            "--task",
            "autoencoder",
            "--normal",
            "1",
            "--epochs",
            "1",
        ],
    );
    assert_fails_with(&output, &["--normal 1: the label column", "holds numbers"]);

    ok(
        dir.path(),
        &[
            "train",
            "--data",
            iris,
            "--hidden",
            "8",
            "--epochs",
            "1",
            "--no-plot",
            "--out",
            "base",
        ],
    );
    // Another column name: the file's model reads other features.
    let renamed = edited(dir.path(), "iris.csv", |i, line| {
        Some(if i == 0 {
            line.replacen("sepal_length", "sepal_len", 1)
        } else {
            line.into()
        })
    });
    let with_init = |csv: &Path| {
        tinytrain(
            dir.path(),
            &[
                "train",
                "--data",
                csv.to_str().unwrap(),
                "--hidden",
                "8",
                "--epochs",
                "1",
                "--init",
                "base/weights.json",
                "--no-plot",
            ],
        )
    };
    assert_fails_with(
        &with_init(&renamed),
        &[
            "--init base/weights.json: the file's model reads the features",
            "(missing: sepal_length_cm)",
        ],
    );
    // The same shapes but other classes: the file's head means other things.
    let relabelled = edited(dir.path(), "iris.csv", |_, line| {
        Some(match line.strip_suffix(",2") {
            Some(rest) => format!("{rest},7"),
            None => line.to_string(),
        })
    });
    assert_fails_with(
        &with_init(&relabelled),
        &[
            "the file's output layer predicts the classes [0, 1, 2]",
            "has [0, 1, 7]",
        ],
    );
}

/// Acceptance 4 on the host: breast_cancer benign rows (label 1) train an autoencoder; the
/// metrics are reconstruction errors; threshold.json's threshold is the 0.95 quantile (numpy's
/// linear one) of the validation rows' errors, recomputed here from the saved weights; the mean
/// of those errors is the last epoch's val_loss; the flag finds most malignant rows.
#[test]
fn an_autoencoder_flags_anomalies_above_its_validation_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let cancer = data("breast_cancer.csv");
    let stderr = train(
        dir.path(),
        &[
            "--data",
            cancer.to_str().unwrap(),
            "--task",
            "autoencoder",
            "--normal",
            "1",
            "--hidden",
            "8",
            "--epochs",
            "20",
            "--out",
            "ae",
        ],
    );
    let run = dir.path().join("ae");
    let records = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 20);
    let first: serde_json::Value = serde_json::from_str(records.lines().next().unwrap()).unwrap();
    let last = last_record(&run);
    assert!(last["val_acc"].is_null() && last["val_mae"].is_number());
    assert!(
        last["val_loss"].as_f64() < first["val_loss"].as_f64(),
        "{records}"
    );

    let model = Model::load(&run).unwrap();
    let table = pipeline::load_table(&model.spec).unwrap();
    let setup = pipeline::prepare(&model.spec, &table).unwrap();
    let errors = anomaly::errors(&setup, &model.weights, &setup.val_rows).unwrap();
    let mean = errors.iter().map(|&e| f64::from(e)).sum::<f64>() / errors.len() as f64;
    let val_loss = last["val_loss"].as_f64().unwrap();
    assert!(
        (mean - val_loss).abs() <= 1e-5 * val_loss,
        "{mean} vs {val_loss}"
    );
    let mut sorted = errors.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = json(&run.join("threshold.json"));
    assert_eq!(threshold["quantile"], 0.95);
    assert_eq!(
        threshold["threshold"].as_f64().unwrap() as f32,
        quantile_of(&sorted, 0.95)
    );
    let scores = &threshold["scores"];
    assert_eq!(scores["normal_rows"], errors.len());
    assert_eq!(scores["anomaly_rows"], 212); // every malignant row
    let flagged_normal = errors
        .iter()
        .filter(|&&e| e > quantile_of(&sorted, 0.95))
        .count();
    assert_eq!(scores["false_positives"], flagged_normal);
    let recall = scores["recall"].as_f64().unwrap();
    assert!(recall > 0.5, "{threshold}");
    assert!(
        stderr.contains("precision") && stderr.contains("threshold.json"),
        "{stderr}"
    );
}
