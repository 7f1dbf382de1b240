//! `train --tensorboard DIR` and `monitor --tensorboard DIR`, read back with TensorBoard's own
//! reader (`tests/tensorboard/read_events.py`, `EventAccumulator`): every scalar equals
//! `metrics.jsonl` as `f32`, every event is `events.jsonl`'s, the options are at step 0. Skipped
//! (one line on stderr) when the Python has no tensorboard module, unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

#[path = "../../tests/tensorboard/check.rs"]
mod check;

/// The name of the calling test, for the skip line.
macro_rules! test_name {
    () => {{
        fn here() {}
        let path = std::any::type_name_of_val(&here);
        let test = path.strip_suffix("::here").unwrap_or(path);
        test.rsplit("::").next().unwrap_or(test)
    }};
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
        .display()
        .to_string()
}

/// Runs `tinytrain` in `dir` and checks it succeeded.
fn tinytrain(dir: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tinytrain");
    assert!(
        output.status.success(),
        "tinytrain {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `train ARGS --out runs/NAME --tensorboard tb` in a temporary directory, then the check of
/// `tb/NAME` against `runs/NAME`, with `hparams` rows expected; returns the run directory's
/// `events.jsonl`.
fn train_and_check(test: &str, name: &str, args: &[&str], hparams: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("runs/{name}");
    let started = SystemTime::now();
    let common = [
        "train",
        "--quiet",
        "--no-plot",
        "--out",
        &out,
        "--tensorboard",
        "tb",
    ];
    tinytrain(dir.path(), &[&common[..], args].concat());
    let run = dir.path().join("tb").join(name);
    let files = check::event_files(&run);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("events.out.tfevents.") && files[0].ends_with(".tinytrain"),
        "{files:?}"
    );
    let out = dir.path().join(&out);
    if let Some(events) = check::read(test, &run) {
        check::assert_same_run(&events, &out, hparams, started);
    }
    std::fs::read_to_string(out.join("events.jsonl")).unwrap()
}

/// iris: the classification tags (F1 too), and an `events` text (early stopping's line, which a
/// run with early stopping always writes).
#[test]
fn train_iris_event_file_equals_metrics_jsonl() {
    let iris = data("iris.csv");
    let events = train_and_check(
        test_name!(),
        "iris-seed1",
        &["--data", &iris, "--epochs", "6", "--patience", "2"],
        &[
            "| config.epochs | `6` |",
            "| data.task | `classification` |",
        ],
    );
    assert!(events.contains(r#""event":"early_stopping""#), "{events}");
}

/// diabetes: the regression tags (MAE, RMSE), no accuracy.
#[test]
fn train_regression_event_file_equals_metrics_jsonl() {
    let diabetes = data("diabetes.csv");
    train_and_check(
        test_name!(),
        "diabetes-seed3",
        &[
            "--data", &diabetes, "--epochs", "4", "--seed", "3", "--hidden", "16",
        ],
        &["| config.seed | `3` |", "| data.task | `regression` |"],
    );
}

/// A resumed run writes a second event file, holding the whole run; TensorBoard reading the run's
/// directory shows every epoch once, the second file's restart mark (a session START at step 0)
/// dropping the first file's. (This reader, the legacy `EventAccumulator`, drops only scalars
/// so; TensorBoard's server drops the texts too. So the texts are checked in the second file.)
#[test]
fn a_resumed_run_shows_once() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let common = ["train", "--quiet", "--no-plot", "--tensorboard", "tb"];
    let first = [
        &common[..],
        &["--data", &iris, "--epochs", "3", "--out", "runs/iris"],
    ];
    tinytrain(dir.path(), &first.concat());
    let started = SystemTime::now();
    let resumed = [&common[..], &["--resume", "runs/iris", "--epochs", "5"]];
    tinytrain(dir.path(), &resumed.concat());
    let run = dir.path().join("tb/iris");
    let files = check::event_files(&run);
    assert_eq!(files.len(), 2, "{files:?}");
    let test = test_name!();
    let Some(both) = check::read(test, &run) else {
        return;
    };
    let out = dir.path().join("runs/iris");
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 5);
    check::assert_same_scalars(&both, &out);
    let second = check::read(test, &run.join(&files[1])).unwrap();
    check::assert_same_run(&second, &out, &["| config.epochs | `5` |"], started);
}

/// `monitor FILE`: a replayed metrics.jsonl with NaN and infinite values (which the monitor's
/// analyser reports as a divergence event).
#[test]
fn monitor_replay_writes_nan_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for epoch in 1..=12u32 {
        let train_loss = 1.0 / epoch as f32;
        let val_loss = match epoch {
            3 => "\"NaN\"".to_string(),
            4 => "\"Infinity\"".to_string(),
            e => format!("{}", 0.5 + (e as f32 - 5.0).abs() / 10.0),
        };
        let acc = 0.05 * epoch as f32;
        lines.push_str(&format!(
            "{{\"epoch\":{epoch},\"train_loss\":{train_loss},\"train_acc\":{acc},\"val_loss\":{val_loss},\"lr\":0.01}}\n"
        ));
    }
    let input = dir.path().join("replay.jsonl");
    std::fs::write(&input, &lines).unwrap();
    let started = SystemTime::now();
    let input_arg = input.display().to_string();
    let args = [
        "monitor",
        &input_arg,
        "--plain",
        "--no-plot",
        "--out",
        "runs/replayed",
        "--tensorboard",
        "tb",
    ];
    tinytrain(dir.path(), &args);
    let out: PathBuf = dir.path().join("runs/replayed");
    let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(saved.lines().count(), 12, "{saved}");
    let noticed = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    assert!(noticed.contains(r#""event":"divergence""#), "{noticed}");
    let Some(events) = check::read(test_name!(), &dir.path().join("tb/replayed")) else {
        return;
    };
    let validation = &events["scalars"]["Loss/validation"];
    assert_eq!(validation[2], serde_json::json!([3, "NaN"]));
    assert_eq!(validation[3], serde_json::json!([4, "Infinity"]));
    let source = format!("| source | `{input_arg}` |");
    check::assert_same_run(&events, &out, &[&source, "| epochs | `12` |"], started);
}
