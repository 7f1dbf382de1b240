//! Fault injection: the firmware's output, damaged as a serial line or a debug probe might damage it,
//! and what the host's decoders make of it. Nothing wrong may get through, and every damaged serial
//! line must be counted.
//!
//! The input is the real device output: the iris and digits programs run in QEMU (the helpers of
//! `firmware_qemu.rs`, in `common/`), so the test is skipped without `qemu-system-arm` (outside CI).
//!
//! **Serial frames.** [`corrupt_serial`] damages the UART text with a seeded generator:
//!
//! * bit flips: each byte (the `\n` included) has one random bit flipped with probability
//!   [`FLIP_RATE`];
//! * dropped bytes: each byte (the `\n` included) is lost with probability [`DROP_RATE`];
//! * truncated lines: with probability [`TRUNCATE_RATE`] a frame loses everything after a random
//!   point up to (not including) its `\n`;
//! * garbage lines: with probability [`GARBAGE_RATE`] a line of random bytes (any value but `\n`),
//!   or a forged `{...}*xxxxxxxx` frame with a wrong CRC, is inserted before a frame;
//! * a disconnect: with probability [`CUT_RATE`] the stream ends at a random byte of its last frames.
//!
//! It counts the damaged lines **as the decoder sees them**: the output is split into lines at `\n`
//! (as `read_serial_log` does, after replacing bytes that are not UTF-8 by U+FFFD); a line that is
//! blank (whitespace only) is skipped by the decoder and not counted; every other line that is not
//! one of the original frame lines verbatim counts once. So a frame with flipped, dropped or cut-off
//! bytes is one damaged line; a garbage line is one; two frames merged into one line by a damaged or
//! dropped `\n` are one; a frame split in two by a flip that makes a `\n` (`*` ^ 0x20) is two; the
//! partial frame before a disconnect is one, and frames after it are lost, not counted. One exception
//! to "verbatim": `frame::open` reads the CRC's hex digits in either case, so a frame whose only damage
//! is a flip of bit 5 in a CRC letter (`a`–`f` ↔ `A`–`F`) is intact and counted as a good frame.
//!
//! The test asserts, for every seed: the decoder's rejected count equals that damaged count; every
//! record it accepts is the original record of its epoch, bit for bit; and it accepts exactly the
//! intact frames.
//!
//! **defmt stream.** [`corrupt_defmt`] flips random bytes (and drops some) of the raw rzcobs-framed
//! defmt stream. The decoder must get through it (rzcobs resynchronises at the next frame), and every
//! `epoch` line it yields must either parse to the original record of its epoch, bit for bit, or be
//! refused by `parse_epoch_line`: no wrong value may come out (each float's text is checked against its
//! `bits=` word, and `n/total` against `1 <= n <= total`). A damaged `total` alone leaves the record
//! right and is accepted. defmt frames carry no checksum, so a damaged epoch number that stays in
//! range would go undetected (these seeds hit none), and so would a damaged format index that selects
//! the regression `epoch` form for a classification line (same arguments, other names; counted).

#[macro_use]
mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use tinytrain::record::EpochRecord;
use tinytrain_experiments::{frame, RecordBits};
use tinytrain_host::decode;

use common::{host_run, run_in_qemu, Device, Machine};

/// Per byte: probability of a flipped bit.
const FLIP_RATE: f64 = 1.0 / 400.0;
/// Per byte: probability that it is lost.
const DROP_RATE: f64 = 1.0 / 2000.0;
/// Per frame: probability that its end is cut off.
const TRUNCATE_RATE: f64 = 1.0 / 25.0;
/// Per frame: probability of a garbage line before it.
const GARBAGE_RATE: f64 = 1.0 / 12.0;
/// Per stream: probability of a disconnect within its last three frames.
const CUT_RATE: f64 = 0.5;
/// Seeds per program.
const SEEDS: u64 = 300;

/// SplitMix64: small, seeded, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What [`corrupt_serial`] did.
#[derive(Debug, Default)]
struct SerialDamage {
    /// Non-blank lines of the output that are not an original frame (see the module docs).
    damaged_lines: usize,
    /// Output lines that are an original epoch frame (so the decoder must accept them).
    intact_epochs: usize,
    /// Output lines that are the original summary frame.
    intact_summaries: usize,
    /// Of the intact lines, those whose CRC digits changed case.
    case_flipped: usize,
    garbage: usize,
    truncated: usize,
    cut: bool,
}

