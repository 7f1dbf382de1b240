//! Any numeric table in flash: the features of every row in the narrowest encoding that holds them
//! exactly, and one class index or `f32` target per row.
//!
//! `tinytrain train --device` writes a user's CSV this way (as the `f32` values the host parsed, so
//! the device trains on the host's numbers bit for bit); [`Encoding::narrowest`] picks the width.
//!
//! ```
//! use tinytrain::data::{Dataset, Target};
//! use tinytrain_experiments::table::{Encoding, Table, Targets};
//! let values = [1.0f32, 2.0, 250.0, 3.0];
//! let encoding = Encoding::narrowest(values.iter().copied());
//! assert_eq!(encoding, Encoding::U8);
//! let mut bytes = [0u8; 4];
//! for (v, out) in values.iter().zip(bytes.chunks_exact_mut(encoding.width())) {
//!     encoding.encode(*v, out);
//! }
//! const LABELS: &[u8] = &[0, 1];
//! let table = Table { features: 2, encoding, x: &bytes, y: Targets::Classes(LABELS) };
//! let mut row = [0.0; 2];
//! table.load(1, &mut row);
//! assert_eq!((table.len(), row, table.target(1)), (2, [250.0, 3.0], Target::Class(1)));
//! ```

use tinytrain::data::{Dataset, Target};

/// How one feature value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// An integer in `0..=255`.
    U8,
    /// An integer in `-32768..=32767`.
    I16,
    /// Any `f32`, little-endian.
    F32,
}

impl Encoding {
    /// Bytes per value.
    pub const fn width(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::I16 => 2,
            Encoding::F32 => 4,
        }
    }

    /// The narrowest encoding that gives back every one of `values` bit for bit (so `-0.0` and
    /// `0.5` need `F32`).
    pub fn narrowest(values: impl Iterator<Item = f32> + Clone) -> Self {
        let exact = |decode: fn(f32) -> Option<f32>| {
            values
                .clone()
                .all(|v| decode(v).is_some_and(|back| back.to_bits() == v.to_bits()))
        };
        if exact(|v| (0.0..=255.0).contains(&v).then(|| f32::from(v as u8))) {
            Encoding::U8
        } else if exact(|v| {
            (-32768.0..=32767.0)
                .contains(&v)
                .then(|| f32::from(v as i16))
        }) {
            Encoding::I16
        } else {
            Encoding::F32
        }
    }

    /// Writes `value` into `out` (`width()` bytes). The caller has chosen an encoding that holds
    /// it ([`Encoding::narrowest`]).
    pub fn encode(self, value: f32, out: &mut [u8]) {
        match self {
            Encoding::U8 => out[..1].copy_from_slice(&[value as u8]),
            Encoding::I16 => out[..2].copy_from_slice(&(value as i16).to_le_bytes()),
            Encoding::F32 => out[..4].copy_from_slice(&value.to_le_bytes()),
        }
    }

    /// The value `bytes` (`width()` long) hold.
    pub fn decode(self, bytes: &[u8]) -> f32 {
        match (self, bytes) {
            (Encoding::U8, [b, ..]) => f32::from(*b),
            (Encoding::I16, [a, b, ..]) => f32::from(i16::from_le_bytes([*a, *b])),
            (Encoding::F32, [a, b, c, d, ..]) => f32::from_le_bytes([*a, *b, *c, *d]),
            _ => f32::NAN,
        }
    }
}

/// The targets of a table, one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// A class index per row (one byte: at most [`MAX_CLASSES`](crate::run::MAX_CLASSES) classes).
    Classes(&'static [u8]),
    /// An `f32` per row, little-endian (regression).
    Values(&'static [u8]),
}

/// A dataset stored as bytes: `x` holds `features` values per row in `encoding`, row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// Values per row.
    pub features: usize,
    /// How each value is stored.
    pub encoding: Encoding,
    /// The values.
    pub x: &'static [u8],
    /// The targets.
    pub y: Targets,
}

impl Dataset for Table {
    fn len(&self) -> usize {
        match self.y {
            Targets::Classes(classes) => classes.len(),
            Targets::Values(values) => values.len() / 4,
        }
    }

    fn features(&self) -> usize {
        self.features
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        let width = self.encoding.width();
        let row = self
            .x
            .chunks_exact(width * self.features)
            .nth(index)
            .unwrap_or(&[]);
        for (o, bytes) in out.iter_mut().zip(row.chunks_exact(width)) {
            *o = self.encoding.decode(bytes);
        }
    }

    fn target(&self, index: usize) -> Target {
        match self.y {
            Targets::Classes(classes) => {
                Target::Class(u16::from(classes.get(index).copied().unwrap_or(0)))
            }
            Targets::Values(values) => Target::Value(
                values
                    .chunks_exact(4)
                    .nth(index)
                    .map_or(f32::NAN, |bytes| Encoding::F32.decode(bytes)),
            ),
        }
    }
}
