//! `tinytrain decode`: read what a device sent and turn it back into epoch records.
//!
//! Two inputs, the two channels of the firmware (see `firmware/README.md`, "Output formats"):
//!
//! * `--elf FIRMWARE.elf [FILE|-]` — a raw defmt byte stream (QEMU's semihosting stdout, or a capture
//!   of RTT), decoded with the `defmt-decoder` crate and the ELF's defmt table. Every log line is
//!   printed (`INFO  epoch 1/20 ...`); the `epoch` lines are parsed into [`EpochRecord`]s, their
//!   floats taken from the `bits=` words, so the values are exact.
//! * `--serial-log FILE` (or `--log`) — a text capture: the serial port's frames (`JSON*crc32`, one
//!   per line), decoded defmt text in any of defmt-decoder's formats (`probe-rs run`'s default
//!   included), or both. A line whose CRC does not match, or that is neither, is rejected and
//!   counted.
//!
//! Every line goes through [`wire::classify`], the function `tinytrain monitor` calls, and the counts
//! go to stderr in the monitor's words ([`wire::Tally`]). Diagnosis events (defmt `event=…` lines and
//! event frames) are good non-epoch lines, and so are early stopping's outcome, the summary, weights
//! frames and the other log lines.
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
use tinytrain::record::EpochRecord;
use tinytrain_experiments::wire::{self, Line, Tally};

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
    /// A text capture instead of a defmt stream: serial frames (JSON+CRC, one per line) and/or
    /// decoded defmt lines (e.g. `probe-rs run` output)
    #[arg(
        long,
        visible_alias = "log",
        value_name = "FILE",
        conflicts_with = "elf"
    )]
    pub serial_log: Option<PathBuf>,
    /// Write the epoch records to DIR/metrics.jsonl and DIR/metrics.csv
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace --out DIR even if it holds a run (the old one stays until the new one is written)
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Runs `tinytrain decode`.
pub fn execute(args: &DecodeArgs) -> anyhow::Result<()> {
    let log = if let Some(log) = &args.serial_log {
        // Bytes, not a `String`: line noise is not UTF-8, and must cost only the line it hits.
        let bytes = std::fs::read(log).with_context(|| format!("cannot read {}", log.display()))?;
        let decoded = read_serial_log_bytes(&bytes);
        let mut stdout = std::io::stdout().lock();
        for record in &decoded.records {
            let json = serde_json::to_string(record).context("cannot serialise a record")?;
            writeln!(stdout, "{json}").context("cannot write to stdout")?;
        }
        decoded
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
        let mut log = SerialLog::default();
        decode_defmt_stream(&elf, input, |line| {
            log.add(line);
            writeln!(stdout, "{line}")
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")
        })?;
        log
    };
    for why in &log.reasons {
        eprintln!("rejected: {why}");
    }
    eprintln!("{}", log.tally);
    if let Some(out) = &args.out {
        let inputs: Vec<&std::path::Path> = [&args.input, &args.serial_log, &args.elf]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
            .collect();
        let mut run = RunDir::create(out, args.force, &inputs)?;
        for record in &log.records {
            run.append(record)?;
        }
        for noticed in &log.events {
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
        run.commit()?;
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

/// A line without its level prefix (`INFO  epoch ...` → `epoch ...`; every log format of
/// [`wire::log`]), or the line itself.
pub fn strip_level(line: &str) -> &str {
    wire::log::strip_level(line)
}

/// Parses a defmt `epoch` line's message ([`wire::log::parse_epoch`]).
pub fn parse_epoch_line(line: &str) -> Option<EpochRecord> {
    wire::log::parse_epoch(line)
}

/// Parses a defmt `event=…` line's message ([`wire::event::parse_line`]).
///
/// ```
/// let n = tinytrain_host::decode::parse_event_line("event=overfitting epoch=23 detected=26").unwrap();
/// assert_eq!((n.detected, n.event.name(), n.event.epoch()), (26, "overfitting", 23));
/// ```
pub fn parse_event_line(line: &str) -> Option<Noticed> {
    let (detected, event) = wire::event::parse_line(line)?;
    Some(Noticed { detected, event })
}

/// What a capture held.
#[derive(Debug, Default, Clone)]
pub struct SerialLog {
    /// The epochs, in order, their floats exact (from the frames' `bits` or the lines' `bits=`).
    pub records: Vec<EpochRecord>,
    /// The device's events, in order.
    pub events: Vec<Noticed>,
    /// Good lines that are not epochs (events, early stopping, the summary, weights, log lines).
    pub other_frames: usize,
    /// Non-empty lines that were rejected: a CRC mismatch, or neither a frame nor a log line.
    pub rejected: usize,
    /// The counts, as `tinytrain monitor` reports them.
    pub tally: Tally,
    /// Why each rejected line was rejected, in order.
    pub reasons: Vec<String>,
    sequence: wire::Sequence,
}

impl SerialLog {
    /// Classifies and counts one line ([`wire::classify`]).
    pub fn add(&mut self, line: &str) {
        let Some(mut line) = wire::classify(line) else {
            return;
        };
        // An epoch must follow the one before it (a replayed or damaged line is not a new one).
        if let Line::Epoch(record) = &line {
            if let Err(why) = self.sequence.admit(record.epoch) {
                line = Line::Corrupted(why);
            }
        }
        self.tally.count(&line);
        match line {
            Line::Epoch(record) => self.records.push(record),
            Line::Corrupted(why) => {
                self.rejected += 1;
                self.reasons.push(why);
            }
            Line::Event(detected, event) => {
                self.events.push(Noticed { detected, event });
                self.other_frames += 1;
            }
            _ => self.other_frames += 1,
        }
    }
}

/// Parses a capture line by line (see [`SerialLog::add`]).
pub fn read_serial_log(text: &str) -> SerialLog {
    let mut log = SerialLog::default();
    text.lines().for_each(|line| log.add(line));
    log
}

/// Parses a serial log as it came off the wire, as [`read_serial_log`] does. Bytes that are not
/// UTF-8 (line noise) become U+FFFD, so they cost only the line they are on (its CRC no longer
/// matches), never the whole log.
pub fn read_serial_log_bytes(bytes: &[u8]) -> SerialLog {
    read_serial_log(&String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tinytrain::diagnose::Event;
    use tinytrain_experiments::{frame, RecordBits};

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
        let next = framed(&EPOCH.replace(r#""epoch":1"#, r#""epoch":2"#));
        let text = format!("{good}{damaged}garbled line\n{next}");
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
            framed(r#"{"event":"overfitting","epoch":23,"detected":26}"#),
            framed(r#"{"event":"divergence","epoch":4,"detected":4,"non_finite":true}"#),
            framed(
                r#"{"early_stop":{"monitor":"val_loss","stopped_epoch":33,"best_epoch":23,"best":0.084609866,"restored_epoch":23,"patience":10,"snapshot_bytes":268},"best_bits":1034766320}"#
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
        let bad = framed(r#"{"event":"nonsense","epoch":1,"detected":1}"#);
        assert_eq!(read_serial_log(&bad).rejected, 1);
        let line = strip_level("INFO  event=divergence epoch=3 detected=3 non_finite=false");
        assert_eq!(
            parse_event_line(line).map(|n| n.event),
            Some(Event::Divergence {
                epoch: 3,
                non_finite: false
            })
        );
        assert!(parse_event_line("event=plateau epoch=3").is_none());
        assert!(parse_event_line("event=plateau epoch=3 detected=8 extra=1").is_none());
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
        bytes.extend_from_slice(framed(&EPOCH.replace(r#""epoch":1"#, r#""epoch":2"#)).as_bytes());
        let log = read_serial_log_bytes(&bytes);
        assert_eq!((log.records.len(), log.rejected), (2, 2));
    }
}
