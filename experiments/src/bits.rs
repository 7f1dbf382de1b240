//! Exact transport of an epoch record: its `f32` fields as bit patterns.
//!
//! Text formats round floats (defmt prints them, JSON parsers go through `f64`, `NaN` becomes
//! `null`), so the firmware sends the bit patterns alongside; a host compares those, not the text.

use tinytrain::record::EpochRecord;

/// The `f32` fields of an [`EpochRecord`] as `f32::to_bits` patterns, named as in the record.
///
/// ```
/// use tinytrain::record::EpochRecord;
/// use tinytrain_experiments::bits::RecordBits;
/// let r = EpochRecord { epoch: 2, train_loss: 0.5, val_acc: Some(f32::NAN), lr: 1e-3, ..Default::default() };
/// let bits = RecordBits::of(&r);
/// assert_eq!(bits.train_loss, 0x3f00_0000);
/// assert_eq!(bits.record(2).val_acc.map(f32::to_bits), Some(f32::NAN.to_bits()));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordBits {
    /// [`EpochRecord::train_loss`].
    pub train_loss: u32,
    /// [`EpochRecord::train_acc`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub train_acc: Option<u32>,
    /// [`EpochRecord::val_loss`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_loss: Option<u32>,
    /// [`EpochRecord::val_acc`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_acc: Option<u32>,
    /// [`EpochRecord::lr`].
    pub lr: u32,
    /// [`EpochRecord::val_f1`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_f1: Option<u32>,
    /// [`EpochRecord::train_mae`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub train_mae: Option<u32>,
    /// [`EpochRecord::val_mae`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_mae: Option<u32>,
    /// [`EpochRecord::val_rmse`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub val_rmse: Option<u32>,
}

impl RecordBits {
    /// The bit patterns of `record`'s floats.
    pub fn of(record: &EpochRecord) -> Self {
        let bits = |v: Option<f32>| v.map(f32::to_bits);
        Self {
            train_loss: record.train_loss.to_bits(),
            train_acc: bits(record.train_acc),
            val_loss: bits(record.val_loss),
            val_acc: bits(record.val_acc),
            lr: record.lr.to_bits(),
            val_f1: bits(record.val_f1),
            train_mae: bits(record.train_mae),
            val_mae: bits(record.val_mae),
            val_rmse: bits(record.val_rmse),
        }
    }

    /// The record these bits came from (given its epoch number).
    pub fn record(&self, epoch: u32) -> EpochRecord {
        let float = |v: Option<u32>| v.map(f32::from_bits);
        EpochRecord {
            epoch,
            train_loss: f32::from_bits(self.train_loss),
            train_acc: float(self.train_acc),
            val_loss: float(self.val_loss),
            val_acc: float(self.val_acc),
            lr: f32::from_bits(self.lr),
            val_f1: float(self.val_f1),
            train_mae: float(self.train_mae),
            val_mae: float(self.val_mae),
            val_rmse: float(self.val_rmse),
        }
    }
}
