//! One line of any capture a host reads — a serial log of frames, decoded defmt text in any of
//! defmt-decoder's formats (`probe-rs run` included), a `metrics.jsonl` — classified by one function,
//! [`classify`], which `tinytrain decode` and `tinytrain monitor` both call, and counted by [`Tally`],
//! whose text both print.

use std::borrow::Cow;

use tinytrain::diagnose::Event;
use tinytrain::record::EpochRecord;

use super::{epoch, event, frame, log, weights};

/// What a line holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Line<'a> {
    /// An epoch: a frame (floats from its bits, exact), a `metrics.jsonl` line or a defmt line
    /// (floats from its `bits=`, exact).
    Epoch(EpochRecord),
    /// A diagnosis event the device reported (frame or defmt line): `(detected, event)`.
    Event(u32, Event),
    /// The summary frame's JSON.
    Summary(serde_json::Value),
    /// Early stopping's frame: its outcome, the best value exact.
    EarlyStop(tinytrain::early_stop::Outcome),
    /// A weights frame.
    Weights(weights::Chunk),
    /// A batch norm's weights frame (its `γ`, `β` or a running statistic).
    BatchNormWeights(weights::BatchNormChunk),
    /// The stream program listens for samples ([`sample::READY`](super::sample::READY)).
    Ready,
    /// Any other device log line (decoded defmt with a level), as received.
    Log(Cow<'a, str>),
    /// A line that is not good: why (a CRC mismatch, a cut-off frame, noise).
    Corrupted(String),
}

/// Classifies one line (with or without its line ending); `None` for a blank line or a defmt
/// location line (`└─ …`), which carry nothing.
///
/// ```
/// use tinytrain_experiments::wire::{classify, Line};
/// assert!(matches!(classify(r#"{"epoch":2,"train_loss":0.5,"lr":0.001}"#), Some(Line::Epoch(r)) if r.epoch == 2));
/// assert!(matches!(classify(r#"{"epoch":2}*00000000"#), Some(Line::Corrupted(_))));
/// assert!(matches!(classify("0.000012 INFO  start experiment=iris"), Some(Line::Log(_))));
/// assert_eq!(classify("└─ tinytrain_firmware::report @ src/report.rs:140"), None);
/// ```
pub fn classify(line: &str) -> Option<Line<'_>> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() || log::is_location(line) {
        return None;
    }
    let parsed = match frame::open(line) {
        Ok(json) => parse_frame(json),
        Err(frame::FrameError::NoTrailer) => classify_text(line),
        Err(error) => Line::Corrupted(error.to_string()),
    };
    Some(match &parsed {
        Line::Epoch(record) => match implausible(record) {
            Some(why) => Line::Corrupted(why),
            None => parsed,
        },
        Line::Event(detected, event) if event.epoch() > *detected => Line::Corrupted(format!(
            "an event starting at epoch {} but detected at epoch {detected}",
            event.epoch()
        )),
        _ => parsed,
    })
}

/// Why a record (CRC-valid, well-formed) cannot be one the core computed: epoch 0, a negative loss
/// or error, an accuracy or F1 outside `[0, 1]`, a negative or non-finite learning rate.
pub fn implausible(record: &tinytrain::record::EpochRecord) -> Option<String> {
    if record.epoch == 0 {
        return Some("epoch 0 (epochs count from 1)".into());
    }
    let unit = ["train_acc", "val_acc", "val_f1"];
    let non_negative = ["train_loss", "val_loss", "train_mae", "val_mae", "val_rmse"];
    for (name, value) in tinytrain::record::EpochRecord::FLOAT_NAMES
        .iter()
        .zip(record.floats())
    {
        let Some(v) = value else { continue };
        let bad = if unit.contains(name) {
            !(0.0..=1.0).contains(&v)
        } else if non_negative.contains(name) {
            v < 0.0
        } else {
            !(v.is_finite() && v >= 0.0)
        };
        if bad {
            return Some(format!(
                "epoch {}: {name} = {v} is impossible",
                record.epoch
            ));
        }
    }
    None
}

