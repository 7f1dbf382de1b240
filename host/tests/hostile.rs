//! Hostile input against the `tinytrain` binary, as a user would type it: each test is a defect
//! that was found this way (hang, abort, lost run, silently wrong number) and must stay fixed.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// Runs `tinytrain ARGS` in `dir`; a run that takes longer than 60 s is a hang and fails.
fn tinytrain(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tinytrain starts");
    let started = std::time::Instant::now();
    while child.try_wait().expect("tinytrain runs").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("tinytrain {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("tinytrain's output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn iris() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/iris.csv")
        .display()
        .to_string()
}

/// A failure with an `error:` line, never a panic (exit 101) or an abort (134); returns stderr
/// from that line on.
fn fails_cleanly(output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let at = text
        .find("error: ")
        .filter(|&i| i == 0 || text[..i].ends_with('\n'))
        .unwrap_or_else(|| panic!("no error line: {text}"));
    text[at..].to_string()
}

#[test]
fn a_huge_loss_plots_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r");
    std::fs::create_dir(&run).unwrap();
    std::fs::write(
        run.join("metrics.jsonl"),
        "{\"epoch\":1,\"train_loss\":3.3e38,\"lr\":0.001}\n",
    )
    .unwrap();
    let output = tinytrain(dir.path(), &["plot", "r"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(run.join("curves.png").is_file());
}

#[test]
fn sizes_that_overflow_or_exhaust_memory_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    let cases = [
        ("9223372036854775808", "error: the network does not fit together: layer 0: the network's buffers are larger than this machine's address space"),
        ("100000,100000", "error: the network needs 160.0 GB of memory (10000900003 parameters, their gradients and the optimiser's state) but "),
    ];
    for (hidden, message) in cases {
        let output = tinytrain(
            dir.path(),
            &[
                "train",
                "--data",
                &data,
                "--hidden",
                hidden,
                "--dropout",
                "0",
                "--out",
                "x",
            ],
        );
        let text = fails_cleanly(&output);
        assert!(text.starts_with(message), "{text}");
        assert!(
            !dir.path().join("x").exists(),
            "nothing is written for a refused run"
        );
    }
}

#[test]
fn a_run_is_not_overwritten_without_force_and_survives_a_failed_replacement() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--data", &data, "--epochs", "2", "--no-plot", "-q"];
        args.extend(extra);
        tinytrain(dir.path(), &args)
    };
    assert!(train(&["--out", "run"]).status.success());
    let kept = std::fs::read(dir.path().join("run/metrics.jsonl")).unwrap();

    let text = fails_cleanly(&train(&["--out", "run", "--seed", "2"]));
    assert_eq!(text, format!("error: run already holds files (another run?); pass --force to replace it, or choose another --out\n"));
    assert_eq!(
        std::fs::read(dir.path().join("run/metrics.jsonl")).unwrap(),
        kept
    );

    // --force with a run that fails before its first epoch (a bad --init) keeps the old run.
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    fails_cleanly(&train(&["--out", "run", "--force", "--init", "bad.json"]));
    assert_eq!(
        std::fs::read(dir.path().join("run/metrics.jsonl")).unwrap(),
        kept
    );

    // --force replaces it once the new run has data.
    assert!(train(&["--out", "run", "--force", "--seed", "2"])
        .status
        .success());
    assert_ne!(
        std::fs::read(dir.path().join("run/metrics.jsonl")).unwrap(),
        kept
    );

    // The input is never the output.
    std::fs::copy(&data, dir.path().join("run/in.csv")).unwrap();
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--data",
            "run/in.csv",
            "--out",
            "run",
            "--force",
            "--epochs",
            "1",
        ],
    );
    let text = fails_cleanly(&output);
    assert!(
        text.contains(
            "run/in.csv is an input of this run and lies inside run, which --force would replace"
        ),
        "{text}"
    );

    // Default names do not collide: the second run of the same file and seed gets `-2`.
    for expected in ["runs/iris-seed1", "runs/iris-seed1-2"] {
        let output = tinytrain(
            dir.path(),
            &["train", "--data", &data, "--epochs", "1", "--no-plot"],
        );
        assert!(
            stderr(&output).ends_with(&format!("saved the run to {expected}\n")),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_learning_rate_of_3e38_leaves_every_parameter_finite() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    for optimizer in ["adam", "sgd"] {
        let out = format!("lr-{optimizer}");
        let output = tinytrain(
            dir.path(),
            &[
                "train",
                "--data",
                &data,
                "--lr",
                "3e38",
                "--batch",
                "1",
                "--epochs",
                "2",
                "--optimizer",
                optimizer,
                "--no-plot",
                "--out",
                &out,
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let weights = std::fs::read_to_string(dir.path().join(&out).join("weights.json")).unwrap();
        assert!(!weights.contains("null"), "{optimizer}: {weights}");
        // The weights are usable as --init.
        let init = format!("{out}/weights.json");
        let again = tinytrain(
            dir.path(),
            &[
                "train",
                "--data",
                &data,
                "--init",
                &init,
                "--epochs",
                "1",
                "--no-plot",
                "--out",
                &format!("{out}-again"),
            ],
        );
        assert!(again.status.success(), "{}", stderr(&again));
    }
}

/// `--epochs 4294967295` allocated a record per epoch up front and aborted; now it trains (and
/// writes epochs) until it is stopped.
#[test]
fn the_largest_epoch_count_trains_instead_of_aborting() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args([
            "train",
            "--data",
            &iris(),
            "--epochs",
            "4294967295",
            "--no-plot",
            "-q",
        ])
        .args(["--out", "r"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let metrics = dir.path().join("r/metrics.jsonl");
    let started = std::time::Instant::now();
    let epochs = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("tinytrain ended ({status}) instead of training");
        }
        let written = std::fs::read_to_string(&metrics).unwrap_or_default();
        if written.lines().count() >= 3 || started.elapsed() > Duration::from_secs(50) {
            break written.lines().count();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    let _ = child.wait();
    assert!(epochs >= 3, "{epochs} epochs written in 50 s");
}

/// An epoch whose every training sample was skipped (each loss overflows `f32`) reports its training
/// loss as NaN and no MAE, never a made-up 0; its divergence is written once.
#[test]
fn an_epoch_with_every_sample_skipped_has_no_training_loss() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (1..=10).map(|i| format!("{i}e30,{i}\n")).collect();
    std::fs::write(dir.path().join("big.csv"), format!("x,y\n{rows}")).unwrap();
    let output = tinytrain(
        dir.path(),
        &[
            "train",
            "--data",
            "big.csv",
            "--label",
            "y",
            "--task",
            "regression",
            "--normalize",
            "none",
            "--epochs",
            "1",
            "--no-plot",
            "--out",
            "r",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let metrics = std::fs::read_to_string(dir.path().join("r/metrics.jsonl")).unwrap();
    assert!(
        metrics.starts_with(r#"{"epoch":1,"train_loss":"NaN","#),
        "{metrics}"
    );
    assert!(!metrics.contains("train_mae"), "{metrics}");
    assert!(
        stderr(&output).contains("skipped 8 training samples"),
        "{}",
        stderr(&output)
    );
    // The divergence is one event, not one from the guard and one from the analyser.
    let events = std::fs::read_to_string(dir.path().join("r/events.jsonl")).unwrap();
    assert_eq!(
        events.matches(r#""event":"divergence""#).count(),
        1,
        "{events}"
    );
}

/// CRC-valid but impossible frames are rejected with their reason: epoch 0, an epoch repeated or
/// going backwards, a negative loss, an accuracy above 1, an event detected before it starts, a
/// value without its exact bits.
#[test]
fn decode_rejects_absurd_frames_with_reasons() {
    fn frame(json: &str) -> String {
        format!("{json}*{:08x}\n", crc(json.as_bytes()))
    }
    fn crc(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let epoch = |e: u32, loss: f32, acc: f32| {
        format!(
            r#"{{"epoch":{e},"train_loss":{loss},"train_acc":{acc},"lr":0.001,"bits":{{"train_loss":{},"train_acc":{},"lr":{}}}}}"#,
            loss.to_bits(),
            acc.to_bits(),
            0.001f32.to_bits()
        )
    };
    let log = [
        frame(&epoch(0, 1.0, 0.5)),
        frame(&epoch(1, 1.0, 0.5)),
        frame(&epoch(1, 0.9, 0.5)),
        frame(&epoch(2, -1.0, 0.5)),
        frame(&epoch(2, 1.0, 1.5)),
        frame(r#"{"epoch":2,"train_loss":1.0,"lr":0.001,"bits":{"lr":981668463}}"#),
        frame(r#"{"event":"overfitting","epoch":9,"detected":4}"#),
        frame(&epoch(2, 0.8, 0.6)),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("log.txt"), log).unwrap();
    let output = tinytrain(
        dir.path(),
        &["decode", "--serial-log", "log.txt", "--out", "d"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    for reason in [
        "rejected: epoch 0 (epochs count from 1)",
        "rejected: epoch 1 after epoch 1 (repeated or out of order)",
        "rejected: epoch 2: train_loss = -1 is impossible",
        "rejected: epoch 2: train_acc = 1.5 is impossible",
        "rejected: an epoch frame whose `train_loss` has no exact bits (or bits without a value)",
        "rejected: an event starting at epoch 9 but detected at epoch 4",
        "2 epochs, 0 events, 0 other lines, 6 corrupted lines",
    ] {
        assert!(text.contains(reason), "{reason}\n{text}");
    }
    let metrics = std::fs::read_to_string(dir.path().join("d/metrics.jsonl")).unwrap();
    let epochs: Vec<&str> = metrics.lines().map(|l| &l[..10]).collect();
    assert_eq!(epochs, [r#"{"epoch":1"#, r#"{"epoch":2"#]);
}

#[test]
fn decode_does_not_replace_a_training_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = iris();
    let run = tinytrain(
        dir.path(),
        &[
            "train",
            "--data",
            &data,
            "--epochs",
            "1",
            "--no-plot",
            "--out",
            "run",
        ],
    );
    assert!(run.status.success());
    std::fs::write(dir.path().join("log.txt"), "").unwrap();
    let output = tinytrain(
        dir.path(),
        &["decode", "--serial-log", "log.txt", "--out", "run"],
    );
    let text = fails_cleanly(&output);
    assert!(text.contains("run already holds files"), "{text}");
    assert!(dir.path().join("run/weights.json").is_file());
}

/// `--resume` refuses what is not the run it continues: a manifest edited to other options, a
/// data file changed (a validation row too, and under `--normalize none`), a truncated
/// metrics.csv, a deleted events.jsonl, a run that `--on-divergence stop` ended.
#[test]
fn resume_refuses_an_edited_run_or_changed_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read_to_string(iris()).unwrap();
    std::fs::write(dir.path().join("d.csv"), &data).unwrap();
    let start = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            "d.csv",
            "--epochs",
            "3",
            "--no-plot",
            "-q",
            "--out",
            out,
        ];
        args.extend(extra);
        let output = tinytrain(dir.path(), &args);
        assert!(output.status.success(), "{}", stderr(&output));
    };
    let resume = |out: &str| {
        tinytrain(
            dir.path(),
            &["train", "--resume", out, "--epochs", "5", "--no-plot", "-q"],
        )
    };
    let edited = "error: cannot resume: the checkpoint belongs to another run (its options or data differ from the manifest's and the data file's as they are now: has either been edited?)";

    for (k, (from, to)) in [
        (r#""lr": 0.001"#, r#""lr": 0.002"#),
        (r#""dropout": 0.1"#, r#""dropout": 0.2"#),
        (r#""shuffle": true"#, r#""shuffle": false"#),
        (r#""beta2": 0.999"#, r#""beta2": 0.99"#),
    ]
    .into_iter()
    .enumerate()
    {
        let out = format!("edit{k}");
        start(&out, &[]);
        let manifest = dir.path().join(&out).join("manifest.json");
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(text.contains(from), "{from} in {text}");
        std::fs::write(&manifest, text.replacen(from, to, 1)).unwrap();
        assert_eq!(
            fails_cleanly(&resume(&out)).trim_end(),
            edited,
            "{from} → {to}"
        );
    }

    // Changed data, without normalisation (no statistics to differ): the last row (validation or not).
    start("data", &["--normalize", "none"]);
    let changed = data
        .trim_end()
        .rsplit_once('\n')
        .map(|(head, last)| format!("{head}\n{}\n", last.replacen("5.9", "6.9", 1)))
        .unwrap();
    std::fs::write(dir.path().join("d.csv"), changed).unwrap();
    assert_eq!(fails_cleanly(&resume("data")).trim_end(), edited);
    std::fs::write(dir.path().join("d.csv"), &data).unwrap();

    start("csv", &[]);
    let csv = dir.path().join("csv/metrics.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(
        &csv,
        text.lines().take(2).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let message = fails_cleanly(&resume("csv"));
    assert!(
        message.contains("holds 1 epochs, the checkpoint is at epoch 3 (epochs were lost)"),
        "{message}"
    );

    start("events", &[]);
    std::fs::remove_file(dir.path().join("events/events.jsonl")).unwrap();
    let message = fails_cleanly(&resume("events"));
    assert!(message.contains("events.jsonl"), "{message}");

    // An untouched run resumes.
    start("fine", &[]);
    assert!(resume("fine").status.success());
}
