//! `tinytrain monitor` against the firmware in QEMU: the records it saves are the device's, every
//! epoch, byte for byte equal to `tinytrain train --experiment NAME` (which is bit-identical to the
//! device, see `firmware_qemu.rs`).
//!
//! * `--serial /dev/pts/N`: QEMU with `-serial pty` (the path parsed from QEMU's "char device
//!   redirected to" line) and the firmware built with the `handshake` feature, which waits for the
//!   monitor's start byte before training and for its acknowledgement before exiting — so nothing
//!   is lost on the pty. iris and digits.
//! * `--qemu FIRMWARE.elf`: the monitor starts QEMU itself (UART on a Unix socket); `--machine`
//!   names the board QEMU emulates.
//!
//! Without `qemu-system-arm` the tests are skipped, unless `CI` is set (then they fail).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[macro_use]
mod common;

#[path = "../tensorboard/check.rs"]
mod tensorboard;

/// Builds the firmware with the `handshake` feature (release, in `firmware/target/handshake` so the
/// default build's ELFs stay as they are) once; returns the directory of the ELF files.
fn handshake_elves() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::firmware_dir();
        let target = dir.join("target/handshake");
        let mut cargo = common::build_programs(&dir);
        cargo
            .args(["--features", "handshake", "--target-dir"])
            .arg(&target);
        common::build_firmware(cargo, "the handshake firmware");
        target.join("thumbv7em-none-eabihf/release")
    })
}

/// `tinytrain train --experiment NAME`'s metrics.jsonl.
fn host_metrics(experiment: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_dir = out.display();
    common::tinytrain(&format!(
        "train --experiment {experiment} --quiet --out {out_dir}"
    ));
    std::fs::read_to_string(out.join("metrics.jsonl")).unwrap()
}

/// Kills QEMU if the test fails before it exits.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `elf` in QEMU with `-serial pty`; returns QEMU and the pty's path.
fn qemu_on_a_pty(elf: &Path) -> (Qemu, String) {
    let (child, path) = tinytrain_host::qemu::on_a_pty("mps2-an386", elf).expect("QEMU on a pty");
    (Qemu(child), path)
}

fn wait_for(qemu: &mut Qemu, what: &str) {
    let started = Instant::now();
    loop {
        if let Some(status) = qemu.0.try_wait().unwrap() {
            assert!(status.success(), "{what}: QEMU exited with {status}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what}: QEMU did not exit after the acknowledgement"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lines(text: &str) -> usize {
    text.lines().count()
}

/// `monitor --serial PTY` on the handshake firmware `bin`, compared with `train --experiment`.
fn monitor_over_a_pty(bin: &str, experiment: &str, epochs: usize) {
    let elf = handshake_elves().join(bin);
    let (mut qemu, pty) = qemu_on_a_pty(&elf);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("monitor");
    common::tinytrain(&format!(
        "monitor --serial {pty} --plain --out {}",
        out.display()
    ));
    wait_for(&mut qemu, bin);
    let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let host = host_metrics(experiment);
    assert_eq!(lines(&host), epochs);
    assert_eq!(
        saved, host,
        "{bin}: the monitor's metrics.jsonl differs from train --experiment {experiment}"
    );
    // The summary frame came through too (the tail of the output), and the curves were drawn.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["summary"]["experiment"], experiment);
    assert_eq!(summary["summary"]["epochs"], epochs);
    for name in ["metrics.csv", "events.jsonl", "curves.png", "curves.svg"] {
        assert!(out.join(name).is_file(), "{bin}: no {name}");
    }
    assert_eq!(
        lines(&std::fs::read_to_string(out.join("metrics.csv")).unwrap()),
        epochs + 1
    );
}

#[test]
fn monitor_serial_pty_qemu_iris_saves_every_epoch_of_the_device() {
    require_qemu!();
    monitor_over_a_pty(
        "train_iris",
        "iris",
        tinytrain_experiments::IRIS.epochs as usize,
    );
}

#[test]
fn monitor_serial_pty_qemu_digits_saves_every_epoch_of_the_device() {
    require_qemu!();
    monitor_over_a_pty(
        "train",
        "digits",
        tinytrain_experiments::DIGITS.epochs as usize,
    );
}

#[test]
fn monitor_starts_qemu_itself_and_saves_every_epoch() {
    require_qemu!();
    let elf = handshake_elves().join("train_iris");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("monitor");
    common::tinytrain(&format!(
        "monitor --qemu {} --plain --no-plot --out {}",
        elf.display(),
        out.display()
    ));
    let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(saved, host_metrics("iris"));
    assert!(out.join("summary.json").is_file());
}

/// `monitor --qemu ELF --tensorboard DIR`: TensorBoard's reader finds in `DIR/<run name>` every
/// scalar of the device's metrics.jsonl (as the records arrived), the events, and the device's
/// start line among the options.
#[test]
fn monitor_qemu_writes_tensorboard_event_files() {
    require_qemu!();
    let elf = handshake_elves().join("train_iris");
    let dir = tempfile::tempdir().unwrap();
    let (out, logdir) = (dir.path().join("monitor"), dir.path().join("tb"));
    let started = std::time::SystemTime::now();
    common::tinytrain(&format!(
        "monitor --qemu {} --plain --no-plot --out {} --tensorboard {}",
        elf.display(),
        out.display(),
        logdir.display()
    ));
    let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(saved, host_metrics("iris"));
    let run = logdir.join("monitor");
    assert_eq!(tensorboard::event_files(&run).len(), 1);
    let Some(events) = tensorboard::read("monitor_qemu_writes_tensorboard_event_files", &run)
    else {
        return;
    };
    let source = format!("| source | `QEMU {}` |", elf.display());
    let rows = [source.as_str(), "| device.experiment | `iris` |"];
    tensorboard::assert_same_run(&events, &out, &rows, started);
}

/// `--machine` is the board QEMU emulates: a name QEMU does not know makes the monitor fail with
/// QEMU's own complaint (without the option it would train on the default, `mps2-an386`).
#[test]
fn the_machine_option_is_the_machine_qemu_emulates() {
    require_qemu!();
    let elf = handshake_elves().join("train_iris");
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "monitor --qemu {} --machine no-such-board --plain --no-plot --out {}",
        elf.display(),
        dir.path().join("monitor").display()
    );
    let argv: Vec<&str> = std::iter::once("tinytrain")
        .chain(command.split_whitespace())
        .collect();
    let error = format!("{:#}", tinytrain_host::cli::run(&argv).unwrap_err());
    assert!(
        error.contains("QEMU exited") && error.contains("unsupported machine type"),
        "{error}"
    );
}
