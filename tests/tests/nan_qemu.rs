//! The core's divergence guard on the device: `train_iris_nan` (firmware) trains iris with a NaN in
//! one training row's features, in QEMU. The guard must skip that sample every epoch, report the
//! count (a `WARN divergence …` defmt line and `skipped_samples` in the summary frame), keep the run
//! finite, and compute exactly what the host computes with the same fault.
//!
//! Without `qemu-system-arm` the test is skipped, unless `CI` is set (then it fails).

#[macro_use]
mod common;

use serde_json::Value;
use tinytrain_experiments::{frame, iris, NanInput, RecordBits, IRIS};
use tinytrain_host::decode;

/// The row `firmware/src/bin/train_iris_nan.rs` poisons.
const NAN_ROW: u32 = 0;

#[test]
fn firmware_qemu_nan_input_is_skipped_and_counted_like_on_the_host() {
    require_qemu!();
    let device = common::run_program("train_iris_nan");

    let mut ws = Box::new(iris::workspace());
    let (summary, seen) = ws.record(&IRIS, NanInput { row: NAN_ROW }).unwrap();
    let records = seen.records;
    assert_eq!(summary.skipped_samples, IRIS.epochs, "host");
    assert!(ws.params().iter().all(|p| p.is_finite()));

    // Serial frames: every epoch bit-identical to the host's, finite; the summary has the count.
    let lines: Vec<&str> = device.uart.lines().collect();
    assert_eq!(lines.len(), records.len() + 1, "{}", device.uart);
    for (line, host) in lines.iter().zip(&records) {
        let json = frame::open(line).unwrap();
        let value: Value = serde_json::from_str(json).unwrap();
        let bits: RecordBits = serde_json::from_value(value["bits"].clone()).unwrap();
        let device_record = bits.record(host.epoch);
        assert_eq!(RecordBits::of(&device_record), RecordBits::of(host));
        assert!(device_record.train_loss.is_finite());
        assert!(device_record.val_loss.is_some_and(f32::is_finite));
    }
    let summary_frame: Value =
        serde_json::from_str(frame::open(lines[records.len()]).unwrap()).unwrap();
    assert_eq!(
        summary_frame["summary"]["skipped_samples"], IRIS.epochs,
        "{summary_frame}"
    );
    assert!(summary_frame["summary"].get("skipped_steps").is_none());

    // defmt: the warning line with the counts.
    let warning = device
        .log
        .iter()
        .find(|l| l.starts_with("WARN"))
        .unwrap_or_else(|| panic!("no WARN line: {:#?}", device.log));
    assert_eq!(
        decode::strip_level(warning),
        format!("divergence skipped_samples={} skipped_steps=0", IRIS.epochs)
    );
}
