//! The one record a training run produces per epoch, on every channel (host files, defmt, serial).

/// Calls the macro `$callback` with the record's float fields, in the record's order: each as its
/// doc comment, `name: type` (`f32`: always there; `Option<f32> = default`: left out of the serde
/// form when `None`, and `None` when absent from it). `epoch: u32` comes first and is not listed. This table is the only list of the fields:
/// the struct, its serde form, the bits object, the CSV columns and the decoders follow it.
#[macro_export]
macro_rules! record_floats {
    ($callback:ident) => {
        $callback! {
            /// Mean training loss of the epoch.
            train_loss: f32,
            /// Training accuracy (classification).
            train_acc: Option<f32> = default,
            /// Mean validation loss (`None` without validation data).
            val_loss: Option<f32> = default,
            /// Validation accuracy (classification).
            val_acc: Option<f32> = default,
            /// Learning rate used during the epoch.
            lr: f32,
            /// Validation macro F1 (classification).
            val_f1: Option<f32> = default,
            /// Training mean absolute error (regression).
            train_mae: Option<f32> = default,
            /// Validation mean absolute error (regression).
            val_mae: Option<f32> = default,
            /// Validation root mean squared error (regression).
            val_rmse: Option<f32> = default,
        }
    };
}

/// A float field of [`EpochRecord`]: `f32` (always there) or `Option<f32>`.
pub trait Field: Copy {
    /// Its bit pattern on the wire: `u32` or `Option<u32>`.
    type Bits: Copy + Default + Eq + core::fmt::Debug + Absent;
    /// The value, `None` when absent.
    fn value(self) -> Option<f32>;
    /// The field holding `value`; `None` if a required field is absent.
    fn from_value(value: Option<f32>) -> Option<Self>;
    /// `f32::to_bits` of the value.
    fn to_bits(self) -> Self::Bits;
    /// The field whose bits are `bits`.
    fn from_bits(bits: Self::Bits) -> Self;
}

impl Field for f32 {
    type Bits = u32;
    fn value(self) -> Option<f32> {
        Some(self)
    }
    fn from_value(value: Option<f32>) -> Option<Self> {
        value
    }
    fn to_bits(self) -> u32 {
        f32::to_bits(self)
    }
    fn from_bits(bits: u32) -> Self {
        f32::from_bits(bits)
    }
}

impl Field for Option<f32> {
    type Bits = Option<u32>;
    fn value(self) -> Option<f32> {
        self
    }
    fn from_value(value: Option<f32>) -> Option<Self> {
        Some(value)
    }
    fn to_bits(self) -> Option<u32> {
        self.map(f32::to_bits)
    }
    fn from_bits(bits: Option<u32>) -> Self {
        bits.map(f32::from_bits)
    }
}

/// Whether a field is left out of a serde form (`skip_serializing_if`): only an `Option`'s `None`.
pub trait Absent {
    /// `true`: leave the field out.
    fn absent(&self) -> bool;
}

impl Absent for u32 {
    fn absent(&self) -> bool {
        false
    }
}

impl Absent for f32 {
    fn absent(&self) -> bool {
        false
    }
}

impl<T> Absent for Option<T> {
    fn absent(&self) -> bool {
        self.is_none()
    }
}

