//! Where samples come from: the [`Dataset`] trait, a stratified split and a shuffle.
//!
//! Datasets are read one sample at a time into the network's input buffer, so a firmware can keep its
//! data as bytes in flash and a host as `f32`s in memory.

use crate::rng::{stream, Pcg32};

mod ring;
pub use ring::Ring;

/// What a sample should produce.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Target {
    /// A class index, `0..classes`.
    Class(u16),
    /// A real value (regression).
    Value(f32),
}

impl Target {
    /// The class, if this is a class target.
    pub fn class(self) -> Option<u16> {
        match self {
            Target::Class(c) => Some(c),
            Target::Value(_) => None,
        }
    }

    /// The value (a class index as `f32` for class targets).
    pub fn value(self) -> f32 {
        match self {
            Target::Class(c) => f32::from(c),
            Target::Value(v) => v,
        }
    }
}

/// A source of samples, indexed `0..len()`.
pub trait Dataset {
    /// Number of samples.
    fn len(&self) -> usize;
    /// `true` when there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of features per sample.
    fn features(&self) -> usize;
    /// Writes sample `index`'s features into `out` (`features()` long).
    fn load(&self, index: usize, out: &mut [f32]);
    /// Sample `index`'s target.
    fn target(&self, index: usize) -> Target;
    /// Number of target values per sample for a regression head: 1, or `k` for a multi-output
    /// regression (an autoencoder's is [`Dataset::features`]), which then implements
    /// [`Dataset::load_target`].
    fn target_width(&self) -> usize {
        1
    }
    /// Writes sample `index`'s regression target into `out` ([`Dataset::target_width`] long): by
    /// default the value of [`Dataset::target`].
    fn load_target(&self, index: usize, out: &mut [f32]) {
        if let Some(first) = out.first_mut() {
            *first = self.target(index).value();
        }
    }
}

/// What a [`Transformed`] dataset does to each sample as it is loaded (standardisation, an
/// injected fault, …).
pub trait Transform {
    /// Changes the loaded features of sample `index` in place.
    fn features(&self, _index: usize, _row: &mut [f32]) {}
    /// Changes a sample's target.
    fn target(&self, target: Target) -> Target {
        target
    }
    /// Changes the loaded regression target of sample `index` in place: by default a single value
    /// as [`Transform::target`] changes it, and several values not at all.
    fn targets(&self, _index: usize, values: &mut [f32]) {
        if let [value] = values {
            *value = self.target(Target::Value(*value)).value();
        }
    }
}

/// `data` with `transform` applied to every sample as it is loaded: the one dataset adapter.
#[derive(Clone, Copy, Debug)]
pub struct Transformed<'a, D, T> {
    /// The dataset underneath.
    pub data: &'a D,
    /// What loading does to each sample.
    pub transform: T,
}

impl<D: Dataset, T: Transform> Dataset for Transformed<'_, D, T> {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn features(&self) -> usize {
        self.data.features()
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        self.data.load(index, out);
        self.transform.features(index, out);
    }

    fn target(&self, index: usize) -> Target {
        self.transform.target(self.data.target(index))
    }

    fn target_width(&self) -> usize {
        self.data.target_width()
    }

    fn load_target(&self, index: usize, out: &mut [f32]) {
        self.data.load_target(index, out);
        self.transform.targets(index, out);
    }
}

/// A dataset over borrowed row-major `f32` features and class labels or values.
///
/// ```
/// use tinytrain::data::{Dataset, SliceDataset, Target};
/// let d = SliceDataset::regression(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, 1.5]);
/// let mut x = [0.0; 2];
/// d.load(1, &mut x);
/// assert_eq!((x, d.target(1)), ([3.0, 4.0], Target::Value(1.5)));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SliceDataset<'a> {
    features: &'a [f32],
    width: usize,
    targets: Targets<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Targets<'a> {
    Classes(&'a [u16]),
    /// `outputs` values per row, row-major.
    Values {
        values: &'a [f32],
        outputs: usize,
    },
}

