//! Which TensorBoard tag each float field of an [`EpochRecord`] is written under: the one table
//! of them, in the record's field order (checked at compile time against
//! [`EpochRecord::FLOAT_NAMES`], so a field added to the record must be given a tag here).
//! TensorBoard groups the tags by their prefix: one chart section for `Loss`, one for `Accuracy`…,
//! training and validation side by side.

use tinytrain::record::{EpochRecord, FLOATS};

/// `(record field, tag)`, in [`EpochRecord::FLOAT_NAMES`] order.
pub const TAGS: [(&str, &str); FLOATS] = [
    ("train_loss", "Loss/train"),
    ("train_acc", "Accuracy/train"),
    ("val_loss", "Loss/validation"),
    ("val_acc", "Accuracy/validation"),
    ("lr", "lr"),
    ("val_f1", "F1/validation"),
    ("train_mae", "MAE/train"),
    ("val_mae", "MAE/validation"),
    ("val_rmse", "RMSE/validation"),
];

/// The tag of the text summary that holds the run's options, at step 0.
pub const HPARAMS: &str = "hparams";

/// The tag of the text summaries that hold the diagnosis events, each at the epoch that revealed
/// it (the `detected` of its `events.jsonl` line).
pub const EVENTS: &str = "events";

const _: () = assert!(
    same_fields(),
    "TAGS must list EpochRecord::FLOAT_NAMES, in order"
);

const fn same_fields() -> bool {
    let mut k = 0;
    while k < FLOATS {
        let (a, b) = (TAGS[k].0.as_bytes(), EpochRecord::FLOAT_NAMES[k].as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        k += 1;
    }
    true
}

/// The record's scalars as `(tag, value)`: the fields it has, non-finite values included (an
/// event file holds any `f32`), absent ones left out.
pub fn scalars(record: &EpochRecord) -> impl Iterator<Item = (&'static str, f32)> {
    TAGS.iter()
        .zip(record.floats())
        .filter_map(|(&(_, tag), value)| Some((tag, value?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_values_a_record_has_are_written() {
        let record = EpochRecord {
            epoch: 2,
            train_loss: 0.5,
            val_loss: Some(f32::NAN),
            lr: 0.001,
            train_mae: Some(3.0),
            ..Default::default()
        };
        let scalars: Vec<_> = scalars(&record).collect();
        assert_eq!(scalars.len(), 4);
        assert_eq!(scalars[0], ("Loss/train", 0.5));
        assert!(scalars[1].0 == "Loss/validation" && scalars[1].1.is_nan());
        assert_eq!(scalars[2..], [("lr", 0.001), ("MAE/train", 3.0)]);
    }
}
