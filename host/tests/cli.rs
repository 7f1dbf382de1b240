//! The `tinytrain` binary as a user runs it: exit codes, stdout and stderr, and the run directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A bundled dataset, by absolute path.
fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// Runs `tinytrain` in `dir` with `args`.
fn tinytrain(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tinytrain")
}

/// Runs `tinytrain train` on iris for a few epochs into `dir/out`, and checks it succeeded.
fn train_iris(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let iris = data("iris.csv");
    let mut args = vec![
        "train",
        "--data",
        iris.to_str().unwrap(),
        "--epochs",
        "3",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let output = tinytrain(dir, &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Checks that `output` failed cleanly with every one of `needles` in its message.
fn assert_fails_with(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "missing {needle:?} in: {stderr}");
    }
    assert!(output.stdout.is_empty());
}

/// Writes a CSV file with twelve good rows of `a,b,label` plus `extra` lines.
fn csv_file(dir: &Path, extra: &str) -> PathBuf {
    let rows: String = (0..12)
        .map(|i| format!("{i},{},{}\n", i * 3, i % 2))
        .collect();
    let path = dir.join("bad.csv");
    std::fs::write(&path, format!("a,b,label\n{rows}{extra}")).unwrap();
    path
}

#[test]
fn csv_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, needles) in [
        (
            "1,NA,0\n",
            &["bad.csv: line 14, column 'b' (2): missing value 'NA'"][..],
        ),
        (
            "1,abc,0\n",
            &["bad.csv: line 14, column 'b' (2): 'abc' is not a number"],
        ),
        (
            "1,2\n",
            &["bad.csv: line 14, column 'label' (3): the row has 2 fields but the header has 3"],
        ),
    ] {
        let path = csv_file(dir.path(), extra);
        let output = tinytrain(
            dir.path(),
            &["train", "--data", path.to_str().unwrap(), "--epochs", "1"],
        );
        assert_fails_with(&output, needles);
    }
    // Bad input leaves no run directory behind.
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn unknown_label_column_lists_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), "");
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--data",
            path.to_str().unwrap(),
            "--label",
            "class",
        ],
    );
    assert_fails_with(
        &output,
        &["bad.csv: there is no label column 'class'; the columns are: 'a', 'b', 'label'"],
    );
}

#[test]
fn empty_files_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    assert_fails_with(
        &tinytrain(dir.path(), &["train", "--data", empty.to_str().unwrap()]),
        &["empty.csv: the file is empty"],
    );
    let output = tinytrain(dir.path(), &["train", "--data", "nowhere.csv"]);
    assert_fails_with(&output, &["nowhere.csv: file not found"]);
}

#[test]
fn the_default_data_is_built_in_and_paths_are_relative_to_the_current_directory() {
    // A directory with no `data/` folder, outside the checkout.
    let dir = tempfile::tempdir().unwrap();
    let output = tinytrain(dir.path(), &["train", "--epochs", "1", "--quiet"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The same bytes as a run on the file itself.
    let digits = data("digits.csv");
    let on_file = [
        "train",
        "--epochs",
        "1",
        "--quiet",
        "--data",
        digits.to_str().unwrap(),
        "--out",
        "on-file",
    ];
    assert!(tinytrain(dir.path(), &on_file).status.success());
    let metrics = |run: &str| std::fs::read(dir.path().join(run).join("metrics.jsonl")).unwrap();
    assert_eq!(metrics("runs/digits-seed1"), metrics("on-file"));
    assert_eq!(
        metrics("on-file").iter().filter(|&&b| b == b'\n').count(),
        1
    );

    // A missing file: the error names the path as given, nothing else (no checkout folder).
    let output = tinytrain(dir.path(), &["train", "--data", "nonexist.csv"]);
    assert_fails_with(&output, &[]);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        "error: nonexist.csv: file not found"
    );
}

#[test]
fn bad_option_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["train", "--dropout", "1.5"][..], "--dropout"),
        (&["train", "--lr", "-1"], "--lr"),
        (&["train", "--batch", "0"], "--batch"),
        (&["train", "--activation", "swish"], "swish"),
        (&["accuracy", "--seeds", "x"], "'x' is not a seed"),
    ] {
        let output = tinytrain(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_fails_with(&output, &[needle]);
    }
}

#[test]
fn same_seed_same_metrics_other_seed_other_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let first = train_iris(dir.path(), "a", &[]);
    train_iris(dir.path(), "b", &[]);
    train_iris(dir.path(), "c", &["--seed", "2"]);
    let metrics = |run: &str| std::fs::read(dir.path().join(run).join("metrics.jsonl")).unwrap();
    assert_eq!(metrics("a"), metrics("b"));
    assert_ne!(metrics("a"), metrics("c"));

    // stdout: exactly one line per epoch.
    let stdout = String::from_utf8(first.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[2].starts_with("Epoch 3/3 | Train Loss: ") && lines[2].contains("| Val Acc: "),
        "{}",
        lines[2]
    );
    for name in ["manifest.json", "init.json", "weights.json", "metrics.csv"] {
        assert!(dir.path().join("a").join(name).is_file(), "{name}");
    }
}

#[test]
fn init_from_weights_reproduces_them_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "first", &[]);
    let weights = dir.path().join("first/weights.json");
    train_iris(
        dir.path(),
        "second",
        &["--init", weights.to_str().unwrap(), "--quiet"],
    );
    let trained = std::fs::read_to_string(&weights).unwrap();
    let loaded = std::fs::read_to_string(dir.path().join("second/init.json")).unwrap();
    assert_eq!(trained, loaded);

    // A file for another network is refused with the shapes.
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--data",
            data("iris.csv").to_str().unwrap(),
            "--hidden",
            "8",
            "--init",
            weights.to_str().unwrap(),
        ],
    );
    assert_fails_with(
        &output,
        &[
            "--init",
            "weights.json",
            "dense layer 0 of the network is 4→8",
            "weight 64×4",
        ],
    );
}

#[test]
fn manifest_holds_what_reproduces_the_run() {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "m", &["--seed", "4", "--quiet"]);
    let text = std::fs::read_to_string(dir.path().join("m/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["config"]["seed"], 4);
    assert_eq!(manifest["config"]["epochs"], 3);
    assert_eq!(manifest["data"]["task"], "classification");
    assert_eq!(
        manifest["data"]["class_names"],
        serde_json::json!(["0", "1", "2"])
    );
    assert_eq!(manifest["network"]["head"], "SoftmaxCrossEntropy");
    let train = manifest["split"]["train_rows"].as_array().unwrap();
    let val = manifest["split"]["val_rows"].as_array().unwrap();
    assert_eq!((train.len(), val.len()), (120, 30));
    assert_eq!(
        manifest["normalization"]["feature_mean"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let csv = std::fs::read_to_string(dir.path().join("m/metrics.csv")).unwrap();
    assert!(csv.starts_with(
        "epoch,train_loss,train_acc,val_loss,val_acc,lr,val_f1,train_mae,val_mae,val_rmse\n1,"
    ));
    assert_eq!(csv.lines().count(), 4);
}

#[test]
fn quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = train_iris(dir.path(), "q", &["--quiet"]);
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}