impl<'a> SliceDataset<'a> {
    /// Classification data: `features.len() == width · labels.len()`.
    pub fn classification(features: &'a [f32], width: usize, labels: &'a [u16]) -> Self {
        Self {
            features,
            width,
            targets: Targets::Classes(labels),
        }
    }

    /// Regression data: `features.len() == width · values.len()`.
    pub fn regression(features: &'a [f32], width: usize, values: &'a [f32]) -> Self {
        Self::regression_outputs(features, width, values, 1)
    }

    /// Regression data with `outputs` targets per row (a multi-output head), row-major:
    /// `values.len() == outputs · rows`. `outputs == 0` is taken as 1.
    ///
    /// ```
    /// use tinytrain::data::{Dataset, SliceDataset, Target};
    /// let d = SliceDataset::regression_outputs(&[1.0, 2.0], 1, &[10.0, 11.0, 20.0, 21.0], 2);
    /// let mut y = [0.0; 2];
    /// d.load_target(1, &mut y);
    /// assert_eq!((d.len(), d.target_width(), y), (2, 2, [20.0, 21.0]));
    /// assert_eq!(d.target(1), Target::Value(20.0)); // the first target
    /// ```
    pub fn regression_outputs(
        features: &'a [f32],
        width: usize,
        values: &'a [f32],
        outputs: usize,
    ) -> Self {
        Self {
            features,
            width,
            targets: Targets::Values {
                values,
                outputs: outputs.max(1),
            },
        }
    }
}

impl Dataset for SliceDataset<'_> {
    fn len(&self) -> usize {
        match self.targets {
            Targets::Classes(c) => c.len(),
            Targets::Values { values, outputs } => values.len() / outputs,
        }
    }

    fn features(&self) -> usize {
        self.width
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        let row = self
            .features
            .chunks_exact(self.width)
            .nth(index)
            .unwrap_or(&[]);
        out.iter_mut().zip(row).for_each(|(o, &x)| *o = x);
    }

    fn target(&self, index: usize) -> Target {
        match self.targets {
            Targets::Classes(c) => Target::Class(c.get(index).copied().unwrap_or(0)),
            Targets::Values { values, outputs } => Target::Value(
                index
                    .checked_mul(outputs)
                    .and_then(|at| values.get(at))
                    .copied()
                    .unwrap_or(0.0),
            ),
        }
    }

    fn target_width(&self) -> usize {
        match self.targets {
            Targets::Classes(_) => 1,
            Targets::Values { outputs, .. } => outputs,
        }
    }

    fn load_target(&self, index: usize, out: &mut [f32]) {
        match self.targets {
            Targets::Values { values, outputs } => {
                let row = values.chunks_exact(outputs).nth(index).unwrap_or(&[]);
                out.iter_mut().zip(row).for_each(|(o, &y)| *o = y);
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

/// `data` as its own target: an autoencoder learns to reconstruct each sample's features (its
/// [`Dataset::load_target`] is [`Dataset::load`]). [`Dataset::target`] stays `data`'s (a label, for
/// a stratified split, or to score anomalies against). Wrap the dataset the network reads, after
/// any standardisation, so that the network reconstructs what it is given.
///
/// ```
/// use tinytrain::data::{Dataset, Reconstruct, SliceDataset};
/// let d = SliceDataset::classification(&[1.0, 2.0, 3.0, 4.0], 2, &[0, 1]);
/// let ae = Reconstruct(&d);
/// let mut y = [0.0; 2];
/// ae.load_target(1, &mut y);
/// assert_eq!((ae.target_width(), y), (2, [3.0, 4.0]));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Reconstruct<'a, D>(pub &'a D);

impl<D: Dataset> Dataset for Reconstruct<'_, D> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn features(&self) -> usize {
        self.0.features()
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        self.0.load(index, out);
    }

    fn target(&self, index: usize) -> Target {
        self.0.target(index)
    }

    fn target_width(&self) -> usize {
        self.0.features()
    }

    fn load_target(&self, index: usize, out: &mut [f32]) {
        self.0.load(index, out);
    }
}

/// Fisher–Yates shuffle (Durstenfeld's in-place form), drawing from `rng`.
pub fn shuffle<T>(items: &mut [T], rng: &mut Pcg32) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        // `items.swap(i, j)` for `j ≤ i < len`, said with `get` (no panic path; `j == i` is a no-op).
        if let Some((last, before)) = items.get_mut(..=i).and_then(<[T]>::split_last_mut) {
            if let Some(other) = before.get_mut(j) {
                core::mem::swap(last, other);
            }
        }
    }
}

