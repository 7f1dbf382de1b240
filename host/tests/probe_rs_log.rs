//! A captured `probe-rs run` log (default format: `LEVEL message`, then `└─ module @ file:line`; made
//! from the iris program's real defmt stream by `tests/tests/probe_format_qemu.rs`) replays through
//! `tinytrain monitor` — from the file and from stdin — with every epoch recorded and nothing
//! corrupted, and `tinytrain decode --log` reports the same counts in the same words.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/probe-rs-default.log"
);
const COUNTS: &str = "20 epochs, 0 events, 3 other lines, 0 corrupted lines";

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "tinytrain {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn last_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().last().unwrap_or_default().to_owned()
}

fn epochs_saved(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .count()
}

#[test]
fn a_probe_rs_default_log_replays_with_every_epoch_and_decode_counts_alike() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(FIXTURE).unwrap();
    for (source, stdin) in [(FIXTURE, None), ("-", Some(text.as_slice()))] {
        let out = dir
            .path()
            .join(if stdin.is_some() { "stdin" } else { "file" });
        let out_arg = out.to_str().unwrap();
        let monitor = run(
            &["monitor", source, "--plain", "--no-plot", "--out", out_arg],
            stdin,
        );
        assert_eq!(
            last_line(&monitor.stderr),
            format!("saved to {out_arg}: {COUNTS}")
        );
        assert_eq!(String::from_utf8_lossy(&monitor.stdout).lines().count(), 20);
        assert_eq!(epochs_saved(&out), 20);
    }
    let out = dir.path().join("decoded");
    let decode = run(
        &["decode", "--log", FIXTURE, "--out", out.to_str().unwrap()],
        None,
    );
    assert_eq!(last_line(&decode.stderr), COUNTS);
    assert_eq!(epochs_saved(&out), 20);
    assert_eq!(
        std::fs::read(out.join("metrics.jsonl")).unwrap(),
        std::fs::read(dir.path().join("file/metrics.jsonl")).unwrap()
    );
}
