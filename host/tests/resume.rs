//! `train --resume` at its edges: a crash between an epoch's record and its checkpoint (metrics
//! ahead), lost epochs (metrics behind), a run already complete, and runs whose state is more than
//! the weights (a cosine schedule, the ReduceLr guard's reduced rate and last-good snapshot): each
//! resumed run's files are byte-identical to an uninterrupted run's; a run with early stopping is
//! refused.

use std::path::Path;
use std::process::{Command, Output};

fn tinytrain(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(output: Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

/// The arguments of `train` on iris into `out` for `epochs` epochs, with `options` on top.
fn iris_args(out: &str, epochs: u32, options: &str) -> Vec<String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/iris.csv");
    let epochs = epochs.to_string();
    ["train", "--data", data.to_str().unwrap(), "--no-plot", "-q"]
        .into_iter()
        .chain(["--epochs", &epochs, "--out", out])
        .chain(options.split_whitespace())
        .map(str::to_owned)
        .collect()
}

/// Trains iris into `dir/out` (see [`iris_args`]); panics if it fails.
fn train_iris(dir: &Path, out: &str, epochs: u32, options: &str) {
    let args = iris_args(out, epochs, options);
    ok(tinytrain(
        dir,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
}

/// `tinytrain ARGS` must fail with exit status 1; returns its stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let output = tinytrain(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    stderr
}

/// The files a resumed run must reproduce.
const FILES: [&str; 6] = [
    "metrics.jsonl",
    "metrics.csv",
    "events.jsonl",
    "weights.json",
    "manifest.json",
    "checkpoint.bin",
];

fn same_files(dir: &Path, a: &str, b: &str) {
    for file in FILES {
        let read = |run: &str| std::fs::read(dir.join(run).join(file)).unwrap();
        assert!(read(a) == read(b), "{file} differs between {a} and {b}");
    }
}

/// Trains `options` for `epochs` straight into `full`, and for `first` epochs into `part`, then
/// resumes `part` to `epochs` (after `damage` edits it); the two runs' files must be equal.
fn resumed_equals_uninterrupted(options: &str, first: u32, epochs: u32, damage: impl Fn(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "full", epochs, options);
    train_iris(dir.path(), "part", first, options);
    damage(&dir.path().join("part"));
    let epochs = epochs.to_string();
    let resume = [
        "train",
        "--resume",
        "part",
        "--epochs",
        &epochs,
        "--no-plot",
        "-q",
    ];
    ok(tinytrain(dir.path(), &resume));
    same_files(dir.path(), "full", "part");
}

/// Kills a run of `options` (SIGKILL, at whatever point it has reached once two epochs are
/// written), resumes it, and compares it with the same run uninterrupted.
fn killed_and_resumed_equals_uninterrupted(options: &str) {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "full", 300, options);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(iris_args("part", 300, options))
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let metrics = dir.path().join("part/metrics.jsonl");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |t| t.lines().count()) < 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(
            started.elapsed().as_secs() < 60,
            "no epochs written in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let written = std::fs::read_to_string(&metrics).unwrap().lines().count();
    assert!(
        written < 300,
        "killed after {written} epochs: too late to test anything"
    );
    ok(tinytrain(
        dir.path(),
        &["train", "--resume", "part", "--no-plot", "-q"],
    ));
    same_files(dir.path(), "full", "part");
}

#[test]
fn a_cosine_schedule_and_a_reduced_rate_resume_where_they_were() {
    killed_and_resumed_equals_uninterrupted("--seed 3 --schedule cosine --lr 0.02");
    // The first epoch diverges (every step would overflow) and ReduceLr cuts the rate: the
    // checkpoint carries the reduced rate and the restore count.
    killed_and_resumed_equals_uninterrupted(
        "--seed 3 --optimizer sgd --lr 1e30 --on-divergence reduce-lr",
    );
}

/// Early stopping's best-weights snapshot is not checkpointed, so such a run is not resumed: a
/// clear refusal, not a run that restores other weights.
#[test]
fn a_run_with_early_stopping_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "r", 3, "--early-stopping");
    let stderr = refused(dir.path(), &["train", "--resume", "r", "--epochs", "6"]);
    assert!(
        stderr.contains("cannot resume a run with early stopping"),
        "{stderr}"
    );
}

/// A cosine schedule spans the run's epochs, so another total is refused (it would have given the
/// epochs already trained other rates).
#[test]
fn a_cosine_run_resumes_only_to_its_own_length() {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "r", 3, "--schedule cosine");
    let stderr = refused(dir.path(), &["train", "--resume", "r", "--epochs", "6"]);
    assert!(
        stderr.contains("its cosine schedule spans its 3 epochs"),
        "{stderr}"
    );
}

/// A crash after an epoch's record was written but before its checkpoint: the record beyond the
/// checkpoint is dropped and trained again, to the same bits.
#[test]
fn records_ahead_of_the_checkpoint_are_trained_again() {
    resumed_equals_uninterrupted("--seed 4", 3, 5, |part| {
        for file in ["metrics.jsonl", "metrics.csv"] {
            let path = part.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            let last = text
                .lines()
                .last()
                .unwrap()
                .replacen(":3,", ":4,", 1)
                .replacen("3,", "4,", 1);
            std::fs::write(&path, format!("{text}{last}\n")).unwrap();
        }
    });
}

#[test]
fn records_behind_the_checkpoint_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "r", 3, "");
    let path = dir.path().join("r/metrics.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let stderr = refused(dir.path(), &["train", "--resume", "r", "--epochs", "5"]);
    assert!(
        stderr.contains("metrics.jsonl holds 2 epochs, the checkpoint is at epoch 3"),
        "{stderr}"
    );
}

/// `--epochs` equal to the epochs done: nothing is trained and nothing is rewritten.
#[test]
fn a_complete_run_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "r", 3, "");
    let before: Vec<(Vec<u8>, std::time::SystemTime)> = FILES
        .iter()
        .map(|f| {
            let path = dir.path().join("r").join(f);
            (
                std::fs::read(&path).unwrap(),
                std::fs::metadata(&path).unwrap().modified().unwrap(),
            )
        })
        .collect();
    let stderr = ok(tinytrain(
        dir.path(),
        &["train", "--resume", "r", "--epochs", "3", "--no-plot"],
    ));
    assert!(
        stderr.contains("has trained all 3 epochs already: nothing to do"),
        "{stderr}"
    );
    for (file, (bytes, modified)) in FILES.iter().zip(before) {
        let path = dir.path().join("r").join(file);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{file}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            modified,
            "{file} rewritten"
        );
    }
}

/// ReduceLROnPlateau's rate, best value and counters are in the checkpoint: a run cut at epoch 9,
/// between reductions, reduces at the same epochs as the uninterrupted run, and its files are the
/// same bytes.
#[test]
fn reduce_lr_on_plateau_resumes_where_it_was() {
    let options = "--seed 2 --lr 0.05 --schedule plateau --plateau-patience 2 --plateau-factor 0.5 --cooldown 1";
    resumed_equals_uninterrupted(options, 9, 30, |_| {});
    let dir = tempfile::tempdir().unwrap();
    train_iris(dir.path(), "full", 30, options);
    let events = std::fs::read_to_string(dir.path().join("full/events.jsonl")).unwrap();
    let reduced: Vec<u32> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "lr_reduced")
        .map(|e| e["epoch"].as_u64().unwrap() as u32)
        .collect();
    assert!(
        reduced.iter().any(|&e| e < 9) && reduced.iter().any(|&e| e > 9),
        "reductions on both sides of the checkpoint: {reduced:?}"
    );
}
