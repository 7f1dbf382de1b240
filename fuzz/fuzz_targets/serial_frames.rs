//! The serial frame parser (`tinytrain_experiments::frame::open`) and the host's serial-log decoding
//! (`tinytrain_host::decode::read_serial_log`, and the defmt `epoch` line parser) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain_experiments::{frame, wire, RecordBits};
use tinytrain_host::decode;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let Ok(json) = frame::open(line) {
            // What `open` accepts is the line's head, and its CRC matches.
            assert!(line.starts_with(json));
            let trailer = frame::trailer(json.as_bytes());
            let sent = &line[json.len()..];
            assert!(sent.len() >= 9);
            assert!(sent[1..9].eq_ignore_ascii_case(std::str::from_utf8(&trailer[1..9]).unwrap()));
        }
        // Also as a defmt line.
        if let Some(record) = decode::parse_epoch_line(decode::strip_level(line)) {
            let _ = RecordBits::of(&record);
        }
    }
    let log = decode::read_serial_log(&text);
    let bytes_log = decode::read_serial_log_bytes(data);
    assert_eq!(log.records.len(), bytes_log.records.len());
    assert_eq!(log.rejected, bytes_log.rejected);
    // Every line that carries something (not blank, not a defmt location line) is counted once.
    let carrying = text.lines().filter(|l| wire::classify(l).is_some()).count();
    assert_eq!(
        log.records.len() + log.other_frames + log.rejected,
        carrying
    );
    // A record is exactly a line classified as an epoch (a CRC-checked frame, a metrics.jsonl line
    // or a defmt epoch line with its bits) that comes after the epochs before it; other good lines
    // are never more than the lines.
    let mut sequence = wire::Sequence::default();
    let epochs = text
        .lines()
        .filter_map(|l| match wire::classify(l) {
            Some(wire::Line::Epoch(record)) => Some(record.epoch),
            _ => None,
        })
        .filter(|&epoch| sequence.admit(epoch).is_ok())
        .count();
    assert_eq!(log.records.len(), epochs);
    assert!(log.records.len() + log.other_frames <= carrying);
});