/// `line` is `original` with at most its CRC's hex letters in another case.
fn same_frame(line: &str, original: &str) -> bool {
    let n = original.len();
    line.len() == n
        && n > 8
        && line.as_bytes()[..n - 8] == original.as_bytes()[..n - 8]
        && line[n - 8..].eq_ignore_ascii_case(&original[n - 8..])
}

fn corrupt_serial(uart: &str, seed: u64) -> (Vec<u8>, SerialDamage) {
    let mut rng = Rng(seed);
    let mut damage = SerialDamage::default();
    let frames: Vec<&str> = uart.split_inclusive('\n').collect();
    let mut out = Vec::new();
    for frame in &frames {
        if rng.chance(GARBAGE_RATE) {
            damage.garbage += 1;
            if rng.chance(0.5) {
                // A forged frame: looks right, wrong CRC (a 2^-32 chance of being right is ignored;
                // the seeds are fixed, so the test is deterministic).
                out.extend_from_slice(format!("{{\"epoch\":{}}}*", rng.below(30)).as_bytes());
                out.extend_from_slice(format!("{:08x}\n", rng.next() as u32).as_bytes());
            } else {
                for _ in 0..1 + rng.below(80) {
                    let b = loop {
                        let b = rng.next() as u8;
                        if b != b'\n' {
                            break b;
                        }
                    };
                    out.push(b);
                }
                out.push(b'\n');
            }
        }
        let mut bytes = frame.as_bytes().to_vec();
        if rng.chance(TRUNCATE_RATE) {
            damage.truncated += 1;
            let body = bytes.len() - 1;
            let keep = rng.below(body);
            bytes.drain(keep..body);
        }
        for b in bytes {
            if rng.chance(DROP_RATE) {
                continue;
            }
            let b = if rng.chance(FLIP_RATE) {
                b ^ (1 << rng.below(8))
            } else {
                b
            };
            out.push(b);
        }
    }
    if rng.chance(CUT_RATE) {
        damage.cut = true;
        let tail: usize = frames.iter().rev().take(3).map(|f| f.len()).sum();
        let at = out.len() - rng.below(tail.min(out.len()));
        out.truncate(at);
    }

    // The count, as the decoder sees the lines.
    let originals: Vec<&str> = frames.iter().map(|f| f.trim_end_matches('\n')).collect();
    let text = String::from_utf8_lossy(&out);
    let mut seen = vec![false; originals.len()];
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        match originals.iter().position(|o| same_frame(line, o)) {
            Some(i) => {
                seen[i] = true;
                if line.contains("\"summary\"") {
                    damage.intact_summaries += 1;
                } else {
                    damage.intact_epochs += 1;
                }
                damage.case_flipped += usize::from(line != originals[i]);
            }
            None => damage.damaged_lines += 1,
        }
    }
    (out, damage)
}

/// The original epoch records: the host's run of the same experiment (not a decoder's reading of the
/// device's output, which would make the decoder its own reference). The device's intact frames
/// must decode to exactly these first.
fn original_records(name: &str, uart: &str) -> HashMap<u32, EpochRecord> {
    let experiment = match name {
        "digits" => &tinytrain_experiments::digits::EXPERIMENT,
        _ => &tinytrain_experiments::iris::EXPERIMENT,
    };
    let (records, _) = host_run(experiment);
    let log = decode::read_serial_log(uart);
    assert_eq!(log.rejected, 0);
    let bits = |r: &[EpochRecord]| {
        r.iter()
            .map(|r| (r.epoch, RecordBits::of(r)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        bits(&log.records),
        bits(&records),
        "{name}: the intact frames are the host's epochs"
    );
    records.iter().map(|r| (r.epoch, *r)).collect()
}

fn iris() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| run_in_qemu("train_iris", Machine::Mps2An386))
}

fn digits() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| run_in_qemu("train", Machine::Mps2An386))
}

