//! Feature standardisation with running statistics.
//!
//! The statistics are accumulated in one streaming pass over the *training* rows (Welford, so no
//! row is stored), then frozen: validation and later use only read them, like a normalisation
//! layer's running statistics in eval mode. The transform, per feature `j`:
//!
//! ```text
//! mean_j  = (1/n) Σ x_j                     (population statistics, as scikit-learn's StandardScaler)
//! var_j   = (1/n) Σ (x_j − mean_j)²
//! scale_j = 1 / sqrt(var_j + ε),  ε = 1e-5  (ε keeps constant features finite: they map to 0)
//! y_j     = (x_j − mean_j) · scale_j
//! ```

use crate::data::{Dataset, RowIndex, Target, Transform, Transformed};
use crate::metrics::Welford;

/// The `ε` added to every variance.
pub const EPSILON: f32 = 1e-5;

/// Per-feature standardiser for up to `N` features, with accumulators for `A` of them: `A = N`
/// (the default) to fit it, `A = 0` once fitted ([`Standardizer::frozen`], or
/// [`Standardizer::from_stats`]), so that the statistics a run keeps cost `8·N` bytes instead of
/// `24·N` (16 bytes of Welford accumulator per feature that only the fit reads).
///
/// ```
/// use tinytrain::normalize::Standardizer;
/// let mut s = Standardizer::<2>::new(2);
/// for row in [[1.0, 10.0], [3.0, 10.0]] { s.update(&row); }
/// s.freeze();
/// let mut x = [3.0, 10.0];
/// s.apply(&mut x);
/// assert!((x[0] - 1.0).abs() < 1e-4 && x[1] == 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<const N: usize, const A: usize = N> {
    features: usize,
    stats: [Welford; A],
    mean: [f32; N],
    scale: [f32; N],
    frozen: bool,
}

impl<const N: usize, const A: usize> Standardizer<N, A> {
    /// The identity for `features ≤ N` features (more are clamped), ready to accumulate the first
    /// `A` of them.
    pub const fn new(features: usize) -> Self {
        Self {
            features: if features < N { features } else { N },
            stats: [Welford::new(); A],
            mean: [0.0; N],
            scale: [1.0; N],
            frozen: false,
        }
    }

    /// Builds a frozen standardiser from known statistics (e.g. a saved manifest).
    pub fn from_stats(mean: &[f32], scale: &[f32]) -> Self {
        let mut s = Self::new(mean.len());
        s.mean.iter_mut().zip(mean).for_each(|(d, &m)| *d = m);
        s.scale.iter_mut().zip(scale).for_each(|(d, &v)| *d = v);
        s.frozen = true;
        s
    }

    /// Accumulates one training row; ignored once frozen.
    pub fn update(&mut self, row: &[f32]) {
        if !self.frozen {
            accumulate(&mut self.stats[..self.features.min(A)], row);
        }
    }

    /// Fixes `mean` and `scale` from the statistics accumulated so far.
    pub fn freeze(&mut self) {
        let stats = &self.stats[..self.features.min(A)];
        freeze(stats, &mut self.mean, &mut self.scale);
        self.frozen = true;
    }

    /// One streaming pass over `rows` of `data`, then [`Standardizer::freeze`]. `scratch` holds one row.
    pub fn fit<I: RowIndex>(&mut self, data: &impl Dataset, rows: &[I], scratch: &mut [f32]) {
        for &i in rows {
            data.load(i.row(), scratch);
            self.update(scratch);
        }
        self.freeze();
    }

    /// [`Standardizer::fit`] with the caller's `accumulators` (overwritten), to the same bits: how
    /// a standardiser without its own (`A = 0`) is fitted, the accumulators gone (e.g. a stack
    /// frame) once it is. With `k` accumulators for more than `k` features, it makes
    /// `⌈features / k⌉` passes over the rows, `k` features at a time: each feature's accumulator
    /// still sees its values in row order, so the statistics are the same, for less RAM and more
    /// passes. Ignored once frozen, and without accumulators.
    pub fn fit_with<I: RowIndex>(
        &mut self,
        accumulators: &mut [Welford],
        data: &impl Dataset,
        rows: &[I],
        scratch: &mut [f32],
    ) {
        if self.frozen || accumulators.is_empty() {
            return;
        }
        let k = accumulators.len();
        let mut start = 0;
        while start < self.features {
            let end = self.features.min(start.saturating_add(k));
            let (Some(stats), Some(mean), Some(scale)) = (
                accumulators.get_mut(..end - start),
                self.mean.get_mut(start..),
                self.scale.get_mut(start..),
            ) else {
                return;
            };
            stats.fill(Welford::new());
            for &i in rows {
                data.load(i.row(), scratch);
                accumulate(stats, scratch.get(start..).unwrap_or(&[]));
            }
            freeze(stats, mean, scale);
            start = end;
        }
        self.frozen = true;
    }