macro_rules! define_record {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty $(= $default:ident)?, )*) => {
        /// Metrics of one epoch. Accuracies are fractions in `[0, 1]`.
        ///
        /// `train_loss` is the mean per-sample loss accumulated *during* the epoch's training pass
        /// (before each update, dropout active: PyTorch's usual `running_loss / n`). `val_*` are
        /// computed in eval mode after the epoch's last update. Classification fills `train_acc`,
        /// `val_acc` and `val_f1` (macro F1); regression fills `train_mae`, `val_mae` and `val_rmse`
        /// (in the target's original units). The fields are listed once, in [`record_floats!`].
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct EpochRecord {
            /// 1-based epoch number.
            pub epoch: u32,
            $(
                $(#[$doc])*
                #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Absent::absent"))]
                #[cfg_attr(feature = "serde", serde(with = "json_float"))]
                $(#[cfg_attr(feature = "serde", serde($default))])?
                pub $name: $ty,
            )*
        }

        /// The number of float fields (all but `epoch`).
        pub const FLOATS: usize = [$(stringify!($name)),*].len();

        impl EpochRecord {
            /// The float fields' names, in order.
            pub const FLOAT_NAMES: [&'static str; FLOATS] = [$(stringify!($name)),*];
            /// Every field's name, comma-separated: the header of `metrics.csv`.
            pub const CSV_HEADER: &'static str = concat!("epoch" $(, ",", stringify!($name))*);

            /// The float fields' values, in [`Self::FLOAT_NAMES`] order (`None`: absent).
            pub fn floats(&self) -> [Option<f32>; FLOATS] {
                [$(Field::value(self.$name)),*]
            }

            /// The record of `epoch` with these float values; `None` if a required one is absent.
            pub fn from_floats(epoch: u32, floats: [Option<f32>; FLOATS]) -> Option<Self> {
                let [$($name),*] = floats;
                Some(Self { epoch, $($name: Field::from_value($name)?),* })
            }
        }
    };
}

record_floats!(define_record);

/// The record's floats in JSON (`metrics.jsonl`, frames): a finite value as a number; `NaN`,
/// infinity and minus infinity, which JSON numbers cannot hold, as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"` (as Python's `json` and JavaScript spell them), never `null`, so
/// that no reader mistakes them for an absent value. Reading accepts numbers and those strings.
#[cfg(feature = "serde")]
pub mod json_float {
    use super::Field;
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    /// Writes a value as a number, or a non-finite one as its string.
    pub fn serialize<T: Field, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        match value.value() {
            None => s.serialize_none(),
            Some(v) if v.is_finite() => s.serialize_f32(v),
            Some(v) if v.is_nan() => s.serialize_str("NaN"),
            Some(v) if v > 0.0 => s.serialize_str("Infinity"),
            Some(_) => s.serialize_str("-Infinity"),
        }
    }

    /// Reads a number, one of the three strings, or `null` (absent).
    pub fn deserialize<'de, T: Field, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        struct Float;
        impl<'de> Visitor<'de> for Float {
            type Value = Option<f32>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Some(v as f32))
            }
            fn visit_f32<E: Error>(self, v: f32) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v as f32))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v as f32))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "NaN" => Ok(Some(f32::NAN)),
                    "Infinity" => Ok(Some(f32::INFINITY)),
                    "-Infinity" => Ok(Some(f32::NEG_INFINITY)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(Float)
            }
            /// serde_json with `arbitrary_precision` (which defmt-decoder turns on) hands a number to
            /// `deserialize_any` as a one-entry map holding its text.
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let Some(serde::de::IgnoredAny) = map.next_key()? else {
                    return Err(A::Error::invalid_length(0, &self));
                };
                map.next_value_seed(NumberText)
            }
        }
        /// A number's text, parsed where it lies (no allocation).
        struct NumberText;
        impl<'de> serde::de::DeserializeSeed<'de> for NumberText {
            type Value = Option<f32>;
            fn deserialize<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_str(self)
            }
        }
        impl<'de> Visitor<'de> for NumberText {
            type Value = Option<f32>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a number's text")
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse::<f64>()
                    .map(|n| Some(n as f32))
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        let value = d.deserialize_any(Float)?;
        T::from_value(value).ok_or_else(|| D::Error::custom("a required value is null"))
    }
}

impl EpochRecord {
    /// The human-readable line, e.g.
    /// `Epoch 3/30 | Train Loss: 0.2713 | Train Acc: 92.41% | Val Loss: 0.2480 | Val Acc: 93.06%`
    /// (regression shows MAE instead of accuracy).
    ///
    /// ```
    /// use tinytrain::record::EpochRecord;
    /// let r = EpochRecord { epoch: 3, train_loss: 0.27131, train_acc: Some(0.92412), val_loss: Some(0.248),
    ///                       val_acc: Some(0.930_56), ..Default::default() };
    /// assert_eq!(r.line(30).to_string(),
    ///            "Epoch 3/30 | Train Loss: 0.2713 | Train Acc: 92.41% | Val Loss: 0.2480 | Val Acc: 93.06%");
    /// ```
    pub fn line(&self, epochs: u32) -> impl core::fmt::Display + '_ {
        Line {
            record: self,
            epochs,
        }
    }
}

struct Line<'a> {
    record: &'a EpochRecord,
    epochs: u32,
}

impl core::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let r = self.record;
        write!(
            f,
            "Epoch {}/{} | Train Loss: {:.4}",
            r.epoch, self.epochs, r.train_loss
        )?;
        if let Some(acc) = r.train_acc {
            write!(f, " | Train Acc: {:.2}%", acc * 100.0)?;
        }
        if let Some(mae) = r.train_mae {
            write!(f, " | Train MAE: {mae:.4}")?;
        }
        if let Some(loss) = r.val_loss {
            write!(f, " | Val Loss: {loss:.4}")?;
        }
        if let Some(acc) = r.val_acc {
            write!(f, " | Val Acc: {:.2}%", acc * 100.0)?;
        }
        if let Some(mae) = r.val_mae {
            write!(f, " | Val MAE: {mae:.4}")?;
        }
        Ok(())
    }
}