/// Number of validation samples out of `n` for a fraction: `round(n · fraction)`.
pub fn validation_count(n: usize, fraction: f32) -> usize {
    libm::roundf(n as f32 * fraction) as usize
}

/// The integer a buffer of row indices holds: `u16` for datasets of up to 65 536 rows (half the
/// RAM of `u32` on a microcontroller), `u32` beyond. The split, the training order and the
/// validation rows are buffers of it; every computation is the same for either.
pub trait RowIndex: Copy + Ord + Default + 'static {
    /// Rows a buffer of this type can index.
    const MAX_ROWS: usize;
    /// Row 0 (a zeroed buffer's value, usable in `const` code).
    const ZERO: Self;
    /// `row` as this type (`row < MAX_ROWS`, which [`split`] checks).
    fn from_row(row: usize) -> Self;
    /// The row.
    fn row(self) -> usize;
}

impl RowIndex for u16 {
    const MAX_ROWS: usize = 1 << 16;
    const ZERO: Self = 0;
    fn from_row(row: usize) -> Self {
        row as u16
    }
    fn row(self) -> usize {
        usize::from(self)
    }
}

impl RowIndex for u32 {
    const MAX_ROWS: usize = (u32::MAX as usize).saturating_add(1);
    const ZERO: Self = 0;
    fn from_row(row: usize) -> Self {
        row as u32
    }
    fn row(self) -> usize {
        self as usize
    }
}

/// The row index type a dataset of `ROWS` rows needs: `<Select<{ROWS <= 65536}> as
/// Narrowest>::Index` is `u16` or `u32`, chosen at compile time (how an experiment sizes its index
/// buffers).
pub struct Select<const SMALL: bool>;

/// See [`Select`].
pub trait Narrowest {
    /// The index type.
    type Index: RowIndex;
}

impl Narrowest for Select<true> {
    type Index = u16;
}

impl Narrowest for Select<false> {
    type Index = u32;
}

/// Size of the target-value strata of a regression split.
pub const REGRESSION_STRATUM: usize = 20;

/// Splits `0..data.len()` into training and validation indices, stratified, into two buffers:
/// [`split_in_place`], then the validation indices copied into `validation`. `train` must hold
/// `data.len()` indices (it is the scratch space). Returns the lengths written to `train` and
/// `validation`; `None` if either buffer is too short, or the dataset has more rows than `I` can
/// index.
pub fn split<I: RowIndex>(
    data: &impl Dataset,
    classes: usize,
    fraction: f32,
    seed: u64,
    train: &mut [I],
    validation: &mut [I],
) -> Option<(usize, usize)> {
    let (n_train, n_val) = split_in_place(data, classes, fraction, seed, train)?;
    let held_out = train.get(n_train..n_train.checked_add(n_val)?)?;
    validation.get_mut(..n_val)?.copy_from_slice(held_out);
    Some((n_train, n_val))
}

