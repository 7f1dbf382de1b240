//! The frames that end a run: early stopping's outcome (experiments with early stopping), then the
//! summary with the device's resources.
//!
//! ```text
//! {"early_stop":{"monitor":"val_loss","patience":10,"stopped_epoch":33,"best_epoch":23,"best":0.084609866,"restored_epoch":23,"snapshot_bytes":268},"best_bits":1034766320}
//! {"summary":{…Summary…},"resources":{…}}
//! ```

#[cfg(feature = "serde")]
use crate::Summary;
#[cfg(feature = "serde")]
use tinytrain::early_stop::Outcome;

/// Early stopping's frame: the outcome's serde form and the best value's bits.
#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct EarlyStopFrame<'a> {
    early_stop: &'a Outcome,
    best_bits: u32,
}

/// The summary's frame.
#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct SummaryFrame<'a, R> {
    summary: &'a Summary,
    resources: &'a R,
}

/// Writes early stopping's frame into `buffer` and returns its length (`None` if it does not fit).
#[cfg(feature = "serde")]
pub fn encode_early_stop(outcome: &Outcome, buffer: &mut [u8]) -> Option<usize> {
    let frame = EarlyStopFrame {
        early_stop: outcome,
        best_bits: outcome.best.to_bits(),
    };
    serde_json_core::to_slice(&frame, buffer).ok()
}

/// The outcome in an early-stopping frame's JSON, its best value exact (from `best_bits`); `None`
/// if the frame is not one.
#[cfg(feature = "host")]
pub fn parse_early_stop(frame: &serde_json::Value) -> Option<Outcome> {
    let mut outcome: Outcome = serde_json::from_value(frame.get("early_stop")?.clone()).ok()?;
    let bits = u32::try_from(frame.get("best_bits")?.as_u64()?).ok()?;
    outcome.best = f32::from_bits(bits);
    Some(outcome)
}

/// Writes the summary's frame (with what the device measured about itself, `resources`) into
/// `buffer` and returns its length (`None` if it does not fit).
#[cfg(feature = "serde")]
pub fn encode_summary<R: serde::Serialize>(
    summary: &Summary,
    resources: &R,
    buffer: &mut [u8],
) -> Option<usize> {
    serde_json_core::to_slice(&SummaryFrame { summary, resources }, buffer).ok()
}
