//! Every `train` option that changes training, each in a run whose outcome shows the option's effect:
//! a test here fails if its option is parsed and then ignored. Where the effect has an exact value
//! (a learning-rate schedule, a stopping epoch, a row count, a reduced rate) the test asserts that
//! value; where it has none (an optimiser's path), it asserts that the run differs from the same run
//! without the option, and that the run's manifest records it. Runs are tiny (iris, a few epochs).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One finished run: its per-epoch records, manifest, events and stdout.
struct Run {
    dir: PathBuf,
    records: Vec<Value>,
    manifest: Value,
    events: String,
    /// What the command printed, stdout then stderr (the data summary goes to stderr).
    output: String,
}

impl Run {
    /// A field of every epoch's record, as `f32` (the records hold `f32` values).
    fn column(&self, field: &str) -> Vec<f32> {
        self.records
            .iter()
            .map(|r| r[field].as_f64().unwrap_or(f64::NAN) as f32)
            .collect()
    }

    /// The epoch records as text: two runs are the same run when these are equal.
    fn curves(&self) -> String {
        std::fs::read_to_string(self.dir.join("metrics.jsonl")).unwrap()
    }

    fn weights(&self) -> String {
        std::fs::read_to_string(self.dir.join("weights.json")).unwrap()
    }
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
        .display()
        .to_string()
}

/// `tinytrain train --data DATA --no-plot --out DIR/NAME ARGS`; panics if it fails.
fn train(dir: &Path, name: &str, data_file: &str, args: &str) -> Run {
    let out = dir.join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(["train", "--data", &data(data_file), "--no-plot", "--out"])
        .arg(&out)
        .args(args.split_whitespace())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "train {args}: {stderr}");
    let read = |file: &str| std::fs::read_to_string(out.join(file)).unwrap_or_default();
    Run {
        records: read("metrics.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        manifest: serde_json::from_str(&read("manifest.json")).unwrap(),
        events: read("events.jsonl"),
        output: format!("{}{stderr}", String::from_utf8_lossy(&output.stdout)),
        dir: out,
    }
}

/// Iris, seed 2 and 3 epochs (unless `args` say how many), with `args` on top.
fn iris(dir: &Path, name: &str, args: &str) -> Run {
    let epochs = if args.contains("--epochs") {
        ""
    } else {
        "--epochs 3"
    };
    train(dir, name, "iris.csv", &format!("--seed 2 {epochs} {args}"))
}

#[test]
fn each_optimizer_and_hyper_parameter_changes_the_run_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let sgd = "--optimizer sgd --lr 0.05";
    let runs = [
        (
            "sgd",
            sgd.to_string(),
            r#"{"Sgd":{"momentum":0.0,"nesterov":false,"weight_decay":0.0}}"#,
        ),
        (
            "momentum",
            format!("{sgd} --momentum 0.9"),
            r#"{"Sgd":{"momentum":0.9,"nesterov":false,"weight_decay":0.0}}"#,
        ),
        (
            "nesterov",
            format!("{sgd} --momentum 0.9 --nesterov"),
            r#"{"Sgd":{"momentum":0.9,"nesterov":true,"weight_decay":0.0}}"#,
        ),
        (
            "sgd-decay",
            format!("{sgd} --weight-decay 0.1"),
            r#"{"Sgd":{"momentum":0.0,"nesterov":false,"weight_decay":0.1}}"#,
        ),
        (
            "adam",
            "--optimizer adam".into(),
            r#"{"Adam":{"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.0}}"#,
        ),
        (
            "adam-decay",
            "--optimizer adam --weight-decay 0.1".into(),
            r#"{"Adam":{"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.1}}"#,
        ),
        (
            "adamw",
            "--optimizer adamw --weight-decay 0.1".into(),
            r#"{"AdamW":{"beta1":0.9,"beta2":0.999,"eps":1e-8,"weight_decay":0.1}}"#,
        ),
    ];
    let runs: Vec<(&str, Run)> = runs
        .iter()
        .map(|(name, args, recorded)| {
            let run = iris(dir.path(), name, args);
            let expected: Value = serde_json::from_str(recorded).unwrap();
            assert_eq!(run.manifest["config"]["optimizer"], expected, "{name}");
            (*name, run)
        })
        .collect();
    // Every pair differs: no option above is ignored (each pair differs in exactly one of them, or
    // in the optimiser).
    for (i, (a, run_a)) in runs.iter().enumerate() {
        for (b, run_b) in &runs[i + 1..] {
            assert_ne!(
                run_a.curves(),
                run_b.curves(),
                "{a} and {b} trained identically"
            );
        }
    }
}