    /// The same standardiser without accumulators (what a run keeps once the fit is done).
    pub fn frozen(&self) -> Standardizer<N, 0> {
        Standardizer {
            features: self.features,
            stats: [],
            mean: self.mean,
            scale: self.scale,
            frozen: self.frozen,
        }
    }

    /// `true` once the statistics are fixed.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Per-feature means.
    pub fn mean(&self) -> &[f32] {
        &self.mean[..self.features]
    }

    /// Per-feature `1/sqrt(var + ε)`.
    pub fn scale(&self) -> &[f32] {
        &self.scale[..self.features]
    }

    /// Standardises a row in place.
    pub fn apply(&self, row: &mut [f32]) {
        for ((x, &mean), &scale) in row
            .iter_mut()
            .zip(&self.mean)
            .zip(&self.scale)
            .take(self.features)
        {
            *x = (*x - mean) * scale;
        }
    }

    /// Undoes [`Standardizer::apply`] for one feature: `y / scale + mean`.
    pub fn invert(&self, feature: usize, y: f32) -> f32 {
        match (self.mean.get(feature), self.scale.get(feature)) {
            (Some(&mean), Some(&scale)) => y / scale + mean,
            _ => y,
        }
    }
}

/// Adds one row to its features' accumulators.
fn accumulate(stats: &mut [Welford], row: &[f32]) {
    stats.iter_mut().zip(row).for_each(|(w, &x)| w.update(x));
}

/// Each feature's `mean` and `scale` from its accumulator in `stats`.
fn freeze(stats: &[Welford], mean: &mut [f32], scale: &mut [f32]) {
    for ((w, mean), scale) in stats.iter().zip(mean).zip(scale) {
        *mean = w.mean();
        *scale = w.inverse_std(EPSILON);
    }
}

/// Standardisation of the features (and, for regression, the `M` targets, each by its own
/// statistics) as a [`Transform`]: what [`Standardized`] applies on the fly.
#[derive(Clone, Copy, Debug)]
pub struct Standardization<
    'a,
    const N: usize,
    const M: usize = 1,
    const A: usize = N,
    const B: usize = M,
> {
    features: Option<&'a Standardizer<N, A>>,
    target: Option<&'a Standardizer<M, B>>,
}

impl<const N: usize, const M: usize, const A: usize, const B: usize> Transform
    for Standardization<'_, N, M, A, B>
{
    fn features(&self, _index: usize, row: &mut [f32]) {
        if let Some(s) = self.features {
            s.apply(row);
        }
    }

    fn target(&self, target: Target) -> Target {
        match (target, self.target) {
            (Target::Value(v), Some(s)) => {
                let mut y = [v];
                s.apply(&mut y);
                Target::Value(y[0])
            }
            (t, _) => t,
        }
    }

    fn targets(&self, _index: usize, values: &mut [f32]) {
        if let Some(s) = self.target {
            s.apply(values);
        }
    }
}

/// A dataset whose features (and, for regression, targets) are standardised on the fly.
pub type Standardized<
    'a,
    D,
    const N: usize,
    const M: usize = 1,
    const A: usize = N,
    const B: usize = M,
> = Transformed<'a, D, Standardization<'a, N, M, A, B>>;

impl<'a, D: Dataset, const N: usize, const M: usize, const A: usize, const B: usize>
    Standardized<'a, D, N, M, A, B>
{
    /// Wraps `data`; `None` leaves features or targets as they are.
    pub fn new(
        data: &'a D,
        features: Option<&'a Standardizer<N, A>>,
        target: Option<&'a Standardizer<M, B>>,
    ) -> Self {
        Transformed {
            data,
            transform: Standardization { features, target },
        }
    }
}