/// Splits `0..data.len()` into training and validation indices, stratified, in one buffer of
/// `data.len()` indices: `rows[..n_train]` train and `rows[n_train..n_train + n_val]` validate
/// (every row is in one of them), so a split costs one index per row.
///
/// The indices are ordered into strata — by class for classification; for regression by target value,
/// cut into runs of [`REGRESSION_STRATUM`] consecutive values (so validation covers the whole range
/// of targets, not a lucky or unlucky corner of it). Within each stratum the indices are shuffled and
/// the first `round(len · fraction)` go to validation, but never the whole stratum: each keeps at
/// least one training row. Both lists come out sorted. Returns `(n_train, n_val)`; `None` if
/// `rows` is shorter than the dataset, or the dataset has more rows than `I` can index.
pub fn split_in_place<I: RowIndex>(
    data: &impl Dataset,
    classes: usize,
    fraction: f32,
    seed: u64,
    rows: &mut [I],
) -> Option<(usize, usize)> {
    let n = data.len();
    if n > I::MAX_ROWS {
        return None;
    }
    let all = rows.get_mut(..n)?;
    all.iter_mut()
        .enumerate()
        .for_each(|(i, slot)| *slot = I::from_row(i));
    // Ties are broken by index so that the order, and the split, are the same on every target.
    if classes == 0 {
        heapsort(all, &|i: I| {
            let value = data.target(i.row()).value();
            u64::from(total_order(value)) << 32 | i.row() as u64
        });
    } else {
        // `Option`'s order: no class first.
        let class = |i: I| data.target(i.row()).class().map_or(0, |c| u64::from(c) + 1);
        heapsort(all, &|i: I| class(i) << 32 | i.row() as u64);
    }
    let mut rng = Pcg32::new(seed, stream::SPLIT);
    // `all` is [training so far | validation so far | strata to come]: `n_train + n_val == start`.
    let (mut n_train, mut n_val, mut start) = (0, 0, 0);
    while start < n {
        let end = if classes == 0 {
            (start + REGRESSION_STRATUM).min(n)
        } else {
            let class = data.target(all[start].row()).class();
            start
                + all[start..]
                    .iter()
                    .take_while(|&&i| data.target(i.row()).class() == class)
                    .count()
        };
        let stratum = &mut all[start..end];
        shuffle(stratum, &mut rng);
        // Every stratum keeps a training row: a class seen only in validation cannot be learnt.
        let to_validation = validation_count(stratum.len(), fraction).min(stratum.len() - 1);
        // The stratum's training rows move to the end of the training part, swapped with the
        // validation rows there, which move up (their order does not matter: both parts are
        // sorted at the end).
        let kept = end - start - to_validation;
        for j in 0..kept {
            all.swap(n_train + j, start + to_validation + j);
        }
        n_train += kept;
        n_val += to_validation;
        start = end;
    }
    let by_index = |i: I| i.row() as u64;
    let (train, validation) = all.split_at_mut(n_train);
    heapsort(train, &by_index);
    heapsort(validation, &by_index);
    Some((n_train, n_val))
}