#[test]
fn step_and_cosine_schedules_set_each_epochs_rate() {
    let dir = tempfile::tempdir().unwrap();
    let step = iris(
        dir.path(),
        "step",
        "--lr 0.08 --schedule step --step-size 2 --gamma 0.25 --epochs 5",
    );
    assert_eq!(step.column("lr"), [0.08, 0.08, 0.02, 0.02, 0.005]);
    // CosineAnnealingLR over the run's epochs to 0: lr·(1 + cos(π·e/T))/2 for e = 0…T−1, within the
    // core's 4e-7 (its cosine is f32 arithmetic).
    let cosine = iris(
        dir.path(),
        "cosine",
        "--lr 0.08 --schedule cosine --epochs 4",
    );
    let expected =
        (0..4).map(|e| 0.08 * (1.0 + (std::f64::consts::PI * e as f64 / 4.0).cos()) / 2.0);
    for (got, want) in cosine.column("lr").iter().zip(expected) {
        assert!(
            (f64::from(*got) - want).abs() <= 4e-7 * want,
            "{got} vs {want}"
        );
    }
    assert_eq!(cosine.column("lr").len(), 4);
}

#[test]
fn clipping_the_gradient_norm_slows_the_first_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let free = iris(dir.path(), "free", "--optimizer sgd --lr 0.5 --epochs 1");
    let clipped = iris(
        dir.path(),
        "clipped",
        "--optimizer sgd --lr 0.5 --epochs 1 --clip-norm 1e-4",
    );
    assert_eq!(clipped.manifest["config"]["clip_norm"].as_f64(), Some(1e-4));
    // A step of at most 0.5·1e-4 per batch barely moves the parameters: the validation loss stays
    // near the untrained ln 3 while the free run's falls.
    let (free_loss, clipped_loss) = (free.column("val_loss")[0], clipped.column("val_loss")[0]);
    assert!(
        clipped_loss > free_loss + 0.1,
        "{clipped_loss} vs {free_loss}"
    );
    assert!((clipped_loss - 3f32.ln()).abs() < 0.15, "{clipped_loss}");
}

#[test]
fn the_divergence_lr_factor_scales_the_rate_after_a_divergence() {
    let dir = tempfile::tempdir().unwrap();
    let args = "--optimizer sgd --lr 1e30 --on-divergence reduce-lr --epochs 2";
    let default = iris(dir.path(), "half", args);
    let quarter = iris(
        dir.path(),
        "quarter",
        &format!("{args} --divergence-lr-factor 0.25"),
    );
    // The first epoch diverges (steps that would overflow are refused) and the rate is cut.
    assert!(
        default.events.contains(r#""event":"divergence""#),
        "{}",
        default.events
    );
    assert_eq!(default.column("lr"), [5e29, 2.5e29]);
    assert_eq!(quarter.column("lr"), [2.5e29, 6.25e28]);
}

#[test]
fn no_shuffle_trains_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let shuffled = iris(dir.path(), "shuffled", "");
    let ordered = iris(dir.path(), "ordered", "--no-shuffle");
    assert_eq!(ordered.manifest["config"]["shuffle"], false);
    assert_ne!(shuffled.curves(), ordered.curves());
    // In file order, the seed only changes the initial weights and the dropout masks: with neither
    // (no dropout), two seeds differ, but a repeat does not.
    let again = iris(dir.path(), "ordered-again", "--no-shuffle");
    assert_eq!(ordered.curves(), again.curves());
}

#[test]
fn the_validation_fraction_sets_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let half = iris(dir.path(), "half", "--val-fraction 0.5 --epochs 1");
    assert!(
        half.output.contains("75 training, 75 validation rows"),
        "{}",
        half.output
    );
    let default = iris(dir.path(), "default", "--epochs 1");
    assert!(
        default.output.contains("120 training, 30 validation rows"),
        "{}",
        default.output
    );
}

