//! The firmware, run in QEMU, computes what the host computes, bit for bit.
//!
//! Builds `firmware/` (its own workspace, `thumbv7em-none-eabihf`), runs each program in
//! `qemu-system-arm -machine mps2-an386` (Cortex-M4F), and compares every epoch's `f32` bit
//! patterns — from the serial frames and from the decoded defmt log — and the summary with a native
//! run of the same experiment. Also checks each frame's CRC, the exit status and the RAM budget.
//!
//! Without `qemu-system-arm` the tests are skipped, unless `CI` is set (then they fail).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use tinytrain::record::EpochRecord;
use tinytrain_experiments::{digits, frame, iris, run, Experiment, Summary, DIGITS, IRIS};

/// What the default experiment may use on a microcontroller, statics and stack together.
const RAM_BUDGET: u64 = 64 * 1024;

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware")
}

/// `true` when QEMU is missing and the test should be skipped (outside CI).
fn no_qemu() -> bool {
    let found = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("qemu-system-arm is not installed (apt-get install qemu-system-arm)");
    }
    if !found {
        eprintln!("skipped: qemu-system-arm is not installed");
    }
    !found
}

/// Builds the firmware's programs once (release, default features: `qemu`, `mps2-an386`) and
/// returns the directory of the ELF files.
fn firmware_elves() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = firmware_dir();
        let mut cargo = Command::new("cargo");
        cargo
            .current_dir(&dir)
            .args(["build", "--release", "--bins"]);
        // The firmware's own .cargo/config.toml and rust-toolchain.toml must decide, not the
        // settings of the cargo that runs this test.
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            "RUSTC",
            "RUSTUP_TOOLCHAIN",
        ] {
            cargo.env_remove(var);
        }
        let output = cargo.output().expect("cargo runs");
        assert!(
            output.status.success(),
            "building the firmware failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        dir.join("target/thumbv7em-none-eabihf/release")
    })
}

/// One QEMU run: the serial port's text and the decoded defmt lines.
struct Device {
    uart: String,
    log: Vec<String>,
}

