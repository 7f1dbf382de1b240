//! Any numeric table in flash: the features of every row in the narrowest encoding that holds them
//! exactly, and one class index or `f32` targets per row.
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
//! static X: [u8; 4] = [1, 2, 250, 3];
//! assert_eq!(bytes, X);
//! let table = Table { features: 2, encoding, x: &X, y: Targets::Classes(&[0, 1]) };
//! let mut row = [0.0; 2];
//! table.load(1, &mut row);
//! assert_eq!((table.len(), row, table.target(1)), (2, [250.0, 3.0], Target::Class(1)));
//! ```

use tinytrain::data::{Dataset, Target};

pub use crate::encoding::Encoding;

/// The targets of a table, one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// A class index per row (one byte: at most [`MAX_CLASSES`](crate::run::MAX_CLASSES) classes).
    Classes(&'static [u8]),
    /// `width` `f32`s per row, little-endian, row-major (regression: one target, or several with
    /// `tinytrain train --targets`).
    Values {
        /// The bytes.
        values: &'static [u8],
        /// Targets per row (at least 1).
        width: usize,
    },
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
            // `checked_div`: no division-by-zero panic path in the training step.
            Targets::Values { values, width } => values
                .len()
                .checked_div(width.saturating_mul(4))
                .unwrap_or(0),
        }
    }

    fn features(&self) -> usize {
        self.features
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        let stride = self.encoding.width() * self.features;
        let row = index
            .checked_mul(stride)
            .and_then(|start| self.x.get(start..start.checked_add(stride)?))
            .unwrap_or(&[]);
        self.encoding.decode_all(row, out);
    }

    fn target(&self, index: usize) -> Target {
        match self.y {
            Targets::Classes(classes) => {
                Target::Class(u16::from(classes.get(index).copied().unwrap_or(0)))
            }
            Targets::Values { values, width } => Target::Value(
                values
                    .chunks_exact(4)
                    .nth(index.saturating_mul(width))
                    .map_or(f32::NAN, |bytes| Encoding::F32.decode(bytes)),
            ),
        }
    }

    fn target_width(&self) -> usize {
        match self.y {
            Targets::Classes(_) => 1,
            Targets::Values { width, .. } => width.max(1),
        }
    }

    fn load_target(&self, index: usize, out: &mut [f32]) {
        match self.y {
            Targets::Values { values, width } => {
                let stride = width.max(1).saturating_mul(4);
                let row = index
                    .checked_mul(stride)
                    .and_then(|start| values.get(start..start.checked_add(stride)?))
                    .unwrap_or(&[]);
                Encoding::F32.decode_all(row, out);
            }
            // The class index as `f32`, as the trait's default.
            Targets::Classes(_) => {
                if let Some(first) = out.first_mut() {
                    *first = self.target(index).value();
                }
            }
        }
    }
}
