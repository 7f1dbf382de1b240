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

/// The JSON of [`encode_summary`], byte for byte, handed to `emit` in five pieces: the summary and
/// the resources are serialised one at a time into `buffer`, which then needs to hold only the
/// longer of the two (a device's frame buffer need not fit the longest frame). `None` if either
/// does not fit (`emit` may have had the first pieces).
#[cfg(feature = "serde")]
pub fn encode_summary_in_parts<R: serde::Serialize>(
    summary: &Summary,
    resources: &R,
    buffer: &mut [u8],
    mut emit: impl FnMut(&[u8]),
) -> Option<()> {
    emit(b"{\"summary\":");
    let n = serde_json_core::to_slice(summary, buffer).ok()?;
    emit(buffer.get(..n)?);
    emit(b",\"resources\":");
    let n = serde_json_core::to_slice(resources, buffer).ok()?;
    emit(buffer.get(..n)?);
    emit(b"}");
    Some(())
}

#[cfg(all(test, feature = "host"))]
mod tests {
    use super::Count;

    /// The longest summary a device sends — the longest name, every field present, every number of
    /// its longest form — fits the frame buffer (it is one of the summary frame's pieces; the
    /// whole frame, with the resources, would not).
    #[test]
    fn the_longest_summary_fits_the_frame_buffer() {
        use tinytrain::record::EpochRecord;
        let longest = -f32::from_bits(0x0080_0001); // -1.1754945e-38
        let last =
            EpochRecord::from_floats(u32::MAX, [Some(longest); EpochRecord::FLOAT_NAMES.len()])
                .unwrap();
        let name: &'static str = "x".repeat(crate::experiment::NAME_CAPACITY).leak();
        let anomalies = crate::stream::Anomalies {
            quantile: longest,
            threshold: longest,
            threshold_bits: u32::MAX,
            errors: u32::MAX,
            true_positives: u32::MAX,
            false_positives: u32::MAX,
            false_negatives: u32::MAX,
            true_negatives: u32::MAX,
        };
        let summary = crate::Summary {
            experiment: name,
            epochs: u32::MAX,
            rows: crate::Rows {
                train: u32::MAX,
                validation: u32::MAX,
            },
            samples_trained: u32::MAX,
            best_epoch: u32::MAX,
            best_val_acc: Some(longest),
            last,
            divergence: Default::default(),
            skipped_samples: u32::MAX,
            skipped_steps: u32::MAX,
            stopped_epoch: Some(u32::MAX),
            restored_epoch: Some(u32::MAX),
            anomalies: Some(anomalies),
        };
        let mut buffer = [0u8; 2048];
        let n = serde_json_core::to_slice(&summary, &mut buffer).unwrap();
        // 832 bytes; a float of 9 significant digits is one character longer than these.
        assert_eq!(n, 832);
        let floats = core::str::from_utf8(&buffer[..n])
            .unwrap()
            .matches("e-38")
            .count();
        assert!(n + floats <= crate::wire::FRAME_CAPACITY, "{n} + {floats}");
    }

    /// The pieces are the whole frame's JSON, byte for byte, from a buffer that holds only the
    /// longer of the summary and the resources.
    #[test]
    fn the_summary_in_parts_is_the_summary_frame() {
        let mut ws = Box::new(crate::iris::workspace());
        let summary = ws
            .run(&crate::iris::EXPERIMENT, crate::NoFault, &mut |_: &_| {})
            .unwrap();
        let resources =
            serde_json::json!({"board": "mps2-an386", "stack_peak": 6024, "ram_total": 7648});
        let mut whole = [0u8; 1024];
        let n = super::encode_summary(&summary, &resources, &mut whole).unwrap();
        let summary_len = serde_json::to_string(&summary).unwrap().len();
        let mut small = vec![0u8; summary_len.max(resources.to_string().len())];
        let mut parts = Vec::new();
        super::encode_summary_in_parts(&summary, &resources, &mut small, |piece| {
            parts.extend_from_slice(piece)
        })
        .unwrap();
        assert_eq!(
            core::str::from_utf8(&parts),
            core::str::from_utf8(&whole[..n])
        );
        assert!(small.len() < n / 2 + 200, "{} of {n}", small.len());
        // One byte short of the summary: refused.
        let mut short = vec![0u8; summary_len - 1];
        assert!(super::encode_summary_in_parts(&summary, &resources, &mut short, |_| {}).is_none());
    }

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
