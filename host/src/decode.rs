//! `tinytrain decode`: read what a device sent and turn it back into epoch records.
//!
//! Two inputs, the two channels of the firmware (see `firmware/README.md`, "Output formats"):
//!
//! * `--elf FIRMWARE.elf [FILE|-]` — a raw defmt byte stream (QEMU's semihosting stdout, or a capture
//!   of RTT), decoded with the `defmt-decoder` crate and the ELF's defmt table. Every log line is
//!   printed (`INFO  epoch 1/20 ...`); the `epoch` lines are parsed into [`EpochRecord`]s, their
//!   floats taken from the `bits=` words, so the values are exact.
//! * `--serial-log FILE` — the serial port's frames (`JSON*crc32`, one per line). A line whose CRC does
//!   not match, or that is not a frame, is rejected and counted (the count goes to stderr).
//!
//! Diagnosis events (the defmt `event …` lines and `{"event":{…}}` frames, see
//! [`parse_event_line`]) are good non-epoch lines/frames, and so is early stopping's outcome.
//!
//! With `--out DIR` the epoch records go to `DIR/metrics.jsonl` and `DIR/metrics.csv`, exactly as
//! `tinytrain train` writes them, and the events to `DIR/events.jsonl` (as `train --experiment`
//! writes them).
//! A serial log that holds weights frames (firmware feature `dump-weights`, see
//! [`crate::device_weights`]) also gives `DIR/weights.json`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use defmt_decoder::{DecodeError, Table};
use tinytrain::diagnose::Event;
use tinytrain::record::EpochRecord;
use tinytrain_experiments::{frame, RecordBits};

use crate::pipeline::Noticed;
use crate::run_dir::RunDir;