impl<'a, D: Dataset, const N: usize, const A: usize> Standardized<'a, D, N, 1, A> {
    /// Wraps `data`, standardising its features only (a classification, or an autoencoder whose
    /// targets are its standardised inputs).
    pub fn features_only(data: &'a D, features: Option<&'a Standardizer<N, A>>) -> Self {
        Self::new(data, features, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SliceDataset;

    /// Rows 0, 1 and 3 of a dataset whose row 2 is far off: the fit reads only the rows it is given.
    #[test]
    fn fit_reads_the_given_rows_and_freezes() {
        let features = [1.0, 10.0, 3.0, 10.0, 1000.0, -1000.0, 5.0, 10.0];
        let data = SliceDataset::regression(&features, 2, &[0.0; 4]);
        let mut s = Standardizer::<2>::new(2);
        assert!(!s.is_frozen());
        s.fit(&data, &[0u16, 1, 3], &mut [0.0; 2]);
        assert!(s.is_frozen());
        assert_eq!(s.mean(), [3.0, 10.0]);
        // Population variance 8/3, and 0 for the constant feature (ε keeps it finite).
        let expected = [
            1.0 / libm::sqrtf(8.0 / 3.0 + EPSILON),
            1.0 / libm::sqrtf(EPSILON),
        ];
        for (got, want) in s.scale().iter().zip(expected) {
            assert!((got - want).abs() <= 1e-6 * want, "{got} vs {want}");
        }
        // Frozen: further rows change nothing.
        let before = s.clone();
        s.update(&[1e6, 1e6]);
        s.freeze();
        assert_eq!(s, before);
    }

    /// The caller's accumulators fit a standardiser without its own to the same bits, in one pass
    /// or, with fewer accumulators than features, in several.
    #[test]
    fn fit_with_the_callers_accumulators_gives_the_same_bits() {
        let rows = [1.0, 10.0, -2.0, 3.0, 12.5, 0.25, 8.0, 11.0, 7.0];
        let data = SliceDataset::regression(&rows, 3, &[0.0; 3]);
        let mut own = Standardizer::<4>::new(3);
        own.fit(&data, &[0u16, 2], &mut [0.0; 3]);
        for k in [4, 3, 2, 1] {
            let mut borrowed = Standardizer::<4, 0>::new(3);
            let mut accumulators = [Welford::new(); 4];
            accumulators[0].update(1e9); // stale values are reset first
            borrowed.fit_with(&mut accumulators[..k], &data, &[0u16, 2], &mut [0.0; 3]);
            assert!(borrowed.is_frozen());
            for (a, b) in [
                (borrowed.mean(), own.mean()),
                (borrowed.scale(), own.scale()),
            ] {
                assert_eq!(a.len(), 3);
                assert!(
                    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "k = {k}"
                );
            }
        }
        // No accumulators: nothing is fitted.
        let mut none = Standardizer::<4, 0>::new(3);
        none.fit_with(&mut [], &data, &[0u16], &mut [0.0; 3]);
        assert!(!none.is_frozen());
    }

    /// The frozen copy keeps the statistics and drops the accumulators (16 bytes a feature).
    #[test]
    fn a_frozen_copy_standardises_as_the_fitted_one() {
        let data = SliceDataset::regression(&[1.0, 10.0, 3.0, 12.0, 8.0, 11.0], 2, &[0.0; 3]);
        let mut fitted = Standardizer::<2>::new(2);
        fitted.fit(&data, &[0u16, 1, 2], &mut [0.0; 2]);
        let frozen = fitted.frozen();
        assert!(frozen.is_frozen());
        assert_eq!(
            (frozen.mean(), frozen.scale()),
            (fitted.mean(), fitted.scale())
        );
        let (mut a, mut b) = ([4.0, 9.5], [4.0, 9.5]);
        fitted.apply(&mut a);
        frozen.apply(&mut b);
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
        let accumulators = 2 * core::mem::size_of::<Welford>();
        assert_eq!(
            core::mem::size_of::<Standardizer<2>>() - core::mem::size_of::<Standardizer<2, 0>>(),
            accumulators
        );
    }

    #[test]
    fn apply_and_invert_are_exact_inverses_on_exact_values() {
        let s = Standardizer::<2>::from_stats(&[1.0, 2.0], &[0.5, 4.0]);
        assert!(s.is_frozen());
        let mut row = [3.0, 2.5];
        s.apply(&mut row);
        assert_eq!(row, [1.0, 2.0]); // (3 − 1)·0.5, (2.5 − 2)·4
        assert_eq!(s.invert(0, 1.0), 3.0);
        assert_eq!(s.invert(1, 2.0), 2.5);
        // A feature it has no statistics for is left as it is.
        assert_eq!(s.invert(7, 2.0), 2.0);
    }

    /// The on-the-fly dataset standardises features and regression targets, never class labels.
    #[test]
    fn standardized_data_applies_both_standardisers() {
        let features = Standardizer::<2>::from_stats(&[1.0, 0.0], &[0.5, 2.0]);
        let target = Standardizer::<1>::from_stats(&[10.0], &[0.25]);
        let rows = [3.0, 1.0, 5.0, -1.0, 7.0, 0.5];
        let values = SliceDataset::regression(&rows, 2, &[14.0, 2.0, 6.0]);
        let data = Standardized::new(&values, Some(&features), Some(&target));
        assert_eq!((data.len(), data.features()), (3, 2));
        let mut x = [0.0; 2];
        data.load(1, &mut x);
        assert_eq!(x, [2.0, -2.0]);
        assert_eq!(data.target(0), Target::Value(1.0));
        let classes = SliceDataset::classification(&rows, 2, &[4, 5, 6]);
        let data = Standardized::<_, 2>::new(&classes, None, Some(&target));
        data.load(0, &mut x);
        assert_eq!(x, [3.0, 1.0]);
        assert_eq!(data.target(1), Target::Class(5));
    }
}
