//! `probe-rs run`'s output replays: the iris program's real defmt stream (QEMU), formatted by
//! defmt-decoder's own formatter in its default log format (each message followed by its
//! `└─ module @ file:line` line, as `probe-rs run` prints it), with and without a timestamp before the
//! level, goes through `tinytrain monitor` and `tinytrain decode --log`: every epoch recorded, bit for
//! bit as the host's, nothing corrupted, and both count the same.
//!
//! With `TINYTRAIN_BLESS=1` the default-format log is also written to
//! `host/tests/fixtures/probe-rs-default.log` (the capture `host/tests/probe_rs_log.rs` replays).
//!
//! Without `qemu-system-arm` the test is skipped, unless `CI` is set (then it fails).

#[macro_use]
mod common;

use std::path::Path;

use common::{host_run, run_in_qemu, Machine};
use defmt_decoder::log::format::{Formatter, FormatterConfig};
use defmt_decoder::{DecodeError, Table};
use tinytrain_experiments::{RecordBits, IRIS};
use tinytrain_host::decode;
use tinytrain_host::monitor::{self, Input};

/// The defmt stream `raw` of `elf` as `probe-rs run` prints it (default format, with locations).
fn probe_rs_default_format(elf: &[u8], raw: &[u8]) -> String {
    let table = Table::parse(elf).unwrap().unwrap();
    let locations = table.get_locations(elf).unwrap();
    let formatter = Formatter::new(FormatterConfig::default().with_location());
    let mut decoder = table.new_stream_decoder();
    decoder.received(raw);
    let mut text = String::new();
    loop {
        match decoder.decode() {
            Ok(frame) => {
                let location = locations.get(&frame.index());
                let file = location.map(|l| l.file.display().to_string());
                let line = location.map(|l| l.line as u32);
                let module = location.map(|l| l.module.as_str());
                text.push_str(&formatter.format_frame(frame, file.as_deref(), line, module));
                text.push('\n');
            }
            Err(DecodeError::UnexpectedEof) => return text,
            Err(DecodeError::Malformed) => panic!("malformed defmt data"),
        }
    }
}

/// Replays `log` through the monitor (into `out`) and returns its counts, as it prints them.
fn monitor_tally(log: &Path, out: &Path) -> String {
    common::tinytrain(&format!(
        "monitor {} --plain --no-plot --out {}",
        log.display(),
        out.display()
    ));
    // The monitor's replay classifies each line with `monitor::classify`: its tally, counted alike.
    let text = std::fs::read_to_string(log).unwrap();
    let mut state = monitor::State::new(
        "replay".into(),
        tinytrain_host::run_dir::RunDir::create(&out.join("again"), false, &[]).unwrap(),
        None,
    );
    for input in text.lines().filter_map(monitor::classify) {
        state.apply(input).unwrap();
    }
    state.apply(Input::End(Ok(()))).unwrap();
    state.tally().to_string()
}

#[test]
fn firmware_qemu_probe_rs_default_format_replays_through_monitor_and_decode() {
    require_qemu!();
    let device = run_in_qemu("train_iris", Machine::Mps2An386);
    let elf = std::fs::read(&device.elf).unwrap();
    let default = probe_rs_default_format(&elf, &device.raw);
    assert!(default.contains("\n└─ "), "{default}");
    // A firmware with `defmt::timestamp!` gets `{t} {L} {s}`: the same lines after a timestamp.
    let timestamped: String = default
        .lines()
        .enumerate()
        .map(|(i, line)| match line.starts_with("└─") {
            true => format!("{line}\n"),
            false => format!("{}.{:06} {line}\n", i / 1000, i),
        })
        .collect();
    if tinytrain_host::snapshot::blessing() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../host/tests/fixtures/probe-rs-default.log");
        // Locations relative to the checkout: the fixture names no machine's directories.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let root = format!("{}/", root.canonicalize().unwrap().display());
        std::fs::write(fixture, default.replace(&root, "")).unwrap();
    }
    let (records, _) = host_run(&IRIS);
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("default", &default), ("timestamped", &timestamped)] {
        let log = dir.path().join(format!("{name}.log"));
        std::fs::write(&log, text).unwrap();
        let out = dir.path().join(name);
        let tally = monitor_tally(&log, &out);
        let decoded = decode::read_serial_log(text);
        assert_eq!(decoded.tally.to_string(), tally, "{name}");
        assert_eq!(decoded.rejected, 0, "{name}: {text}");
        assert_eq!(decoded.records.len(), records.len(), "{name}");
        for (device, host) in decoded.records.iter().zip(&records) {
            assert_eq!(RecordBits::of(device), RecordBits::of(host), "{name}");
        }
        assert!(
            tally.starts_with(&format!("{} epochs,", records.len()))
                && tally.ends_with(" 0 corrupted lines"),
            "{name}: {tally}"
        );
        let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
        assert_eq!(saved.lines().count(), records.len(), "{name}");
    }
}
