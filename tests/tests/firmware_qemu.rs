//! The firmware, run in QEMU, computes what the host computes, bit for bit.
//!
//! Builds `firmware/` (its own workspace) for every Cortex-M profile, runs each program in
//! `qemu-system-arm` — `mps2-an386` (Cortex-M4F), `netduinoplus2` (STM32F405, 128 KiB of RAM),
//! `microbit` (M0), `mps2-an385` (M3), `mps2-an500` (M7), `mps2-an505` (M33), `mps3-an547` (M55) —
//! and compares every epoch's `f32` bit patterns — from the serial frames and from the
//! decoded defmt log — and the summary with a native run of the same experiment. Also checks each
//! frame's CRC, the exit status and the RAM budget, and the `tinytrain` commands that read a device's
//! output: `decode --serial-log` against `train --experiment`, `decode --elf` against the snapshot
//! `tests/snapshots/train_iris.out` (`TINYTRAIN_BLESS=1` rewrites it), and `size`.
//!
//! Without `qemu-system-arm` the tests are skipped, unless `CI` is set (then they fail).

#[macro_use]
mod common;

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use tinytrain::record::EpochRecord;
use tinytrain_experiments::{
    digits_sgd, frame, Experiment, RecordBits, Summary, DIGITS, DIGITS_BN, DIGITS_SGD, IRIS,
};
use tinytrain_host::decode;

use common::{host_run, run_in_qemu, run_program, Device, Machine};

/// What the default experiment may use on a microcontroller, statics and stack together.
const RAM_BUDGET: u64 = 64 * 1024;

/// The RAM of QEMU's `netduinoplus2` (STM32F405).
const NETDUINO_RAM: u64 = 128 * 1024;

/// A record's floats with their names, in the order of the defmt `epoch` line's `bits`.
fn named_fields(r: &EpochRecord) -> [(&'static str, Option<f32>); 6] {
    let names = match r.train_acc {
        Some(_) => [
            "train_loss",
            "train_acc",
            "val_loss",
            "val_acc",
            "val_f1",
            "lr",
        ],
        None => [
            "train_loss",
            "train_mae",
            "val_loss",
            "val_mae",
            "val_rmse",
            "lr",
        ],
    };
    let floats = r.floats();
    names.map(|name| {
        let field = EpochRecord::FLOAT_NAMES.iter().position(|&n| n == name);
        (name, field.and_then(|i| floats[i]))
    })
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
    assert!(
        log.iter().all(|l| l.starts_with("INFO  ")),
        "{bin}: every line at level INFO: {log:#?}"
    );
    let log: Vec<&str> = log.iter().map(|l| decode::strip_level(l)).collect();
    let epochs: Vec<&str> = log
        .iter()
        .copied()
        .filter(|l| l.starts_with("epoch "))
        .collect();
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
        // `tinytrain decode` parses the line into the host's record, bit for bit.
        let parsed = decode::parse_epoch_line(line).unwrap_or_else(|| panic!("{bin}: {line}"));
        assert_eq!(parsed.epoch, host.epoch);
        assert_eq!(
            RecordBits::of(&parsed),
            RecordBits::of(host),
            "{bin}: {line}"
        );
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

/// The iris program's run on `mps2-an386`, shared by the tests that read it.
fn iris_device() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| run_in_qemu("train_iris", Machine::Mps2An386))
}

fn check_digits(machine: Machine, ram_budget: u64) {
    check_run(
        run_in_qemu("train", machine),
        machine,
        "train",
        &DIGITS,
        ram_budget,
    );
}

/// `device` ran program `bin` (experiment `experiment`) on `machine`: every epoch on both channels
/// equals the host's, the summary names the board, and statics plus stack fit `ram_budget`.
/// Returns the device's resources line.
fn check_run(
    device: Device,
    machine: Machine,
    bin: &str,
    experiment: &Experiment,
    ram_budget: u64,
) -> Value {
    let (records, summary) = host_run(experiment);
    let resources = check_serial(bin, &device.uart, &records, &summary);
    check_defmt(bin, &device.log, &records, &summary);
    assert_eq!(resources["board"], machine.name());
    let ram = resources["ram_total"].as_u64().unwrap();
    assert!(
        ram <= ram_budget,
        "{bin} on {machine:?} needs {ram} B of RAM: {resources}"
    );
    assert!(resources["stack_peak"].as_u64().unwrap() > 0);
    resources
}

