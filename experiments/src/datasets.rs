//! The project's bundled datasets, embedded in the binary as [`Table`]s (see `build.rs`).
//!
//! A sample is converted to `f32` only when it is loaded, exactly: each value is stored in the
//! narrowest [`Encoding`] that gives back the very `f32` a host parsing
//! the CSV gets (a digit pixel `0..=16` in one byte, an iris length in four). So the bytes in a
//! microcontroller's flash and the CSV on a host feed the network identical inputs.

use tinytrain::data::{Dataset, Target};

use crate::table::{Encoding, Table, Targets};

mod bundled {
    use super::{Encoding, Table, Targets};
    include!(concat!(env!("OUT_DIR"), "/tables.rs"));
}

/// UCI optical handwritten digits (scikit-learn's `load_digits`): 1797 images of 8 × 8 pixels with
/// intensities `0..=16`, 10 classes.
///
/// ```
/// use tinytrain::data::{Dataset, Target};
/// use tinytrain_experiments::datasets::DIGITS;
/// let mut x = [0.0; 64];
/// DIGITS.load(0, &mut x);
/// assert_eq!((DIGITS.len(), x[2], DIGITS.target(0)), (1797, 5.0, Target::Class(0)));
/// ```
pub static DIGITS: Table = bundled::DIGITS;

/// Fisher's iris (UCI): 150 flowers, 4 measurements in cm, 3 species.
///
/// ```
/// use tinytrain::data::{Dataset, Target};
/// use tinytrain_experiments::datasets::IRIS;
/// let mut x = [0.0; 4];
/// IRIS.load(0, &mut x);
/// assert_eq!((x, IRIS.target(149)), ([5.1, 3.5, 1.4, 0.2], Target::Class(2)));
/// ```
pub static IRIS: Table = bundled::IRIS;

/// The dataset an experiment trains on, with the facts about it that size buffers at compile time.
///
/// It refers to its data through `dyn Dataset`, so a program links only the tables of the datasets
/// its experiments use (an enum's `match` would pull every dataset into flash).
///
/// ```
/// use tinytrain::data::Dataset;
/// use tinytrain_experiments::datasets::DataSource;
/// let iris = DataSource::IRIS;
/// assert_eq!((iris.name(), iris.rows(), iris.len(), iris.classes()), ("iris", 150, 150, 3));
/// ```
#[derive(Clone, Copy)]
pub struct DataSource {
    name: &'static str,
    rows: usize,
    features: usize,
    classes: usize,
    data: &'static (dyn Dataset + Sync),
}

impl DataSource {
    /// [`DIGITS`].
    pub const DIGITS: DataSource = DataSource::new(
        "digits",
        bundled::DIGITS_ROWS,
        bundled::DIGITS.features,
        bundled::DIGITS_CLASSES,
        &DIGITS,
    );
    /// [`IRIS`].
    pub const IRIS: DataSource = DataSource::new(
        "iris",
        bundled::IRIS_ROWS,
        bundled::IRIS.features,
        bundled::IRIS_CLASSES,
        &IRIS,
    );

    /// A dataset called `name` of `rows` rows of `features` features and `classes` classes (0:
    /// regression): what a generated experiment (`tinytrain train --device`) declares for its
    /// [`Table`].
    pub const fn new(
        name: &'static str,
        rows: usize,
        features: usize,
        classes: usize,
        data: &'static (dyn Dataset + Sync),
    ) -> Self {
        Self {
            name,
            rows,
            features,
            classes,
            data,
        }
    }

    /// The file stem of the CSV the data comes from (`data/<name>.csv`).
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// Number of classes.
    pub const fn classes(self) -> usize {
        self.classes
    }

    /// Number of rows.
    pub const fn rows(self) -> usize {
        self.rows
    }

    /// Number of features.
    pub const fn features(self) -> usize {
        self.features
    }
}

impl core::fmt::Debug for DataSource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataSource")
            .field("name", &self.name)
            .field("rows", &self.rows)
            .field("features", &self.features)
            .field("classes", &self.classes)
            .finish()
    }
}

impl PartialEq for DataSource {
    /// Data sources are equal when they describe the same dataset (by name and shape).
    fn eq(&self, other: &Self) -> bool {
        (self.name, self.rows, self.features, self.classes)
            == (other.name, other.rows, other.features, other.classes)
    }
}

impl Dataset for DataSource {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn features(&self) -> usize {
        self.features
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        self.data.load(index, out);
    }

    fn target(&self, index: usize) -> Target {
        self.data.target(index)
    }

    fn target_width(&self) -> usize {
        self.data.target_width()
    }

    fn load_target(&self, index: usize, out: &mut [f32]) {
        self.data.load_target(index, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_declared_shapes() {
        for source in [DataSource::DIGITS, DataSource::IRIS] {
            assert_eq!(
                source.features(),
                source.data.features(),
                "{}",
                source.name()
            );
            assert_eq!(source.len(), source.rows(), "{}", source.name());
            let classes = (0..source.len())
                .filter_map(|i| source.target(i).class())
                .max();
            assert_eq!(classes, Some(source.classes() as u16 - 1));
        }
        assert_eq!(DIGITS.encoding, Encoding::U8);
        assert_eq!(DIGITS.x.len(), 1797 * 64);
        assert!(DIGITS.x.iter().all(|&p| p <= 16));
        assert_eq!(IRIS.encoding, Encoding::F32);
        assert_eq!(IRIS.x.len(), 150 * 4 * 4);
    }

    #[test]
    fn rows_equal_the_csv_parsed_as_f32() {
        // What a host reading the CSV gets must be what the embedded tables give, bit for bit.
        for (source, file) in [
            (DataSource::DIGITS, "digits.csv"),
            (DataSource::IRIS, "iris.csv"),
        ] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/").to_string() + file;
            let text = std::fs::read_to_string(path).unwrap();
            let mut row = vec![0.0f32; source.features()];
            for (i, line) in text.lines().skip(1).enumerate() {
                let cells: Vec<&str> = line.split(',').collect();
                source.load(i, &mut row);
                let parsed: Vec<f32> = cells[..source.features()]
                    .iter()
                    .map(|c| c.parse().unwrap())
                    .collect();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&row), bits(&parsed), "{file} row {i}");
                assert_eq!(
                    source.target(i).class(),
                    Some(cells[source.features()].parse().unwrap())
                );
            }
        }
    }
}