fn check_corrupted_serial(name: &str, device: &Device) {
    let originals = original_records(name, &device.uart);
    let frames = device.uart.lines().count();
    let (mut damaged, mut accepted, mut garbage, mut truncated, mut cuts, mut flipped) =
        (0, 0, 0, 0, 0, 0);
    for seed in 0..SEEDS {
        let (bytes, damage) = corrupt_serial(&device.uart, seed);
        let log = decode::read_serial_log_bytes(&bytes);
        for record in &log.records {
            let original = originals
                .get(&record.epoch)
                .unwrap_or_else(|| panic!("{name} seed {seed}: accepted epoch {}", record.epoch));
            assert_eq!(
                RecordBits::of(record),
                RecordBits::of(original),
                "{name} seed {seed}: a wrong record accepted for epoch {}",
                record.epoch
            );
            assert_eq!(record, original);
        }
        assert_eq!(
            log.rejected, damage.damaged_lines,
            "{name} seed {seed}: rejected lines vs damaged lines ({damage:?})"
        );
        assert_eq!(
            log.records.len(),
            damage.intact_epochs,
            "{name} seed {seed}: {damage:?}"
        );
        assert_eq!(log.other_frames, damage.intact_summaries);
        assert!(log.records.len() + log.other_frames <= frames);
        damaged += damage.damaged_lines;
        accepted += log.records.len();
        garbage += damage.garbage;
        truncated += damage.truncated;
        cuts += usize::from(damage.cut);
        flipped += damage.case_flipped;
    }
    eprintln!(
        "{name}: {SEEDS} corrupted copies of {frames} frames: {accepted} epoch frames accepted, \
         {damaged} damaged lines rejected ({garbage} garbage lines inserted, {truncated} frames \
         truncated, {cuts} disconnects, {flipped} frames with only a CRC letter's case flipped)"
    );
    // Every kind of damage happened, and most frames still got through.
    assert!(garbage > 0 && truncated > 0 && cuts > 0 && damaged > 0);
    assert!(accepted > (SEEDS as usize * (frames - 1)) / 5, "{accepted}");
}

#[test]
fn fault_injection_corrupter_counts_merged_split_and_garbage_lines() {
    // Two frames, by hand: the corrupter's bookkeeping on the cases the module docs name.
    let a = r#"{"summary":{"epochs":1}}"#;
    let b = r#"{"summary":{"epochs":2}}"#;
    let line = |json: &str| {
        let t = frame::trailer(json.as_bytes());
        format!("{json}{}", std::str::from_utf8(&t).unwrap())
    };
    let (la, lb) = (line(a), line(b));
    let merged = format!("{}{}", la.trim_end(), lb);
    let log = decode::read_serial_log(&merged);
    assert_eq!((log.other_frames, log.rejected), (0, 1), "merged: one line");
    let split = la.replacen('*', "\n", 1);
    let log = decode::read_serial_log(&format!("{split}{lb}"));
    assert_eq!((log.other_frames, log.rejected), (1, 2), "split: two lines");
    let log = decode::read_serial_log_bytes(b"\xff\xfe garbage\n \t\n");
    assert_eq!(log.rejected, 1, "garbage: one line; blank: none");
    // The CRC's letters in capitals: the same frame, accepted.
    let body = la.trim_end();
    let shouted = format!(
        "{}{}",
        &body[..body.len() - 8],
        body[body.len() - 8..].to_uppercase()
    );
    assert!(same_frame(&shouted, body));
    assert_eq!(decode::read_serial_log(&shouted).other_frames, 1);
}

/// Flips (XOR with a random non-zero byte) each byte with probability `rate`, and drops each with
/// probability `rate / 4`.
fn corrupt_defmt(raw: &[u8], seed: u64, rate: f64) -> (Vec<u8>, usize) {
    let mut rng = Rng(seed ^ 0xDEF0);
    let mut changed = 0;
    let mut out = Vec::with_capacity(raw.len());
    for &b in raw {
        if rng.chance(rate / 4.0) {
            changed += 1;
            continue;
        }
        if rng.chance(rate) {
            changed += 1;
            out.push(b ^ (1 + rng.below(255)) as u8);
        } else {
            out.push(b);
        }
    }
    (out, changed)
}

