//! Watching training from the command line: early stopping, events.jsonl and the plots.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn iris() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/iris.csv")
}

fn tinytrain(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tinytrain");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A big network without dropout on iris: it overfits within a few dozen epochs.
fn overfit_args<'a>(iris: &'a str, out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--data",
        iris,
        "--hidden",
        "64,64",
        "--dropout",
        "0",
        "--lr",
        "0.01",
        "--batch",
        "8",
        "--epochs",
        epochs,
        "--out",
        out,
    ]
}

#[test]
fn early_stopping_saves_the_best_epochs_weights_and_logs_events() {
    let dir = tempfile::tempdir().unwrap();
    let iris = iris();
    let iris = iris.to_str().unwrap();
    let mut args = overfit_args(iris, "stopped", "200");
    args.extend(["--patience", "10"]);
    let output = tinytrain(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("early stopping at epoch"), "{stderr}");

    let events = std::fs::read_to_string(dir.path().join("stopped/events.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(events.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "early_stopping");
    assert_eq!(last["stopped"], true);
    let best = last["best_epoch"].as_u64().unwrap();
    let stopped = last["epoch"].as_u64().unwrap();
    assert_eq!(stopped, best + 10);
    assert_eq!(last["restored_epoch"].as_u64(), Some(best));
    let metrics = std::fs::read_to_string(dir.path().join("stopped/metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count() as u64, stopped);
    let manifest = std::fs::read_to_string(dir.path().join("stopped/manifest.json")).unwrap();
    assert!(manifest.contains("\"early_stopping\""), "{manifest}");

    // The same run cut at the best epoch ends with the very same parameters.
    let best_text = best.to_string();
    tinytrain(dir.path(), &overfit_args(iris, "cut", &best_text));
    let restored = std::fs::read(dir.path().join("stopped/weights.json")).unwrap();
    let cut = std::fs::read(dir.path().join("cut/weights.json")).unwrap();
    assert!(
        restored == cut,
        "the restored weights are not epoch {best}'s"
    );
}

#[test]
fn train_plots_unless_told_not_to_and_plot_overlays_runs() {
    let dir = tempfile::tempdir().unwrap();
    let iris = iris();
    let iris = iris.to_str().unwrap();
    tinytrain(dir.path(), &overfit_args(iris, "a", "5"));
    for file in ["a/curves.png", "a/curves.svg"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let mut args = overfit_args(iris, "b", "7");
    args.push("--no-plot");
    tinytrain(dir.path(), &args);
    assert!(!dir.path().join("b/curves.png").exists());

    let output = tinytrain(
        dir.path(),
        &[
            "plot",
            "a",
            "b",
            "--smooth",
            "0.5",
            "--out",
            "both/overlay.png",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("overlay.png") && stdout.contains("overlay.svg"),
        "{stdout}"
    );
    let png = image::open(dir.path().join("both/overlay.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1200, 500));
    let svg = std::fs::read_to_string(dir.path().join("both/overlay.svg")).unwrap();
    assert!(svg.contains("a train") && svg.contains("b validation"));

    tinytrain(dir.path(), &["plot", "b"]);
    assert!(dir.path().join("b/curves.png").is_file());
}
