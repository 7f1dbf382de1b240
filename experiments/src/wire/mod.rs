//! The wire: everything a device sends a host, encoded and parsed in one place.
//!
//! The formats are specified once, in `firmware/README.md` ("Output formats"); each file here holds
//! one kind of frame or line, its encoder (no_std, serde-json-core: what the firmware calls) beside
//! its parser (feature `host`, serde_json: what `tinytrain decode` and `tinytrain monitor` call).
//!
//! * [`frame`] — the seal of a serial line: JSON, `*`, CRC-32, `\n`; the handshake bytes.
//! * [`epoch`] — an epoch frame: the record's serde form plus [`bits`], its floats' bit patterns.
//! * [`event`] — a diagnosis event, in its one shape (serial frame, `events.jsonl`, defmt line).
//! * [`outcome`] — the early-stopping and summary frames.
//! * [`weights`] — a network's parameters as frames (firmware feature `dump-weights`).
//! * [`sample`] — the other way, host → device: the samples of a stream, for a device that learns
//!   as they arrive.
//! * `log` (host) — the device's defmt lines, as decoded text, in any of defmt's log formats.
//! * `line` (host) — one line of any capture classified: [`line::classify`], counted by
//!   [`line::Tally`].

pub mod bits;
pub mod epoch;
pub mod event;
pub mod frame;
pub mod outcome;
pub mod sample;
pub mod weights;

#[cfg(feature = "host")]
pub mod line;
#[cfg(feature = "host")]
pub mod log;

/// A device's frame buffer: the longest JSON text of an epoch, event or early-stopping frame (449
/// bytes: `epoch::tests::the_longest_epoch_frame_fits_the_capacity`), and of each piece of the
/// summary frame, which is sent in pieces (`outcome::encode_summary_in_parts`: the summary, up to
/// 849 bytes, then the resources). Weights frames have their own, shorter buffer.
pub const FRAME_CAPACITY: usize = 896;

#[cfg(feature = "host")]
pub use event::{early_stopping_json, event_json};
#[cfg(feature = "host")]
pub use line::{classify, implausible, Line, Sequence, Tally};