/// The options of `tinytrain decode`.
#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["elf", "serial_log"])))]
pub struct DecodeArgs {
    /// The firmware's ELF file (its defmt table decodes the byte stream)
    #[arg(long, value_name = "FIRMWARE.elf")]
    pub elf: Option<PathBuf>,
    /// Raw defmt bytes to decode ("-" or absent: stdin)
    #[arg(value_name = "FILE|-", requires = "elf")]
    pub input: Option<PathBuf>,
    /// A serial log of JSON+CRC frames, one per line, instead of a defmt stream
    #[arg(long, value_name = "FILE", conflicts_with = "elf")]
    pub serial_log: Option<PathBuf>,
    /// Write the epoch records to DIR/metrics.jsonl and DIR/metrics.csv
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `tinytrain decode`.
pub fn execute(args: &DecodeArgs) -> anyhow::Result<()> {
    let mut events = Vec::new();
    let records = if let Some(log) = &args.serial_log {
        // Bytes, not a `String`: line noise is not UTF-8, and must cost only the line it hits.
        let bytes = std::fs::read(log).with_context(|| format!("cannot read {}", log.display()))?;
        let decoded = read_serial_log_bytes(&bytes);
        let mut stdout = std::io::stdout().lock();
        for record in &decoded.records {
            let json = serde_json::to_string(record).context("cannot serialise a record")?;
            writeln!(stdout, "{json}").context("cannot write to stdout")?;
        }
        eprintln!(
            "{} epoch frames, {} other frames, {} rejected lines (bad CRC or not a frame)",
            decoded.records.len(),
            decoded.other_frames,
            decoded.rejected
        );
        events = decoded.events;
        decoded.records
    } else {
        let elf_path = args
            .elf
            .as_ref()
            .context("--elf or --serial-log is needed")?;
        let elf = std::fs::read(elf_path)
            .with_context(|| format!("cannot read {}", elf_path.display()))?;
        let input: Box<dyn Read> = match &args.input {
            Some(path) if path != Path::new("-") => Box::new(
                std::fs::File::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            ),
            _ => Box::new(std::io::stdin().lock()),
        };
        let mut stdout = std::io::stdout().lock();
        let mut records = Vec::new();
        decode_defmt_stream(&elf, input, |line| {
            if let Some(record) = parse_epoch_line(strip_level(line)) {
                records.push(record);
            } else if let Some(noticed) = parse_event_line(strip_level(line)) {
                events.push(noticed);
            }
            writeln!(stdout, "{line}")
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")
        })?;
        records
    };
    if let Some(out) = &args.out {
        let mut run = RunDir::create(out)?;
        for record in &records {
            run.append(record)?;
        }
        for noticed in &events {
            run.append_event(&noticed.to_json())?;
        }
        // Weights frames (firmware feature `dump-weights`) become DIR/weights.json.
        if let Some(log) = &args.serial_log {
            let bytes =
                std::fs::read(log).with_context(|| format!("cannot read {}", log.display()))?;
            if let Some(weights) =
                crate::device_weights::from_serial_log(&String::from_utf8_lossy(&bytes))
            {
                run.write_weights(crate::run_dir::WEIGHTS, &weights?)?;
            }
        }
    }
    Ok(())
}

/// Decodes a defmt byte stream with `elf`'s defmt table, calling `line` with each log line as
/// `LEVEL message` (the level padded to 5 characters, as `defmt-print` does), or the bare message for
/// a `println!`. Reads `input` in chunks, so lines come out as the bytes arrive.
pub fn decode_defmt_stream(
    elf: &[u8],
    mut input: impl Read,
    mut line: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let table = Table::parse(elf)
        .context("cannot parse the ELF's defmt table")?
        .context("the ELF has no defmt table (was it linked with -Tdefmt.x?)")?;
    let can_recover = table.encoding().can_recover();
    let mut decoder = table.new_stream_decoder();
    let mut buffer = [0u8; 4096];
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("cannot read the defmt stream"),
        };
        decoder.received(&buffer[..n]);
        loop {
            match decoder.decode() {
                Ok(frame) => {
                    let text = match frame.level() {
                        Some(level) => format!(
                            "{:<5} {}",
                            level.as_str().to_uppercase(),
                            frame.display_message()
                        ),
                        None => frame.display_message().to_string(),
                    };
                    line(&text)?;
                }
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) if can_recover => {
                    eprintln!("warning: malformed defmt frame skipped");
                }
                Err(DecodeError::Malformed) => {
                    bail!("malformed defmt data (this encoding cannot recover from it)")
                }
            }
        }
    }
}

/// Decodes a whole defmt byte stream into its lines (see [`decode_defmt_stream`]).
pub fn decode_defmt(elf: &[u8], bytes: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    decode_defmt_stream(elf, bytes, |line| {
        lines.push(line.to_owned());
        Ok(())
    })?;
    Ok(lines)
}

/// A line without its `LEVEL ` prefix (`INFO  epoch ...` → `epoch ...`).
pub fn strip_level(line: &str) -> &str {
    for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] {
        if let Some(rest) = line.strip_prefix(level) {
            if rest.starts_with(' ') {
                return rest.trim_start_matches(' ');
            }
        }
    }
    line
}