/// Digits by fused plain SGD: no gradient buffer and no optimiser state, so the network's RAM is
/// its parameters, activations, deltas and mask (10,580 B) and the statics are that plus the split's
/// `u16` indices, one per row (1797: training then validation in one buffer).
fn check_digits_sgd(device: Device, machine: Machine) {
    let resources = check_run(device, machine, "train_digits_sgd", &DIGITS_SGD, RAM_BUDGET);
    let network = tinytrain_experiments::digits::net::PLAN.fused_sgd_bytes() as u64;
    assert_eq!(network, 10_580);
    let indices = 2 * digits_sgd::TRAIN_CAPACITY as u64;
    assert_eq!(indices, 2 * 1797);
    let statics = resources["static_ram"].as_u64().unwrap();
    assert!(
        (network + indices..network + indices + 64).contains(&statics),
        "{resources}"
    );
}

/// BatchNorm on the device: digits with a batch norm, mini-batches of 8 held in RAM at once, every
/// epoch (running statistics in its validation metrics) bit-identical to the host's.
#[test]
fn firmware_digits_bn_equals_the_host() {
    require_qemu!();
    let resources = check_run(
        run_program("train_digits_bn"),
        Machine::Mps2An386,
        "train_digits_bn",
        &DIGITS_BN,
        RAM_BUDGET,
    );
    let plan = tinytrain_experiments::digits_bn::net::BATCH_PLAN;
    assert_eq!((plan.batch, plan.stats), (8, 6 * 32));
    eprintln!("train_digits_bn: {resources}");
}

#[test]
fn firmware_digits_sgd_without_gradients_equals_the_host() {
    require_qemu!();
    check_digits_sgd(run_program("train_digits_sgd"), Machine::Mps2An386);
}

#[test]
fn profile_m3_mps2_an385_digits_sgd_equals_the_host() {
    require_qemu!();
    let machine = Machine::Mps2An385;
    check_digits_sgd(run_in_qemu("train_digits_sgd", machine), machine);
}

#[test]
fn firmware_digits_in_qemu_equals_digits_on_the_host() {
    require_qemu!();
    check_digits(Machine::Mps2An386, RAM_BUDGET);
}

#[test]
fn firmware_digits_in_qemu_netduinoplus2_fits_128k_and_equals_the_host() {
    require_qemu!();
    check_digits(Machine::NetduinoPlus2, NETDUINO_RAM);
}

#[test]
fn firmware_iris_in_qemu_equals_iris_on_the_host() {
    require_qemu!();
    let device = iris_device();
    let (records, summary) = host_run(&IRIS);
    check_serial("train_iris", &device.uart, &records, &summary);
    check_defmt("train_iris", &device.log, &records, &summary);
}

/// Iris on `machine`: every epoch on both channels equals the host's; the summary names the board.
fn check_iris(machine: Machine) {
    let device = run_in_qemu("train_iris", machine);
    check_run(device, machine, "train_iris", &IRIS, RAM_BUDGET);
}

// One test per program and Cortex-M profile (the README's profile table). The M4F's are above; the
// M3 and M0 are soft-float, so the core's Rust loops run there; the M7, M33 and M55 have a
// single-precision FPU and run the assembly kernels.

#[test]
fn profile_m0_microbit_iris_equals_the_host() {
    require_qemu!();
    check_iris(Machine::Microbit);
}

#[test]
fn profile_m3_mps2_an385_iris_equals_the_host() {
    require_qemu!();
    check_iris(Machine::Mps2An385);
}

#[test]
fn profile_m3_mps2_an385_digits_equals_the_host() {
    require_qemu!();
    check_digits(Machine::Mps2An385, RAM_BUDGET);
}

#[test]
fn profile_m7_mps2_an500_iris_equals_the_host() {
    require_qemu!();
    check_iris(Machine::Mps2An500);
}

#[test]
fn profile_m7_mps2_an500_digits_equals_the_host() {
    require_qemu!();
    check_digits(Machine::Mps2An500, RAM_BUDGET);
}

#[test]
fn profile_m33_mps2_an505_iris_equals_the_host() {
    require_qemu!();
    check_iris(Machine::Mps2An505);
}

#[test]
fn profile_m33_mps2_an505_digits_equals_the_host() {
    require_qemu!();
    check_digits(Machine::Mps2An505, RAM_BUDGET);
}

#[test]
fn profile_m55_mps3_an547_iris_equals_the_host() {
    require_qemu!();
    check_iris(Machine::Mps3An547);
}

#[test]
fn profile_m55_mps3_an547_digits_equals_the_host() {
    require_qemu!();
    check_digits(Machine::Mps3An547, RAM_BUDGET);
}

