//! Checks a `--tensorboard DIR` run with TensorBoard's own reader: `read_events.py` (beside this
//! file) reads `DIR/<run name>` with `EventAccumulator`, and [`assert_same_run`] compares what it
//! read with the run directory's `metrics.jsonl` and `events.jsonl`. Included by
//! `host/tests/tensorboard.rs` and `tests/tests/monitor_qemu.rs` (`#[path]`).
//!
//! The Python is `$TINYTRAIN_PYTHON`, else the workspace's `.venv/bin/python` (which
//! `scripts/setup` makes), else `python3`. Without the tensorboard module a test is skipped with
//! one line saying so, unless `CI` is set: then it fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use serde_json::Value;

/// Each `metrics.jsonl` field and its tag, as issue 14 names them (stated here apart from the
/// writer's table, so that a wrong tag there fails).
pub const TAGS: [(&str, &str); 9] = [
    ("train_loss", "Loss/train"),
    ("val_loss", "Loss/validation"),
    ("train_acc", "Accuracy/train"),
    ("val_acc", "Accuracy/validation"),
    ("val_f1", "F1/validation"),
    ("train_mae", "MAE/train"),
    ("val_mae", "MAE/validation"),
    ("val_rmse", "RMSE/validation"),
    ("lr", "lr"),
];

fn workspace() -> PathBuf {
    // host/ and tests/ both lie one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python that runs `read_events.py`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("TINYTRAIN_PYTHON") {
        return python.into();
    }
    let venv = workspace().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// What `read_events.py` reads in `run` (a `DIR/<run name>` directory, or one event file); `None`: the tensorboard
/// module is missing and `test` is skipped (a line on stderr says so; with `CI` set it fails).
pub fn read(test: &str, run: &Path) -> Option<Value> {
    let python = python();
    let found = Command::new(&python)
        .args(["-c", "import tensorboard"])
        .output();
    if !found.as_ref().is_ok_and(|o| o.status.success()) {
        let why = match &found {
            Ok(output) => String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned(),
            Err(e) => e.to_string(),
        };
        let missing = format!(
            "tensorboard is not installed ({}: {why}; scripts/setup installs it into .venv, or set TINYTRAIN_PYTHON)",
            python.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{test}: CI is set and {missing}");
        }
        eprintln!("skipped {test}: {missing}");
        return None;
    }
    let output = Command::new(&python)
        .arg(workspace().join("tests/tensorboard/read_events.py"))
        .arg(run)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "read_events.py {}: {}",
        run.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("read_events.py prints JSON"))
}

/// A value of `metrics.jsonl` or of `read_events.py`'s output: a number or "NaN"/"Infinity"/
/// "-Infinity", as `f32`.
fn float(value: &Value) -> f32 {
    match value {
        Value::String(s) if s == "NaN" => f32::NAN,
        Value::String(s) if s == "Infinity" => f32::INFINITY,
        Value::String(s) if s == "-Infinity" => f32::NEG_INFINITY,
        v => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")) as f32,
    }
}

/// `(step, f32)` pairs, compared by bits (every NaN as one).
fn series(points: &[(u64, f32)]) -> Vec<(u64, u32)> {
    points
        .iter()
        .map(|&(step, v)| {
            (
                step,
                if v.is_nan() {
                    f32::NAN.to_bits()
                } else {
                    v.to_bits()
                },
            )
        })
        .collect()
}

/// Asserts that `events` (read from the event files of `run_dir`'s run) hold exactly what
/// `run_dir` holds: [`assert_same_scalars`]; every `events.jsonl` line as an `events` text at its
/// `detected` epoch; one `hparams` text at step 0 containing each of `hparams`; file version 2 by
/// tinytrain; wall times between `started` and now.
pub fn assert_same_run(events: &Value, run_dir: &Path, hparams: &[&str], started: SystemTime) {
    assert_same_scalars(events, run_dir);

    let lines = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap();
    let wanted: Vec<Value> = lines
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            serde_json::json!([event["detected"], format!("`{line}`")])
        })
        .collect();
    let texts = &events["texts"];
    let read = texts.get("events").cloned().unwrap_or(Value::Array(vec![]));
    assert_eq!(read, Value::Array(wanted), "the events texts");
    let hparams_texts = texts["hparams"].as_array().expect("an hparams text");
    assert_eq!(hparams_texts.len(), 1, "{hparams_texts:?}");
    assert_eq!(hparams_texts[0][0], 0);
    let table = hparams_texts[0][1].as_str().unwrap();
    for row in hparams {
        assert!(table.contains(row), "hparams lacks {row:?}:\n{table}");
    }
    let mut other: Vec<&String> = texts.as_object().unwrap().keys().collect();
    other.retain(|tag| !["events", "hparams"].contains(&tag.as_str()));
    assert!(other.is_empty(), "other texts: {other:?}");

    assert_eq!(events["file_version"], 2.0);
    assert_eq!(events["writer"], "tinytrain");
    let seconds = |t: SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let (first, last) = (
        events["wall_time"][0].as_f64().unwrap(),
        events["wall_time"][1].as_f64().unwrap(),
    );
    assert!(
        seconds(started) - 1.0 <= first
            && first <= last
            && last <= seconds(SystemTime::now()) + 1.0,
        "wall times {first}..{last}"
    );
}

/// Asserts that the scalars of `events` are exactly `metrics.jsonl`'s: each value under its tag
/// ([`TAGS`]) at its epoch, equal as `f32` (NaN as NaN), and no other scalar.
pub fn assert_same_scalars(events: &Value, run_dir: &Path) {
    let metrics = std::fs::read_to_string(run_dir.join("metrics.jsonl")).unwrap();
    let mut expected: Vec<(&str, Vec<(u64, f32)>)> = Vec::new();
    for line in metrics.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let epoch = record["epoch"].as_u64().unwrap();
        for (field, tag) in TAGS {
            let Some(value) = record.get(field) else {
                continue;
            };
            match expected.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, points)) => points.push((epoch, float(value))),
                None => expected.push((tag, vec![(epoch, float(value))])),
            }
        }
    }
    assert!(!expected.is_empty(), "{}: no metrics", run_dir.display());
    let scalars = events["scalars"].as_object().expect("scalars");
    let mut tags: Vec<&str> = scalars.keys().map(String::as_str).collect();
    let mut wanted: Vec<&str> = expected.iter().map(|(tag, _)| *tag).collect();
    tags.sort_unstable();
    wanted.sort_unstable();
    assert_eq!(tags, wanted, "the scalar tags");
    for (tag, points) in &expected {
        let read: Vec<(u64, f32)> = scalars[*tag]
            .as_array()
            .unwrap()
            .iter()
            .map(|point| (point[0].as_u64().unwrap(), float(&point[1])))
            .collect();
        assert_eq!(
            series(&read),
            series(points),
            "{tag}: {read:?} vs {points:?}"
        );
    }
}

/// The event files in `dir`, sorted.
pub fn event_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