/// Parses a defmt `epoch` line (without its level prefix):
/// `epoch <n>/<epochs> name=<f32> ... bits=<words>`. The floats come from the `bits=` words, one per
/// float field named before it, in order; `0xffffffff` marks an absent field. `None` if the line is
/// not a well-formed epoch line.
///
/// ```
/// let line = "epoch 1/20 train_loss=1 train_acc=0.5 val_loss=NaN val_acc=0.25 val_f1=0.2 lr=0.01 \
///             bits=0x3f800000,0x3f000000,0xffffffff,0x3e800000,0x3e4ccccd,0x3c23d70a";
/// let r = tinytrain_host::decode::parse_epoch_line(line).unwrap();
/// assert_eq!((r.epoch, r.train_loss, r.train_acc, r.val_loss), (1, 1.0, Some(0.5), None));
/// assert_eq!(r.lr.to_bits(), 0x3c23d70a);
/// ```
pub fn parse_epoch_line(line: &str) -> Option<EpochRecord> {
    let mut tokens = line.split_whitespace();
    if tokens.next()? != "epoch" {
        return None;
    }
    let (epoch, epochs) = tokens.next()?.split_once('/')?;
    let epoch: u32 = epoch.parse().ok()?;
    // `n/total` with n outside 1..=total cannot be sent: a damaged counter.
    if epoch == 0 || epoch > epochs.parse::<u32>().ok()? {
        return None;
    }
    let mut names = Vec::new();
    let mut texts = Vec::new();
    let mut words = None;
    for token in tokens {
        let (key, value) = token.split_once('=')?;
        if words.is_some() {
            return None; // nothing follows the bits
        }
        if key == "bits" {
            words = Some(
                value
                    .split(',')
                    .map(|w| u32::from_str_radix(w.strip_prefix("0x")?, 16).ok())
                    .collect::<Option<Vec<u32>>>()?,
            );
        } else {
            names.push(key);
            texts.push(value);
        }
    }
    let words = words?;
    if words.len() != names.len() {
        return None;
    }
    // Each float is sent twice, as text and as bits: a line where they disagree was damaged on the
    // way (defmt frames carry no checksum), and is refused rather than decoded to a wrong value.
    if !texts
        .iter()
        .zip(&words)
        .all(|(&text, &bits)| text_matches_bits(text, bits))
    {
        return None;
    }
    let mut record = EpochRecord {
        epoch,
        ..Default::default()
    };
    let (mut has_loss, mut has_lr) = (false, false);
    for (name, bits) in names.into_iter().zip(words) {
        let value = (bits != u32::MAX).then(|| f32::from_bits(bits));
        match name {
            "train_loss" => {
                record.train_loss = value?;
                has_loss = true;
            }
            "lr" => {
                record.lr = value?;
                has_lr = true;
            }
            "train_acc" => record.train_acc = value,
            "val_loss" => record.val_loss = value,
            "val_acc" => record.val_acc = value,
            "val_f1" => record.val_f1 = value,
            "train_mae" => record.train_mae = value,
            "val_mae" => record.val_mae = value,
            "val_rmse" => record.val_rmse = value,
            _ => return None,
        }
    }
    (has_loss && has_lr).then_some(record)
}

/// Parses a defmt `event` line (without its level prefix):
/// `event kind=<name> epoch=<onset> detected=<epoch>`, plus `non_finite=<bool>` for a divergence.
/// `None` if the line is not a well-formed event line.
///
/// ```
/// let n = tinytrain_host::decode::parse_event_line("event kind=overfitting epoch=23 detected=26").unwrap();
/// assert_eq!((n.detected, n.event.name(), n.event.epoch()), (26, "overfitting", 23));
/// ```
pub fn parse_event_line(line: &str) -> Option<Noticed> {
    let mut tokens = line.split_whitespace();
    if tokens.next()? != "event" {
        return None;
    }
    let (mut kind, mut epoch, mut detected, mut non_finite) = (None, None, None, None);
    for token in tokens {
        match token.split_once('=')? {
            ("kind", v) => kind = Some(v),
            ("epoch", v) => epoch = Some(v.parse().ok()?),
            ("detected", v) => detected = Some(v.parse().ok()?),
            ("non_finite", v) => non_finite = Some(v.parse().ok()?),
            _ => return None,
        }
    }
    Some(Noticed {
        detected: detected?,
        event: event_of(kind?, epoch?, non_finite)?,
    })
}

/// The [`Event`] called `kind` ([`Event::name`]) starting at `epoch`; `non_finite` is needed for a
/// divergence (and refused for anything else).
pub fn event_of(kind: &str, epoch: u32, non_finite: Option<bool>) -> Option<Event> {
    let event = match (kind, non_finite) {
        ("overfitting", None) => Event::Overfitting { epoch },
        ("underfitting", None) => Event::Underfitting { epoch },
        ("plateau", None) => Event::Plateau { epoch },
        ("confident_mistakes", None) => Event::ConfidentMistakes { epoch },
        ("divergence", Some(non_finite)) => Event::Divergence { epoch, non_finite },
        _ => return None,
    };
    Some(event)
}

