//! `tinytrain sweep` as a user runs it: every run a normal run directory (byte-identical to `train`
//! with the same options), results sorted by the validation metric, the same whatever `--jobs`,
//! and nothing started or created when an axis, a value or `--out` is wrong.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{assert_fails_with, data, ok, tinytrain};

/// The grid of these tests: 2 learning rates × 2 networks × 2 seeds on iris, a few epochs.
const GRID: &[&str] = &[
    "--grid",
    "lr=1e-3,1e-2",
    "--grid",
    "hidden=8;16,8",
    "--seeds",
    "1,2",
    "--epochs",
    "4",
    "--batch",
    "16",
];

/// Runs the grid into `dir/out` with `extra` options; its stdout.
fn sweep(dir: &Path, out: &str, extra: &[&str]) -> String {
    let iris = data("iris.csv");
    let mut args = vec!["sweep", "--data", iris.to_str().unwrap(), "--out", out];
    args.extend_from_slice(GRID);
    args.extend_from_slice(extra);
    String::from_utf8(ok(dir, &args).stdout).unwrap()
}

/// `results.csv` as one map from column to cell per row, in file order.
fn results(dir: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("results.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|row| {
            header
                .iter()
                .cloned()
                .zip(row.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> f32 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: {row:?}"))
}

#[test]
fn every_run_is_a_normal_run_and_the_table_is_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = sweep(dir.path(), "grid", &["--jobs", "2"]);
    let out = dir.path().join("grid");
    let rows = results(&out);
    assert_eq!(rows.len(), 8, "{rows:?}");

    // Sorted: val_acc never rises, and on a tie val_loss never falls.
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (acc_a, acc_b) = (number(a, "val_acc"), number(b, "val_acc"));
        assert!(acc_a >= acc_b, "{a:?} before {b:?}");
        if acc_a == acc_b {
            assert!(
                number(a, "val_loss") <= number(b, "val_loss"),
                "{a:?} before {b:?}"
            );
        }
    }
    let ranks: Vec<&str> = rows.iter().map(|r| r["rank"].as_str()).collect();
    assert_eq!(ranks, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    // The printed table lists the runs in the file's order.
    let printed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .take(8)
        .map(|l| l.rsplit('|').nth(1).unwrap().trim())
        .collect();
    let listed: Vec<&str> = rows.iter().map(|r| r["run_dir"].as_str()).collect();
    assert_eq!(printed, listed, "{stdout}");
    assert!(stdout.contains("Mean ± std over the seeds"), "{stdout}");

    // Each run directory is the one `train` makes with the same options and seed.
    let iris = data("iris.csv");
    for row in &rows {
        assert_eq!(row["status"], "ok");
        let run = out.join(&row["run_dir"]);
        for file in [
            "manifest.json",
            "metrics.jsonl",
            "weights.json",
            "init.json",
        ] {
            assert!(run.join(file).is_file(), "{} has no {file}", run.display());
        }
        let plain = dir.path().join(format!("plain-{}", row["rank"]));
        ok(
            dir.path(),
            &[
                "train",
                "--data",
                iris.to_str().unwrap(),
                "--epochs",
                "4",
                "--batch",
                "16",
                "--lr",
                &row["lr"],
                "--hidden",
                &row["hidden"],
                "--seed",
                &row["seed"],
                "--out",
                plain.to_str().unwrap(),
                "--quiet",
            ],
        );
        for file in [
            "metrics.jsonl",
            "metrics.csv",
            "weights.json",
            "events.jsonl",
        ] {
            let read = |d: &Path| std::fs::read(d.join(file)).unwrap();
            assert!(
                read(&run) == read(&plain),
                "{}: {file} differs",
                row["run_dir"]
            );
        }
        // The run's last record is the score in the table.
        let jsonl = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        let last: serde_json::Value = serde_json::from_str(jsonl.lines().last().unwrap()).unwrap();
        assert_eq!(
            last["val_acc"].as_f64().unwrap() as f32,
            number(row, "val_acc")
        );
        assert_eq!(number(row, "epochs"), 4.0);
    }

    // summary.csv: the four grid points, best mean first, each over both seeds.
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let means: Vec<f32> = summary
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.rsplitn(5, ',').collect();
            cells[3].parse().unwrap()
        })
        .collect();
    assert_eq!(means.len(), 4, "{summary}");
    assert!(means.windows(2).all(|m| m[0] >= m[1]), "{summary}");
    assert!(
        summary.lines().skip(1).all(|l| l.contains(",2,0,val_acc,")),
        "{summary}"
    );
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let one = sweep(dir.path(), "one", &["--jobs", "1", "--no-plot"]);
    let two = sweep(dir.path(), "two", &["--jobs", "2", "--no-plot"]);
    // The tables differ only in the directory named in their first line.
    assert_eq!(one.replacen("in one,", "in two,", 1), two);
    let without_seconds = |rows: Vec<HashMap<String, String>>| {
        rows.into_iter()
            .map(|mut row| {
                row.remove("seconds");
                row
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (dir.path().join("one"), dir.path().join("two"));
    assert_eq!(without_seconds(results(&a)), without_seconds(results(&b)));
    for row in results(&a) {
        for file in ["metrics.jsonl", "weights.json"] {
            let read = |d: &Path| std::fs::read(d.join(&row["run_dir"]).join(file)).unwrap();
            assert!(read(&a) == read(&b), "{}: {file} differs", row["run_dir"]);
        }
    }
}

#[test]
fn a_bad_axis_or_value_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    for (grid, needles) in [
        ("lrr=1e-3", &["'lrr' is not an option of train"][..]),
        (
            "lr=1e-3;0",
            &["--grid lr: '0': invalid value '0' for '--lr <RATE>'"],
        ),
        (
            "hidden=8;16,x",
            &["--grid hidden: '16,x'", "'x' is not a layer width"],
        ),
        ("activation=relu;swish", &["--grid activation: 'swish'"]),
        ("seed=1,2", &["--seeds"]),
    ] {
        let output = tinytrain(
            dir.path(),
            &["sweep", "--data", iris, "--grid", grid, "--out", "never"],
        );
        assert_fails_with(&output, needles);
        assert!(output.stdout.is_empty());
        assert!(!dir.path().join("never").exists(), "{grid}");
    }
    // A data file that cannot be read stops the sweep before its first run too.
    let output = tinytrain(
        dir.path(),
        &[
            "sweep",
            "--data",
            "missing.csv",
            "--grid",
            "lr=1e-3",
            "--out",
            "never",
        ],
    );
    assert_fails_with(&output, &["missing.csv"]);
    assert!(!dir.path().join("never").exists());
}

#[test]
fn an_occupied_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("taken");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let iris = data("iris.csv");
    let output = tinytrain(
        dir.path(),
        &[
            "sweep",
            "--data",
            iris.to_str().unwrap(),
            "--grid",
            "lr=1e-3",
            "--out",
            "taken",
        ],
    );
    assert_fails_with(
        &output,
        &["taken already holds files", "choose another --out"],
    );
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(left.len(), 1);
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    // An empty directory is free, as for train.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    ok(
        dir.path(),
        &[
            "sweep",
            "--data",
            iris.to_str().unwrap(),
            "--epochs",
            "1",
            "--no-plot",
            "--out",
            "empty",
        ],
    );
    assert!(dir.path().join("empty/seed=1/metrics.jsonl").is_file());
}

