//! The project's datasets, embedded in the binary as compact tables (see `build.rs`).
//!
//! A sample is converted to `f32` only when it is loaded, exactly: a digit pixel `0..=16` is an
//! integer, an iris feature is stored as the very `f32` a host parsing the CSV gets. So the bytes in
//! a microcontroller's flash and the CSV on a host feed the network identical inputs.

use tinytrain::data::{Dataset, Target};

/// Pixels of `digits.csv`, 64 per row, `0..=16`.
static DIGITS_PIXELS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/digits_pixels.bin"));
/// Labels of `digits.csv`, `0..=9`: one per row.
static DIGITS_LABELS: &[u8] = DIGITS_LABEL_BYTES;
const DIGITS_LABEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/digits_labels.bin"));
/// Features of `iris.csv`, 4 per row, `f32` little-endian.
static IRIS_FEATURES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/iris_features.bin"));
/// Labels of `iris.csv`, `0..=2`: one per row.
static IRIS_LABELS: &[u8] = IRIS_LABEL_BYTES;
const IRIS_LABEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/iris_labels.bin"));

/// UCI optical handwritten digits (scikit-learn's `load_digits`): 1797 images of 8 × 8 pixels with
/// intensities `0..=16`, 10 classes.
///
/// ```
/// use tinytrain::data::{Dataset, Target};
/// use tinytrain_experiments::datasets::Digits;
/// let mut x = [0.0; 64];
/// Digits.load(0, &mut x);
/// assert_eq!((Digits.len(), x[2], Digits.target(0)), (1797, 5.0, Target::Class(0)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Digits;

impl Digits {
    /// Rows (1797: the rows of `data/digits.csv`).
    pub const ROWS: usize = DIGITS_LABEL_BYTES.len();
    /// Pixels per row.
    pub const FEATURES: usize = 64;
    /// Digit classes.
    pub const CLASSES: usize = 10;
}

impl Dataset for Digits {
    fn len(&self) -> usize {
        DIGITS_LABELS.len()
    }

    fn features(&self) -> usize {
        Self::FEATURES
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        let row = DIGITS_PIXELS
            .chunks_exact(Self::FEATURES)
            .nth(index)
            .unwrap_or(&[]);
        out.iter_mut()
            .zip(row)
            .for_each(|(o, &p)| *o = f32::from(p));
    }

    fn target(&self, index: usize) -> Target {
        Target::Class(u16::from(DIGITS_LABELS.get(index).copied().unwrap_or(0)))
    }
}

/// Fisher's iris (UCI): 150 flowers, 4 measurements in cm, 3 species.
///
/// ```
/// use tinytrain::data::{Dataset, Target};
/// use tinytrain_experiments::datasets::Iris;
/// let mut x = [0.0; 4];
/// Iris.load(0, &mut x);
/// assert_eq!((x, Iris.target(149)), ([5.1, 3.5, 1.4, 0.2], Target::Class(2)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Iris;

impl Iris {
    /// Rows (150: the rows of `data/iris.csv`).
    pub const ROWS: usize = IRIS_LABEL_BYTES.len();
    /// Measurements per row.
    pub const FEATURES: usize = 4;
    /// Species.
    pub const CLASSES: usize = 3;
}

impl Dataset for Iris {
    fn len(&self) -> usize {
        IRIS_LABELS.len()
    }

    fn features(&self) -> usize {
        Self::FEATURES
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        let row = IRIS_FEATURES
            .chunks_exact(4 * Self::FEATURES)
            .nth(index)
            .unwrap_or(&[]);
        for (o, bytes) in out.iter_mut().zip(row.chunks_exact(4)) {
            *o = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
    }

    fn target(&self, index: usize) -> Target {
        Target::Class(u16::from(IRIS_LABELS.get(index).copied().unwrap_or(0)))
    }
}

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
    /// [`Digits`].
    pub const DIGITS: DataSource = DataSource {
        name: "digits",
        rows: Digits::ROWS,
        features: Digits::FEATURES,
        classes: Digits::CLASSES,
        data: &Digits,
    };
    /// [`Iris`].
    pub const IRIS: DataSource = DataSource {
        name: "iris",
        rows: Iris::ROWS,
        features: Iris::FEATURES,
        classes: Iris::CLASSES,
        data: &Iris,
    };

    /// A dataset called `name` of `rows` rows of `features` features and `classes` classes (0:
    /// regression): what a generated experiment (`tinytrain train --device`) declares for its
    /// [`Table`](crate::table::Table).
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
        assert_eq!(DIGITS_PIXELS.len(), Digits::ROWS * Digits::FEATURES);
        assert!(DIGITS_PIXELS.iter().all(|&p| p <= 16));
        assert_eq!(IRIS_FEATURES.len(), Iris::ROWS * Iris::FEATURES * 4);
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