/// An event frame's JSON value (`{"event":{"kind":…,"epoch":…,"detected":…}}`), as a [`Noticed`].
pub fn event_of_frame(value: &serde_json::Value) -> Option<Noticed> {
    let fields = value.get("event")?;
    let number = |name: &str| u32::try_from(fields.get(name)?.as_u64()?).ok();
    let non_finite = match fields.get("non_finite") {
        Some(v) => Some(v.as_bool()?),
        None => None,
    };
    Some(Noticed {
        detected: number("detected")?,
        event: event_of(fields.get("kind")?.as_str()?, number("epoch")?, non_finite)?,
    })
}

/// `text` (defmt's `{=f32}`: the shortest decimal that reads back as the same `f32`, or `NaN`) denotes
/// the float whose bit pattern is `bits` (`0xffffffff`: absent, printed as `NaN`).
fn text_matches_bits(text: &str, bits: u32) -> bool {
    match text.parse::<f32>() {
        Ok(value) if value.is_nan() => f32::from_bits(bits).is_nan(),
        Ok(value) => value.to_bits() == bits,
        Err(_) => false,
    }
}

/// What a serial log held.
#[derive(Debug, Default, Clone)]
pub struct SerialLog {
    /// The epoch frames, in order, their floats exact (from the frames' `bits`).
    pub records: Vec<EpochRecord>,
    /// The event frames, in order.
    pub events: Vec<Noticed>,
    /// Good frames that are not epochs (events, early stopping, the summary, weights).
    pub other_frames: usize,
    /// Non-empty lines that were rejected: no `*crc` trailer, a CRC mismatch, or JSON that is not
    /// an epoch, event, early-stopping, summary or weights frame.
    pub rejected: usize,
}

/// Parses a serial log: one `JSON*crc32` frame per line (see [`frame::open`]).
pub fn read_serial_log(text: &str) -> SerialLog {
    let mut log = SerialLog::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_frame(line) {
            Some(Frame::Epoch(record)) => log.records.push(record),
            Some(Frame::Event(noticed)) => {
                log.events.push(noticed);
                log.other_frames += 1;
            }
            Some(Frame::Other) => log.other_frames += 1,
            None => log.rejected += 1,
        }
    }
    log
}

/// Parses a serial log as it came off the wire, as [`read_serial_log`] does. Bytes that are not
/// UTF-8 (line noise) become U+FFFD, so they cost only the line they are on (its CRC no longer
/// matches), never the whole log.
pub fn read_serial_log_bytes(bytes: &[u8]) -> SerialLog {
    read_serial_log(&String::from_utf8_lossy(bytes))
}

enum Frame {
    Epoch(EpochRecord),
    Event(Noticed),
    Other,
}