fn run_in_qemu(bin: &str) -> Device {
    let elf = firmware_elves().join(bin);
    let out = std::env::temp_dir().join(format!("tinytrain-qemu-{}-{bin}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let (uart, raw) = (out.join("uart.txt"), out.join("defmt.bin"));
    let started = Instant::now();
    let mut qemu = Command::new("qemu-system-arm")
        .args([
            "-machine",
            "mps2-an386",
            "-display",
            "none",
            "-monitor",
            "none",
        ])
        .arg("-serial")
        .arg(format!("file:{}", uart.display()))
        .args([
            "-semihosting-config",
            "enable=on,target=native",
            "-icount",
            "shift=0",
        ])
        .arg("-kernel")
        .arg(&elf)
        .stdout(std::fs::File::create(&raw).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-arm starts");
    let status = loop {
        if let Some(status) = qemu.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(300) {
            qemu.kill().unwrap();
            panic!("{bin}: QEMU did not exit within 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elf_bytes = std::fs::read(&elf).unwrap();
    let log = decode_defmt(&elf_bytes, &std::fs::read(&raw).unwrap());
    assert!(
        status.success(),
        "{bin}: QEMU exited with {status}; defmt log:\n{}",
        log.join("\n")
    );
    eprintln!(
        "{bin}: QEMU ran for {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let uart = std::fs::read_to_string(&uart).unwrap();
    std::fs::remove_dir_all(&out).ok();
    Device { uart, log }
}

fn decode_defmt(elf: &[u8], bytes: &[u8]) -> Vec<String> {
    let table = defmt_decoder::Table::parse(elf)
        .expect("the ELF parses")
        .expect("the ELF has a defmt table");
    let mut decoder = table.new_stream_decoder();
    decoder.received(bytes);
    let mut lines = Vec::new();
    loop {
        match decoder.decode() {
            Ok(frame) => lines.push(frame.display_message().to_string()),
            Err(defmt_decoder::DecodeError::UnexpectedEof) => return lines,
            Err(defmt_decoder::DecodeError::Malformed) => {
                panic!("malformed defmt data after {lines:?}")
            }
        }
    }
}

fn host_run(experiment: &Experiment) -> (Vec<EpochRecord>, Summary) {
    let mut records = Vec::new();
    let mut observer = |r: &EpochRecord| records.push(*r);
    let summary = match experiment.name {
        "digits" => {
            let mut ws = Box::new(digits::workspace());
            let (buffers, train, validation) = ws.parts();
            run(experiment, buffers, train, validation, &mut observer)
        }
        _ => {
            let mut ws = Box::new(iris::workspace());
            let (buffers, train, validation) = ws.parts();
            run(experiment, buffers, train, validation, &mut observer)
        }
    }
    .expect("the experiment runs");
    (records, summary)
}

/// A record's floats with their names, in the order of the defmt `epoch` line's `bits`.
fn named_fields(r: &EpochRecord) -> [(&'static str, Option<f32>); 6] {
    if r.train_acc.is_some() {
        [
            ("train_loss", Some(r.train_loss)),
            ("train_acc", r.train_acc),
            ("val_loss", r.val_loss),
            ("val_acc", r.val_acc),
            ("val_f1", r.val_f1),
            ("lr", Some(r.lr)),
        ]
    } else {
        [
            ("train_loss", Some(r.train_loss)),
            ("train_mae", r.train_mae),
            ("val_loss", r.val_loss),
            ("val_mae", r.val_mae),
            ("val_rmse", r.val_rmse),
            ("lr", Some(r.lr)),
        ]
    }
}

/// Checks the serial frames; returns the summary frame's `resources`.
fn check_serial(bin: &str, uart: &str, records: &[EpochRecord], summary: &Summary) -> Value {
    let lines: Vec<&str> = uart.lines().collect();
    assert_eq!(
        lines.len(),
        records.len() + 1,
        "{bin}: a frame per epoch and the summary:\n{uart}"
    );
    for (line, host) in lines.iter().zip(records) {
        let json = frame::open(line).unwrap_or_else(|e| panic!("{bin}: {e}: {line}"));
        // The frame parses as an `EpochRecord` (its extra `bits` is ignored)...
        let device: EpochRecord = serde_json::from_str(json).expect("an EpochRecord");
        assert_eq!(device.epoch, host.epoch);
        let value: Value = serde_json::from_str(json).unwrap();
        for (name, host_value) in named_fields(host) {
            let Some(host_value) = host_value else {
                assert!(
                    value.get(name).is_none(),
                    "{bin} epoch {}: {name} present",
                    host.epoch
                );
                continue;
            };
            // ...its bits are the host's...
            let bits = value["bits"][name].as_u64().expect("bits for every float") as u32;
            assert_eq!(
                bits,
                host_value.to_bits(),
                "{bin} epoch {} {name}: device {:e}, host {host_value:e}",
                host.epoch,
                f32::from_bits(bits)
            );
            // ...and its JSON number (shortest round-trip digits) denotes the same f32.
            let number = value[name].as_f64().unwrap() as f32;
            assert_eq!(
                number.to_bits(),
                host_value.to_bits(),
                "{bin} epoch {} {name}",
                host.epoch
            );
        }
    }
    let json = frame::open(lines[records.len()]).expect("a summary frame");
    let value: Value = serde_json::from_str(json).unwrap();
    let device = &value["summary"];
    assert_eq!(device["experiment"], summary.experiment);
    assert_eq!(device["epochs"], summary.epochs);
    assert_eq!(device["rows"]["train"], summary.rows.train);
    assert_eq!(device["rows"]["validation"], summary.rows.validation);
    assert_eq!(device["samples_trained"], summary.samples_trained);
    assert_eq!(device["best_epoch"], summary.best_epoch);
    let last: EpochRecord = serde_json::from_value(device["last"].clone()).unwrap();
    assert_eq!(last.epoch, summary.last.epoch);
    value["resources"].clone()
}

/// `key=value` pairs of a defmt line and its `bits=` list.
fn parse_line(line: &str) -> (Vec<(&str, &str)>, Vec<u32>) {
    let (mut pairs, mut bits) = (Vec::new(), Vec::new());
    for (key, value) in line.split_whitespace().filter_map(|t| t.split_once('=')) {
        if key == "bits" {
            bits = value
                .split(',')
                .map(|b| u32::from_str_radix(b.trim_start_matches("0x"), 16).expect("hex bits"))
                .collect();
        } else {
            pairs.push((key, value));
        }
    }
    (pairs, bits)
}

fn check_defmt(bin: &str, log: &[String], records: &[EpochRecord], summary: &Summary) {
    let epochs: Vec<&String> = log.iter().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(
        epochs.len(),
        records.len(),
        "{bin}: an epoch line per epoch: {log:#?}"
    );
    for (line, host) in epochs.iter().zip(records) {
        let counter = format!("epoch {}/{} ", host.epoch, summary.epochs);
        assert!(
            line.starts_with(&counter),
            "{bin}: expected `{counter}` in {line}"
        );
        let (pairs, bits) = parse_line(line);
        let fields = named_fields(host);
        assert_eq!(bits.len(), fields.len(), "{line}");
        for ((name, host_value), device_bits) in fields.iter().zip(&bits) {
            assert!(
                pairs.iter().any(|(key, _)| key == name),
                "{bin}: no {name} in {line}"
            );
            let host_bits = host_value.map_or(u32::MAX, f32::to_bits);
            assert_eq!(
                *device_bits, host_bits,
                "{bin} defmt epoch {} {name}",
                host.epoch
            );
        }
    }
    let line = log
        .iter()
        .find(|l| l.starts_with("summary "))
        .expect("a summary line");
    let (pairs, bits) = parse_line(line);
    let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    assert_eq!(
        value("best_epoch"),
        Some(summary.best_epoch.to_string().as_str())
    );
    assert_eq!(
        value("samples_trained"),
        Some(summary.samples_trained.to_string().as_str())
    );
    let host_bits = [
        summary.best_val_acc.map_or(u32::MAX, f32::to_bits),
        summary.last.train_loss.to_bits(),
        summary.last.val_loss.map_or(u32::MAX, f32::to_bits),
        summary.last.val_acc.map_or(u32::MAX, f32::to_bits),
    ];
    assert_eq!(bits, host_bits, "{bin} defmt summary");
    assert!(
        log.iter().any(|l| l.starts_with("resources ")),
        "{bin}: no resources line"
    );
}

#[test]
fn digits_in_qemu_equals_digits_on_the_host() {
    if no_qemu() {
        return;
    }
    let device = run_in_qemu("train");
    let (records, summary) = host_run(&DIGITS);
    let resources = check_serial("train", &device.uart, &records, &summary);
    check_defmt("train", &device.log, &records, &summary);
    let ram = resources["ram_total"].as_u64().unwrap();
    assert!(
        ram <= RAM_BUDGET,
        "digits needs {ram} B of RAM: {resources}"
    );
    assert!(resources["stack_peak"].as_u64().unwrap() > 0);
}

#[test]
fn iris_in_qemu_equals_iris_on_the_host() {
    if no_qemu() {
        return;
    }
    let device = run_in_qemu("train_iris");
    let (records, summary) = host_run(&IRIS);
    check_serial("train_iris", &device.uart, &records, &summary);
    check_defmt("train_iris", &device.log, &records, &summary);
}