#[test]
fn a_failing_run_is_reported_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    let iris = data("iris.csv");
    let iris = iris.to_str().unwrap();
    let common = ["--data", iris, "--epochs", "2", "--no-plot"];
    ok(
        dir.path(),
        &[
            &["train"][..],
            &common,
            &["--hidden", "8", "--out", "w8", "--quiet"],
        ]
        .concat(),
    );
    // Weights of a 4→8→3 network: the hidden=16 runs cannot load them, at run time.
    let output = tinytrain(
        dir.path(),
        &[
            &["sweep"][..],
            &common,
            &[
                "--init",
                "w8/weights.json",
                "--grid",
                "hidden=8;16",
                "--seeds",
                "1..2",
                "--out",
                "s",
            ],
        ]
        .concat(),
    );
    // A line per finished run, then the error.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .ends_with("error: 2 of 4 runs failed (their errors are above and in s/results.csv)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hidden=16,seed=2: FAILED: --init"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("FAILED hidden=16,seed=1: --init w8/weights.json: dense layer 0"),
        "{stdout}"
    );
    let rows = results(&dir.path().join("s"));
    let status: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["hidden"].as_str(), r["status"].as_str()))
        .collect();
    assert_eq!(
        status,
        [("8", "ok"), ("8", "ok"), ("16", "failed"), ("16", "failed")]
    );
    assert!(
        rows[2]["error"].contains("but the file has weight 8×4"),
        "{:?}",
        rows[2]
    );
    assert!(dir.path().join("s/hidden=8,seed=2/weights.json").is_file());
}
