//! The epoch frame: `EpochRecord`'s serde form, then `"bits"`, its [`RecordBits`].
//!
//! ```text
//! {"epoch":1,"train_loss":2.038766,...,"lr":0.001,"val_f1":0.70735365,"bits":{"train_loss":1073904420,...}}
//! ```

#[cfg(feature = "serde")]
use tinytrain::record::EpochRecord;

#[cfg(feature = "serde")]
use super::bits::RecordBits;

/// Writes an epoch's JSON into `buffer` and returns its length (`None` if it does not fit).
///
/// Spliced as text because serde's `flatten` needs `alloc`.
#[cfg(feature = "serde")]
pub fn encode(record: &EpochRecord, buffer: &mut [u8]) -> Option<usize> {
    // Drop the record's closing `}`; it always has `epoch`, so the bits follow a comma.
    let record_end = serde_json_core::to_slice(record, buffer).ok()? - 1;
    let key = b",\"bits\":";
    buffer
        .get_mut(record_end..record_end + key.len())?
        .copy_from_slice(key);
    let bits_start = record_end + key.len();
    let bits_end = bits_start
        + serde_json_core::to_slice(&RecordBits::of(record), buffer.get_mut(bits_start..)?).ok()?;
    *buffer.get_mut(bits_end)? = b'}';
    Some(bits_end + 1)
}

/// The record of an epoch frame's JSON value, its floats from `bits` (exact); `None` if the value is
/// not a whole epoch frame.
#[cfg(feature = "host")]
pub fn parse(value: &serde_json::Value) -> Option<EpochRecord> {
    use serde::Deserialize;
    let epoch = u32::try_from(value.get("epoch")?.as_u64()?).ok()?;
    // The JSON numbers are shortest round-trip digits; the bits are exact, and take precedence.
    EpochRecord::deserialize(value).ok()?;
    let bits = RecordBits::deserialize(value.get("bits")?).ok()?;
    Some(bits.record(epoch))
}

/// A float field of an epoch frame that its `bits` object does not match (present in one and
/// absent from the other): the frame would lose it, or invent it.
#[cfg(feature = "host")]
pub fn unmatched_field(value: &serde_json::Value) -> Option<&'static str> {
    let bits = value.get("bits")?;
    EpochRecord::FLOAT_NAMES.into_iter().find(|name| {
        let present = |v: &serde_json::Value| v.get(name).is_some_and(|x| !x.is_null());
        present(value) != present(bits)
    })
}

/// A `metrics.jsonl` line's record: exactly the record's fields (a frame that lost its CRC trailer
/// has `bits` and is not one).
#[cfg(feature = "host")]
pub fn parse_plain(value: &serde_json::Value) -> Result<EpochRecord, String> {
    use serde::Deserialize;
    let fields = value.as_object().ok_or("not a JSON object")?;
    if let Some(key) = fields
        .keys()
        .find(|k| !EpochRecord::CSV_HEADER.split(',').any(|f| f == k.as_str()))
    {
        return Err(format!("not an epoch record: unknown field `{key}`"));
    }
    EpochRecord::deserialize(value).map_err(|e| format!("not an epoch record: {e}"))
}

#[cfg(all(test, feature = "host"))]
mod tests {
    use super::*;

    /// The longest epoch frame — every field present, each float of the longest shortest-digits
    /// form, the largest epoch — fits [`FRAME_CAPACITY`](super::super::FRAME_CAPACITY).
    #[test]
    fn the_longest_epoch_frame_fits_the_capacity() {
        let longest = -f32::from_bits(0x0080_0001); // -1.1754945e-38
        let floats = [Some(longest); EpochRecord::FLOAT_NAMES.len()];
        let record = EpochRecord::from_floats(u32::MAX, floats).unwrap();
        let mut buffer = [0u8; 2 * super::super::FRAME_CAPACITY];
        let n = encode(&record, &mut buffer).unwrap();
        eprintln!("longest epoch frame: {n} bytes");
        assert!(n <= super::super::FRAME_CAPACITY, "{n}");
        assert!(encode(&record, &mut buffer[..n - 1]).is_none());
    }

    #[test]
    fn the_frame_round_trips_exactly_and_matches_the_readme() {
        let record = EpochRecord {
            epoch: 1,
            train_loss: f32::from_bits(1_073_904_420),
            train_acc: Some(f32::from_bits(1_055_354_555)),
            val_loss: Some(f32::from_bits(1_071_598_996)),
            val_acc: Some(f32::from_bits(1_060_679_897)),
            lr: f32::from_bits(981_668_463),
            val_f1: Some(f32::from_bits(1_060_443_425)),
            ..Default::default()
        };
        let mut buffer = [0u8; super::super::FRAME_CAPACITY];
        let n = encode(&record, &mut buffer).unwrap();
        let json = core::str::from_utf8(&buffer[..n]).unwrap();
        assert_eq!(
            json,
            r#"{"epoch":1,"train_loss":2.038766,"train_acc":0.45201668,"val_loss":1.744555,"val_acc":0.7214485,"lr":0.001,"val_f1":0.70735365,"bits":{"train_loss":1073904420,"train_acc":1055354555,"val_loss":1071598996,"val_acc":1060679897,"lr":981668463,"val_f1":1060443425}}"#
        );
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(parse(&value), Some(record));
        assert!(parse_plain(&value).is_err());
    }
}