fn parse_frame(line: &str) -> Option<Frame> {
    let json = frame::open(line).ok()?;
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    if value.get("summary").is_some()
        || value.get("weights").is_some()
        || value.get("early_stop").is_some()
    {
        return Some(Frame::Other);
    }
    if value.get("event").is_some() {
        return event_of_frame(&value).map(Frame::Event);
    }
    let epoch = u32::try_from(value.get("epoch")?.as_u64()?).ok()?;
    // The JSON numbers are shortest round-trip digits; the bits are exact, and take precedence.
    let _: EpochRecord = serde_json::from_value(value.clone()).ok()?;
    let bits: RecordBits = serde_json::from_value(value.get("bits")?.clone()).ok()?;
    Some(Frame::Epoch(bits.record(epoch)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(json: &str) -> String {
        let trailer = frame::trailer(json.as_bytes());
        format!("{json}{}", std::str::from_utf8(&trailer).unwrap())
    }

    const EPOCH: &str = r#"{"epoch":1,"train_loss":2.038766,"train_acc":0.45201668,"val_loss":1.744555,"val_acc":0.7214485,"lr":0.001,"val_f1":0.70735365,"bits":{"train_loss":1073904420,"train_acc":1055354555,"val_loss":1071598996,"val_acc":1060679897,"lr":981668463,"val_f1":1060443425}}"#;

    #[test]
    fn the_readme_frame_checks_out() {
        let line = format!("{EPOCH}*af5ba938\n");
        let log = read_serial_log(&line);
        assert_eq!((log.records.len(), log.rejected), (1, 0));
    }

    #[test]
    fn a_good_log_decodes_to_records_with_the_bits_of_its_bits_field() {
        let second = EPOCH.replace(r#""epoch":1"#, r#""epoch":2"#);
        let text = format!(
            "{}{}{}",
            framed(EPOCH),
            framed(&second),
            framed(r#"{"summary":{"experiment":"iris"},"resources":{}}"#)
        );
        let log = read_serial_log(&text);
        assert_eq!(log.rejected, 0);
        assert_eq!(log.other_frames, 1);
        assert_eq!(log.records.len(), 2);
        let value: serde_json::Value = serde_json::from_str(EPOCH).unwrap();
        for (record, epoch) in log.records.iter().zip([1, 2]) {
            assert_eq!(record.epoch, epoch);
            let bits = RecordBits::of(record);
            let expected: RecordBits = serde_json::from_value(value["bits"].clone()).unwrap();
            assert_eq!(bits, expected);
            assert_eq!(record.train_loss.to_bits(), 1_073_904_420);
            assert_eq!(record.val_f1.map(f32::to_bits), Some(1_060_443_425));
            assert_eq!(record.val_mae, None);
        }
    }

    #[test]
    fn a_frame_with_a_flipped_bit_is_rejected_and_counted() {
        let good = framed(EPOCH);
        let mut bytes = good.clone().into_bytes();
        // Flip one bit of the JSON text: '1' (0x31) of "epoch":1 becomes '0' (0x30).
        let at = good.find(r#""epoch":1"#).unwrap() + r#""epoch":"#.len();
        bytes[at] ^= 0x01;
        let damaged = String::from_utf8(bytes).unwrap();
        assert!(frame::open(&damaged).is_err());
        let text = format!("{good}{damaged}garbled line\n{good}");
        let log = read_serial_log(&text);
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.rejected, 2);
        // A flipped bit in the CRC itself is caught as well.
        let mut crc_flipped = good.into_bytes();
        let at = crc_flipped.len() - 3;
        crc_flipped[at] ^= 0x01;
        let log = read_serial_log(std::str::from_utf8(&crc_flipped).unwrap());
        assert_eq!((log.records.len(), log.rejected), (0, 1));
    }

    #[test]
    fn epoch_lines_parse_with_their_level_and_reject_junk() {
        let line = "INFO  epoch 3/20 train_loss=0.5 train_mae=1 val_loss=NaN val_mae=NaN val_rmse=NaN lr=0.01 bits=0x3f000000,0x3f800000,0xffffffff,0xffffffff,0xffffffff,0x3c23d70a";
        let r = parse_epoch_line(strip_level(line)).unwrap();
        assert_eq!(r.epoch, 3);
        assert_eq!(r.train_mae, Some(1.0));
        assert_eq!((r.val_loss, r.val_rmse, r.train_acc), (None, None, None));
        assert!(parse_epoch_line("epoch 1/2 train_loss=1 bits=0x3f800000").is_none());
        assert!(parse_epoch_line("summary experiment=iris").is_none());
        assert!(parse_epoch_line("epoch x/2 lr=1 bits=0x3f800000").is_none());
    }

    /// Found by fault injection (tests/tests/fault_injection.rs): a flipped byte in a defmt frame's
    /// float argument changes the printed number but not its `bits` word, and the line decoded as if
    /// nothing happened; one in a `bits` word decoded to a wrong value. Text and bits must agree.
    #[test]
    fn an_epoch_line_whose_text_and_bits_disagree_is_refused() {
        let good = "epoch 10/10 train_loss=0.19304118 train_acc=0.9534075 val_loss=0.16794239 val_acc=0.95821726 val_f1=0.95837116 lr=0.001 bits=0x3e45ac96,0x3f741284,0x3e2bf917,0x3f754dba,0x3f7557d0,0x3a83126f";
        assert!(parse_epoch_line(good).is_some());
        let text_damaged = good.replace("val_acc=0.95821726", "val_acc=0.96059763");
        assert!(parse_epoch_line(&text_damaged).is_none());
        let bits_damaged = good.replace("0x3f7557d0", "0x3f7757d0");
        assert!(parse_epoch_line(&bits_damaged).is_none());
        let absent = "epoch 3/20 train_loss=0.5 train_mae=1 val_loss=NaN val_mae=NaN val_rmse=NaN lr=0.01 bits=0x3f000000,0x3f800000,0xffffffff,0xffffffff,0xffffffff,0x3c23d70a";
        assert!(parse_epoch_line(absent).is_some());
        assert!(parse_epoch_line(&absent.replace("val_loss=NaN", "val_loss=1")).is_none());
        assert!(parse_epoch_line(&good.replace("epoch 10/10", "epoch 110/10")).is_none());
    }

    #[test]
    fn event_and_early_stop_frames_and_lines_are_good_non_epoch_input() {
        let text = format!(
            "{}{}{}{}",
            framed(EPOCH),
            framed(r#"{"event":{"kind":"overfitting","epoch":23,"detected":26}}"#),
            framed(r#"{"event":{"kind":"divergence","epoch":4,"detected":4,"non_finite":true}}"#),
            framed(
                r#"{"early_stop":{"monitor":"val_loss","stopped_epoch":33,"best_epoch":23,"best":0.084609866,"restored_epoch":23},"best_bits":1034766320}"#
            )
        );
        let log = read_serial_log(&text);
        assert_eq!(
            (log.records.len(), log.other_frames, log.rejected),
            (1, 3, 0)
        );
        assert_eq!(
            log.events,
            [
                Noticed {
                    detected: 26,
                    event: Event::Overfitting { epoch: 23 }
                },
                Noticed {
                    detected: 4,
                    event: Event::Divergence {
                        epoch: 4,
                        non_finite: true
                    }
                },
            ]
        );
        let bad = framed(r#"{"event":{"kind":"nonsense","epoch":1,"detected":1}}"#);
        assert_eq!(read_serial_log(&bad).rejected, 1);
        let line = strip_level("INFO  event kind=divergence epoch=3 detected=3 non_finite=false");
        assert_eq!(
            parse_event_line(line).map(|n| n.event),
            Some(Event::Divergence {
                epoch: 3,
                non_finite: false
            })
        );
        assert!(parse_event_line("event kind=plateau epoch=3").is_none());
        assert!(parse_event_line("event kind=plateau epoch=3 detected=8 extra=1").is_none());
    }

    /// Found by fault injection: one byte that is not UTF-8 made `decode --serial-log` fail on the
    /// whole file; now it costs only its own line.
    #[test]
    fn a_serial_log_with_bytes_that_are_not_utf8_loses_only_their_line() {
        let good = framed(EPOCH);
        let mut bytes = good.clone().into_bytes();
        let mut noisy = good.clone().into_bytes();
        noisy[5] = 0xff;
        bytes.extend_from_slice(&noisy);
        bytes.extend_from_slice(b"\x80\xfe\n");
        bytes.extend_from_slice(good.as_bytes());
        let log = read_serial_log_bytes(&bytes);
        assert_eq!((log.records.len(), log.rejected), (2, 2));
    }
}