/// The order of a run's epochs: each one after the last (a repeated or earlier epoch is a
/// replayed or damaged line, not a new epoch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sequence {
    last: u32,
}

impl Sequence {
    /// Accepts `epoch` if it comes after every epoch so far; else says why not.
    pub fn admit(&mut self, epoch: u32) -> Result<(), String> {
        if epoch <= self.last {
            return Err(format!(
                "epoch {epoch} after epoch {} (repeated or out of order)",
                self.last
            ));
        }
        self.last = epoch;
        Ok(())
    }
}

/// A line without a frame's trailer: a `metrics.jsonl` record or a defmt log line.
fn classify_text(line: &str) -> Line<'_> {
    if line.trim_start().starts_with('{') {
        return match serde_json::from_str(line) {
            Ok(value) => epoch::parse_plain(&value).map_or_else(Line::Corrupted, Line::Epoch),
            Err(e) => Line::Corrupted(format!("not an epoch record: {e}")),
        };
    }
    let clean = log::strip_ansi(line);
    let Some(message) = log::message(&clean) else {
        return Line::Corrupted("not a frame".into());
    };
    if let Some(record) = log::parse_epoch(message) {
        return Line::Epoch(record);
    }
    if let Some((detected, event)) = event::parse_line(message) {
        return Line::Event(detected, event);
    }
    if message.starts_with("epoch ") || message.starts_with("event") {
        return Line::Corrupted(format!("a damaged `{}` line", &message[..5]));
    }
    Line::Log(match clean {
        Cow::Borrowed(_) => Cow::Borrowed(line),
        Cow::Owned(text) => Cow::Owned(text),
    })
}

/// A good frame's JSON, by its first key.
///
/// ```
/// use tinytrain_experiments::wire::line::parse_frame;
/// use tinytrain_experiments::wire::Line;
/// assert!(matches!(parse_frame(r#"{"hello":1}"#), Line::Corrupted(_)));
/// ```
pub fn parse_frame(json: &str) -> Line<'_> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Line::Corrupted("a frame whose JSON does not parse".into());
    };
    let parsed = if value.get("ready").is_some() {
        Some(Line::Ready)
    } else if value.get("summary").is_some() {
        Some(Line::Summary(value))
    } else if value.get("early_stop").is_some() {
        super::outcome::parse_early_stop(&value).map(Line::EarlyStop)
    } else if value.get("weights").is_some() {
        weights::parse(&value).map(Line::Weights)
    } else if value.get("batch_norm").is_some() {
        weights::parse_batch_norm(&value).map(Line::BatchNormWeights)
    } else if value.get("event").is_some() {
        event::parse(&value).map(|(detected, event)| Line::Event(detected, event))
    } else if let Some(field) = epoch::unmatched_field(&value) {
        return Line::Corrupted(format!(
            "an epoch frame whose `{field}` has no exact bits (or bits without a value)"
        ));
    } else {
        epoch::parse(&value).map(Line::Epoch)
    };
    parsed.unwrap_or_else(|| Line::Corrupted("a frame that does not parse as its kind".into()))
}

/// How many lines of each kind came.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Epochs.
    pub epochs: usize,
    /// Device events.
    pub events: usize,
    /// Other good lines: summary, early stopping, weights, device log.
    pub other: usize,
    /// Lines that were not good.
    pub corrupted: usize,
}

impl Tally {
    /// Counts `line`.
    pub fn count(&mut self, line: &Line<'_>) {
        match line {
            Line::Epoch(_) => self.epochs += 1,
            Line::Event(..) => self.events += 1,
            Line::Corrupted(_) => self.corrupted += 1,
            Line::Summary(_)
            | Line::EarlyStop(_)
            | Line::Weights(_)
            | Line::BatchNormWeights(_)
            | Line::Ready
            | Line::Log(_) => self.other += 1,
        }
    }
}

impl core::fmt::Display for Tally {
    /// `20 epochs, 1 events, 3 other lines, 0 corrupted lines`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} epochs, {} events, {} other lines, {} corrupted lines",
            self.epochs, self.events, self.other, self.corrupted
        )
    }
}