fn check_corrupted_defmt(name: &str, device: &Device) {
    let elf = std::fs::read(&device.elf).unwrap();
    let originals = original_records(name, &device.uart);
    let epochs: Vec<&str> = device
        .log
        .iter()
        .map(|l| decode::strip_level(l))
        .filter(|l| l.starts_with("epoch "))
        .collect();
    // The intact stream: every epoch line, each the host's record bit for bit.
    assert_eq!(
        epochs.len(),
        originals.len(),
        "{name}: epoch lines in the intact log"
    );
    for line in &epochs {
        let record = decode::parse_epoch_line(line).unwrap_or_else(|| panic!("{name}: {line}"));
        let original = &originals[&record.epoch];
        assert_eq!(
            RecordBits::of(&record),
            RecordBits::of(original),
            "{name}: {line}"
        );
    }
    let (mut kept, mut lost, mut wrong_text, mut renamed, mut changed) = (0, 0, 0, 0, 0);
    for seed in 0..SEEDS {
        let (bytes, damage) = corrupt_defmt(&device.raw, seed, 1.0 / 500.0);
        let lines = decode::decode_defmt(&elf, &bytes)
            .unwrap_or_else(|e| panic!("{name} seed {seed}: rzcobs must recover: {e:#}"));
        let mut good = 0;
        for line in lines.iter().map(|l| decode::strip_level(l)) {
            let Some(record) = decode::parse_epoch_line(line) else {
                wrong_text += usize::from(line.starts_with("epoch "));
                continue;
            };
            let original = originals
                .get(&record.epoch)
                .unwrap_or_else(|| panic!("{name} seed {seed}: no such epoch: {line}"));
            let bits = |l: &str| l.split_whitespace().last().map(str::to_owned);
            if record.train_acc.is_some() != original.train_acc.is_some() {
                // A damaged defmt format index that picked the other `epoch` form (same argument
                // layout, the regression field names): the values are the device's, the names not.
                // Known and undetectable per line; counted, and the values still checked.
                renamed += 1;
                assert_eq!(
                    bits(line),
                    bits(epochs[record.epoch as usize - 1]),
                    "{line}"
                );
            } else {
                assert_eq!(
                    (record.epoch, RecordBits::of(&record)),
                    (original.epoch, RecordBits::of(original)),
                    "{name} seed {seed}: a wrong record was decoded from {line}"
                );
            }
            good += 1;
        }
        // No epoch twice, and a damaged byte costs at most two frames (a flipped or dropped
        // delimiter merges two; any other damage spoils one).
        assert!(
            good <= epochs.len(),
            "{name} seed {seed}: {good} epochs decoded"
        );
        let lost_here = epochs.len() - good;
        assert!(
            lost_here <= 2 * damage,
            "{name} seed {seed}: {lost_here} epochs lost to {damage} damaged bytes"
        );
        kept += good;
        lost += lost_here;
        changed += damage;
    }
    eprintln!(
        "{name}: {SEEDS} corrupted defmt streams ({changed} bytes damaged): {kept} epoch lines \
         intact, {lost} lost ({wrong_text} of them decoded with damaged text and refused), \
         {renamed} with the other epoch form's field names"
    );
    // The damage happened, and most epochs still got through.
    assert!(changed >= SEEDS as usize, "{name}: {changed} bytes damaged");
    assert!(2 * kept > kept + lost, "{name}: {kept} kept, {lost} lost");
}

/// One test per program and check, each skipped without QEMU: `name => check(program, device)`.
macro_rules! device_tests {
    ($($test:ident => $check:ident($program:literal, $device:ident);)*) => {$(
        #[test]
        fn $test() {
            require_qemu!();
            $check($program, $device());
        }
    )*};
}

device_tests! {
    fault_injection_corrupted_iris_serial_log_rejects_exactly_the_damaged_lines =>
        check_corrupted_serial("iris", iris);
    fault_injection_corrupted_digits_serial_log_rejects_exactly_the_damaged_lines =>
        check_corrupted_serial("digits", digits);
    fault_injection_corrupted_iris_defmt_stream_yields_no_wrong_epoch =>
        check_corrupted_defmt("iris", iris);
    fault_injection_corrupted_digits_defmt_stream_yields_no_wrong_epoch =>
        check_corrupted_defmt("digits", digits);
}