/// `x`'s place in [`f32::total_cmp`]'s order as an unsigned integer: the sign bit flipped for
/// positives, every bit flipped for negatives.
fn total_order(x: f32) -> u32 {
    let bits = x.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// Sorts `v` in place by ascending `key`, allocation-free, in `O(n log n)` comparisons: a heapsort of
/// a few hundred bytes of code instead of `core`'s pattern-defeating quicksort (about 7 KiB of flash
/// on a Cortex-M). Every key `split` sorts by is distinct (ties broken by index), so any correct
/// sort, stable or not, gives the same order as the `sort_unstable` it replaces. The key is a `dyn`
/// so that every sort of a row-index type shares one copy of the code. Out-of-range positions cannot
/// occur; they end the sort rather than panic. Never inlined: one copy serves all four sorts.
#[inline(never)]
fn heapsort<I: Copy>(v: &mut [I], key: &dyn Fn(I) -> u64) {
    let sift_down = |v: &mut [I], mut root: usize| loop {
        let child = 2 * root + 1;
        let (Some(&first), second) = (v.get(child), v.get(child + 1)) else {
            break;
        };
        let child = match second {
            Some(&second) if key(first) < key(second) => child + 1,
            _ => child,
        };
        let (Some(&parent), Some(&larger)) = (v.get(root), v.get(child)) else {
            break;
        };
        if key(parent) >= key(larger) {
            break;
        }
        v[root] = larger;
        v[child] = parent;
        root = child;
    };
    let n = v.len();
    for start in (0..n / 2).rev() {
        sift_down(v, start);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        if let Some(heap) = v.get_mut(..end) {
            sift_down(heap, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by hostile input: `--val-fraction 0.75` put both rows of a 2-row class into
    /// validation, so the network never saw the class. Every class keeps a training row.
    #[test]
    fn every_class_keeps_a_training_row() {
        let labels: Vec<u16> = [0, 0, 1, 1, 1, 1, 1, 1, 2].to_vec();
        let features = vec![0.0; labels.len()];
        let data = SliceDataset::classification(&features, 1, &labels);
        for fraction in [0.75f32, 0.9, 0.99] {
            let (mut train, mut val) = (vec![0u16; 9], vec![0u16; 9]);
            let (nt, nv) = split(&data, 3, fraction, 4, &mut train, &mut val).unwrap();
            for class in 0..3 {
                let in_train = train[..nt]
                    .iter()
                    .filter(|&&r| labels[usize::from(r)] == class)
                    .count();
                assert!(
                    in_train >= 1,
                    "fraction {fraction}: class {class} has no training row"
                );
            }
            assert_eq!(nt + nv, 9);
        }
    }

    #[test]
    fn stratified_split_keeps_class_proportions() {
        let labels: Vec<u16> = (0..100).map(|i| if i < 70 { 0 } else { 1 }).collect();
        let features = vec![0.0; 100];
        let data = SliceDataset::classification(&features, 1, &labels);
        let (mut train, mut val) = (vec![0u32; 100], vec![0u32; 100]);
        let (nt, nv) = split(&data, 2, 0.2, 9, &mut train, &mut val).unwrap();
        assert_eq!((nt, nv), (80, 20));
        let val_ones = val[..nv]
            .iter()
            .filter(|&&i| labels[i as usize] == 1)
            .count();
        assert_eq!(val_ones, 6); // round(30 · 0.2)
        let mut all: Vec<u32> = train[..nt].iter().chain(&val[..nv]).copied().collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<u32>>());
        // Same seed, same split; another seed, another split.
        let (mut t2, mut v2) = (vec![0u32; 100], vec![0u32; 100]);
        split(&data, 2, 0.2, 9, &mut t2, &mut v2).unwrap();
        assert_eq!(val[..nv], v2[..nv]);
        split(&data, 2, 0.2, 10, &mut t2, &mut v2).unwrap();
        assert_ne!(val[..nv], v2[..nv]);
    }

    #[test]
    fn regression_split_covers_the_target_range() {
        let values: Vec<f32> = (0..100).map(|i| ((i * 37) % 100) as f32).collect();
        let features = vec![0.0; 100];
        let data = SliceDataset::regression(&features, 1, &values);
        let (mut train, mut val) = (vec![0u32; 100], vec![0u32; 100]);
        let (nt, nv) = split(&data, 0, 0.2, 3, &mut train, &mut val).unwrap();
        assert_eq!((nt, nv), (80, 20));
        // Four validation values from each run of twenty consecutive targets.
        for stratum in 0..5 {
            let range = (stratum * 20) as f32..(stratum * 20 + 20) as f32;
            let inside = val[..nv]
                .iter()
                .filter(|&&i| range.contains(&values[i as usize]))
                .count();
            assert_eq!(inside, 4, "stratum {stratum}");
        }
    }

    #[test]
    fn heapsort_matches_sort_unstable() {
        let mut rng = Pcg32::new(5, 6);
        for n in [0usize, 1, 2, 3, 7, 64, 257] {
            let mut items: Vec<u32> = (0..n).map(|_| rng.below(50)).collect();
            let mut expected = items.clone();
            expected.sort_unstable();
            heapsort(&mut items, &|a| u64::from(a));
            assert_eq!(items, expected, "n = {n}");
        }
    }

    /// The integer key orders floats as `total_cmp` does: NaNs at both ends, -0 before +0.
    #[test]
    fn total_order_is_total_cmp() {
        let values = [
            f32::from_bits(0xffc0_0000), // -NaN
            f32::NEG_INFINITY,
            -1.5,
            -f32::MIN_POSITIVE,
            -0.0,
            0.0,
            f32::from_bits(1), // the smallest subnormal
            2.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for a in values {
            for b in values {
                assert_eq!(
                    total_order(a).cmp(&total_order(b)),
                    a.total_cmp(&b),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items: Vec<u32> = (0..50).collect();
        shuffle(&mut items, &mut Pcg32::new(1, 2));
        assert_ne!(items, (0..50).collect::<Vec<u32>>());
        items.sort();
        assert_eq!(items, (0..50).collect::<Vec<u32>>());
    }

    /// `split` against its definition, written out with `std`'s sort: strata in (key, index) order,
    /// each shuffled by the split's stream and cut at `min(round(len · fraction), len − 1)`, both
    /// lists sorted. Classification with uneven classes and regression, several fractions and seeds.
    #[test]
    fn split_equals_its_definition() {
        let mut rng = Pcg32::new(11, 12);
        let labels: Vec<u16> = (0..97).map(|_| rng.below(4) as u16).collect();
        let values: Vec<f32> = (0..97).map(|_| rng.below(30) as f32 - 15.0).collect();
        let features = [0.0; 97];
        let classes = SliceDataset::classification(&features, 1, &labels);
        let targets = SliceDataset::regression(&features, 1, &values);
        for (data, n_classes) in [(&classes, 4usize), (&targets, 0)] {
            for (fraction, seed) in [(0.2f32, 1u64), (0.5, 2), (0.9, 3), (0.0, 4)] {
                let mut order: Vec<u32> = (0..97).collect();
                if n_classes == 0 {
                    order.sort_by(|&a, &b| {
                        values[a as usize]
                            .total_cmp(&values[b as usize])
                            .then(a.cmp(&b))
                    });
                } else {
                    order.sort_by_key(|&i| (labels[i as usize], i));
                }
                let strata: Vec<&mut [u32]> = if n_classes == 0 {
                    order.chunks_mut(REGRESSION_STRATUM).collect()
                } else {
                    order
                        .chunk_by_mut(|&a, &b| labels[a as usize] == labels[b as usize])
                        .collect()
                };
                let mut stream = Pcg32::new(seed, stream::SPLIT);
                let (mut train, mut val) = (Vec::new(), Vec::new());
                for stratum in strata {
                    shuffle(stratum, &mut stream);
                    let cut = validation_count(stratum.len(), fraction).min(stratum.len() - 1);
                    val.extend_from_slice(&stratum[..cut]);
                    train.extend_from_slice(&stratum[cut..]);
                }
                train.sort_unstable();
                val.sort_unstable();
                let (mut t, mut v) = (vec![0u32; 97], vec![0u32; 97]);
                let (nt, nv) = split(data, n_classes, fraction, seed, &mut t, &mut v).unwrap();
                assert_eq!(t[..nt], train, "classes {n_classes}, fraction {fraction}");
                assert_eq!(v[..nv], val, "classes {n_classes}, fraction {fraction}");
                // One buffer: training then validation indices, the same lists.
                let mut rows = vec![0u32; 97];
                let (nt, nv) = split_in_place(data, n_classes, fraction, seed, &mut rows).unwrap();
                assert_eq!(
                    (rows[..nt].to_vec(), rows[nt..nt + nv].to_vec()),
                    (train, val)
                );
                assert_eq!(nt + nv, 97);
            }
        }
    }

    /// `u16` indexes up to 65 536 rows, and a dataset one row longer is refused, not truncated.
    #[test]
    fn the_index_type_bounds_the_rows() {
        let labels = vec![0u16; 65_537];
        let (mut train, mut val) = (vec![0u16; 65_537], vec![0u16; 65_537]);
        let fits = SliceDataset::classification(&[], 0, &labels[..65_536]);
        assert_eq!(
            split(&fits, 1, 0.5, 1, &mut train, &mut val),
            Some((32_768, 32_768))
        );
        let too_long = SliceDataset::classification(&[], 0, &labels);
        assert_eq!(split(&too_long, 1, 0.5, 1, &mut train, &mut val), None);
        let mut wide = (vec![0u32; 65_537], vec![0u32; 65_537]);
        assert!(split(&too_long, 1, 0.5, 1, &mut wide.0, &mut wide.1).is_some());
    }

    #[test]
    fn emptiness_and_width() {
        let data = SliceDataset::regression(&[1.0, 2.0, 3.0], 3, &[0.5]);
        assert!(!data.is_empty());
        assert_eq!((data.len(), data.features()), (1, 3));
        assert!(SliceDataset::regression(&[], 3, &[]).is_empty());
    }
}
