//! Exact transport of an epoch record: its `f32` fields as bit patterns.
//!
//! Text formats round floats (defmt prints them, JSON parsers go through `f64`, `NaN` becomes
//! `null`), so the firmware sends the bit patterns alongside; a host compares those, not the text.
//! The fields come from the record's one table, [`tinytrain::record_floats!`].

#[cfg(feature = "serde")]
use tinytrain::record::Absent;
use tinytrain::record::{EpochRecord, Field};

macro_rules! define_bits {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty $(= $default:ident)?, )*) => {
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
            $(
                #[doc = concat!("[`EpochRecord::", stringify!($name), "`].")]
                #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Absent::absent"))]
                pub $name: <$ty as Field>::Bits,
            )*
        }

        impl RecordBits {
            /// The bit patterns of `record`'s floats.
            pub fn of(record: &EpochRecord) -> Self {
                Self { $($name: Field::to_bits(record.$name)),* }
            }

            /// The record these bits came from (given its epoch number).
            pub fn record(&self, epoch: u32) -> EpochRecord {
                EpochRecord { epoch, $($name: Field::from_bits(self.$name)),* }
            }
        }
    };
}

tinytrain::record_floats!(define_bits);