#[test]
fn firmware_qemu_serial_log_decodes_to_the_metrics_of_train_experiment_iris() {
    require_qemu!();
    let device = iris_device();
    let dir = tempfile::tempdir().unwrap();
    let uart = dir.path().join("iris.uart");
    let raw = dir.path().join("iris.defmt");
    std::fs::write(&uart, &device.uart).unwrap();
    std::fs::write(&raw, &device.raw).unwrap();
    let (trained, from_serial, from_defmt) = (
        dir.path().join("trained"),
        dir.path().join("serial"),
        dir.path().join("defmt"),
    );
    common::tinytrain(&format!(
        "train --experiment iris --quiet --out {}",
        trained.display()
    ));
    common::tinytrain(&format!(
        "decode --serial-log {} --out {}",
        uart.display(),
        from_serial.display()
    ));
    common::tinytrain(&format!(
        "decode --elf {} {} --out {}",
        device.elf.display(),
        raw.display(),
        from_defmt.display()
    ));
    let read = |dir: &Path, name: &str| std::fs::read(dir.join(name)).unwrap();
    for name in ["metrics.jsonl", "metrics.csv"] {
        let host = read(&trained, name);
        assert_eq!(
            host.iter().filter(|&&b| b == b'\n').count(),
            IRIS.epochs as usize + usize::from(name.ends_with("csv")),
            "{name}"
        );
        assert!(
            read(&from_serial, name) == host,
            "{name}: decode --serial-log differs from train --experiment iris:\n{}\n--- vs ---\n{}",
            String::from_utf8_lossy(&read(&from_serial, name)),
            String::from_utf8_lossy(&host)
        );
        assert!(
            read(&from_defmt, name) == host,
            "{name}: decode --elf differs from train --experiment iris"
        );
    }
    // A damaged frame is dropped, not decoded.
    let mut damaged = device.uart.clone().into_bytes();
    let at = damaged.iter().position(|&b| b == b':').unwrap() + 1;
    damaged[at] ^= 0x01;
    let log = decode::read_serial_log(std::str::from_utf8(&damaged).unwrap());
    assert_eq!(log.rejected, 1);
    assert_eq!(log.records.len(), IRIS.epochs as usize - 1);
}

/// `tests/snapshots/<name>`; compared with `actual`, or overwritten with it when `TINYTRAIN_BLESS=1`.
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(name);
    if tinytrain_host::snapshot::blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with TINYTRAIN_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let mut diff = String::new();
        for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
            if e != a {
                diff.push_str(&format!("line {}:\n- {e}\n+ {a}\n", i + 1));
            }
        }
        panic!(
            "{} differs from the output ({} vs {} lines):\n{diff}\
             run with TINYTRAIN_BLESS=1 to accept the new output",
            path.display(),
            expected.lines().count(),
            actual.lines().count()
        );
    }
}

/// The figures of the `resources` line that follow the code layout (code size, stack depth,
/// instruction counts) rather than the experiment: they change whenever the firmware or the core is
/// rebuilt differently, so the snapshot holds `*` for them. Every other line is kept verbatim.
const BUILD_FIGURES: [&str; 8] = [
    "stack_peak",
    "ram_total",
    "flash_text",
    "flash_rodata",
    "train_ticks",
    "validation_ticks",
    "per_train_sample",
    "per_validation_sample",
];

fn redact_build_figures(line: &str) -> String {
    if !decode::strip_level(line).starts_with("resources ") {
        return line.to_owned();
    }
    let tokens: Vec<String> = line
        .split(' ')
        .map(|token| match token.split_once('=') {
            Some((key, _)) if BUILD_FIGURES.contains(&key) => format!("{key}=*"),
            _ => token.to_owned(),
        })
        .collect();
    tokens.join(" ")
}

#[test]
fn firmware_qemu_iris_defmt_log_matches_its_snapshot() {
    require_qemu!();
    let device = iris_device();
    let mut text = String::new();
    for line in &device.log {
        text.push_str(&redact_build_figures(line));
        text.push('\n');
    }
    snapshot("train_iris.out", &text);
}

#[test]
fn firmware_size_of_iris_matches_what_it_reports_in_qemu() {
    require_qemu!();
    let device = iris_device();
    let elf = std::fs::read(&device.elf).unwrap();
    let sizes = tinytrain_host::size::measure(&elf).unwrap();
    // The embedded iris tables: 150 rows of 4 f32 features, and 150 labels.
    assert_eq!(sizes.datasets, 150 * 16 + 150, "{sizes:?}");
    let resources = device
        .log
        .iter()
        .map(|l| decode::strip_level(l))
        .find(|l| l.starts_with("resources "))
        .expect("a resources line");
    let (pairs, _) = parse_line(resources);
    let value = |key: &str| -> u64 {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("no {key} in {resources}"))
            .1
            .parse()
            .unwrap()
    };
    assert_eq!(sizes.text, value("flash_text"), "{sizes:?}");
    assert_eq!(sizes.rodata, value("flash_rodata"), "{sizes:?}");
    assert_eq!(sizes.ram(), value("static_ram"), "{sizes:?}");
    let table = sizes.table();
    assert!(table.contains("of which datasets"), "{table}");
    common::tinytrain(&format!("size {}", device.elf.display()));
}