#[test]
fn the_loss_option_picks_the_regression_loss() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, loss: &str| {
        train(
            dir.path(),
            name,
            "diabetes.csv",
            &format!("--epochs 2 --seed 1 --hidden 16 --loss {loss}"),
        )
    };
    let (mse, l1, huber) = (run("mse", "mse"), run("l1", "l1"), run("huber", "huber"));
    assert_eq!(l1.manifest["config"]["loss"], "l1");
    assert_ne!(mse.curves(), l1.curves());
    assert_ne!(l1.curves(), huber.curves());
    assert_ne!(mse.curves(), huber.curves());
    // With L1 the training loss is the mean absolute error of the standardised targets, so the
    // reported MAE (in the target's units) is that loss times the targets' standard deviation: the
    // same ratio every epoch. With MSE the ratio moves.
    let ratio = |run: &Run| {
        let (loss, mae) = (run.column("train_loss"), run.column("train_mae"));
        loss.iter()
            .zip(mae)
            .map(|(l, m)| f64::from(m) / f64::from(*l))
            .collect::<Vec<_>>()
    };
    let l1_ratio = ratio(&l1);
    assert!(
        (l1_ratio[0] - l1_ratio[1]).abs() <= 1e-5 * l1_ratio[0],
        "{l1_ratio:?}"
    );
    let mse_ratio = ratio(&mse);
    assert!(
        (mse_ratio[0] - mse_ratio[1]).abs() > 1e-3 * mse_ratio[0],
        "{mse_ratio:?}"
    );
}

#[test]
fn early_stopping_options_set_when_and_what_it_stops_on() {
    let dir = tempfile::tempdir().unwrap();
    let stop_epoch = |run: &Run| run.records.len();
    // A min_delta no improvement can reach: the best stays epoch 1, so patience 2 stops at 3.
    let strict = iris(
        dir.path(),
        "strict",
        "--epochs 30 --early-stopping --patience 2 --monitor val_acc --min-delta 0.9",
    );
    assert_eq!(stop_epoch(&strict), 3, "{}", strict.events);
    assert!(
        strict.events.contains(r#""monitor":"val_acc""#),
        "{}",
        strict.events
    );
    // The same with epochs 1–5 not watched (Keras' start_from_epoch): epoch 6 is the first best, so
    // patience 2 stops at 8.
    let late = iris(
        dir.path(),
        "late",
        "--epochs 30 --early-stopping --patience 2 --monitor val_acc --min-delta 0.9 --start-from-epoch 5",
    );
    assert_eq!(stop_epoch(&late), 8, "{}", late.events);
    assert_eq!(
        late.manifest["config"]["early_stopping"]["start_from_epoch"],
        5
    );
}

#[test]
fn restore_best_and_no_restore_best_choose_the_saved_weights() {
    let dir = tempfile::tempdir().unwrap();
    let args = "--epochs 30 --early-stopping --patience 2 --monitor val_acc --min-delta 0.9";
    let restored = iris(dir.path(), "restored", &format!("{args} --restore-best"));
    let last = iris(dir.path(), "last", &format!("{args} --no-restore-best"));
    assert_eq!(restored.curves(), last.curves(), "the same training");
    assert_eq!(
        restored.manifest["config"]["early_stopping"]["restore_best_weights"],
        true
    );
    assert_eq!(
        last.manifest["config"]["early_stopping"]["restore_best_weights"],
        false
    );
    // Restored: epoch 1's weights, which a 1-epoch run also ends with.
    let one = iris(dir.path(), "one", "--epochs 1");
    assert_eq!(restored.weights(), one.weights());
    assert_ne!(last.weights(), one.weights());
}

#[test]
fn accuracy_runs_the_table_for_the_named_datasets_and_seeds() {
    let output = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(["accuracy", "--datasets", "iris", "--seeds", "1,2"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("iris"), "{stdout}");
    assert!(!stdout.contains("digits"), "{stdout}");
}

/// `monitor -` replays a metrics.jsonl from stdin into a run directory, and `--epochs N` is the `N`
/// of its `Epoch n/N` lines.
#[test]
fn monitor_replays_stdin_and_counts_epochs_of_epochs() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let run = iris(dir.path(), "source", "--epochs 2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args([
            "monitor",
            "-",
            "--plain",
            "--no-plot",
            "--epochs",
            "7",
            "--out",
        ])
        .arg(dir.path().join("replay"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(run.curves().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Epoch 1/7 |") && stdout.contains("Epoch 2/7 |"),
        "{stdout}"
    );
    let replayed = std::fs::read_to_string(dir.path().join("replay/metrics.jsonl")).unwrap();
    assert_eq!(replayed, run.curves());
}
