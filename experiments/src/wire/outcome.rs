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

/// A 64-bit count in a frame (the device's tick counts), written as a JSON number.
///
/// serde-json-core's `serialize_u64` divides a `u64` by ten per digit, which brings
/// compiler_builtins' 64-bit division (0.9 KB of flash) into the firmware. A count that fits in 32
/// bits is written as a `u32`; a larger one's digits come from subtracting powers of ten and go to
/// serde-json-core's `serialize_bytes`, which copies bytes as they are (the test below holds it to
/// that). For serde-json-core only: other serializers write bytes as an array.
#[cfg(feature = "serde")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count(pub u64);

#[cfg(feature = "serde")]
impl serde::Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Ok(small) = u32::try_from(self.0) {
            return serializer.serialize_u32(small);
        }
        let (mut digits, mut length, mut rest) = ([0u8; 20], 0, self.0);
        for power in (0..20).rev().map(|k| 10u64.pow(k)) {
            let mut digit = b'0';
            while rest >= power {
                rest -= power;
                digit += 1;
            }
            if length > 0 || digit != b'0' || power == 1 {
                digits[length] = digit;
                length += 1;
            }
        }
        serializer.serialize_bytes(&digits[..length])
    }
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

#[cfg(all(test, feature = "host"))]
mod tests {
    use super::Count;

    #[test]
    fn a_count_is_its_decimal_number_in_serde_json_core() {
        for n in [
            0,
            7,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            10u64.pow(19),
            u64::MAX,
        ] {
            let mut buffer = [0u8; 24];
            let length = serde_json_core::to_slice(&Count(n), &mut buffer).unwrap();
            assert_eq!(&buffer[..length], n.to_string().as_bytes());
        }
    }
}
