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

/// Per-feature standardiser for up to `N` features.
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
pub struct Standardizer<const N: usize> {
    features: usize,
    stats: [Welford; N],
    mean: [f32; N],
    scale: [f32; N],
    frozen: bool,
}

impl<const N: usize> Standardizer<N> {
    /// The identity for `features ≤ N` features (more are clamped), ready to accumulate.
    pub const fn new(features: usize) -> Self {
        Self {
            features: if features < N { features } else { N },
            stats: [Welford::new(); N],
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
            self.stats
                .iter_mut()
                .zip(row)
                .take(self.features)
                .for_each(|(w, &x)| w.update(x));
        }
    }

    /// Fixes `mean` and `scale` from the statistics accumulated so far.
    pub fn freeze(&mut self) {
        for ((w, mean), scale) in self
            .stats
            .iter()
            .zip(&mut self.mean)
            .zip(&mut self.scale)
            .take(self.features)
        {
            *mean = w.mean();
            *scale = w.inverse_std(EPSILON);
        }
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

/// Standardisation of the features (and, for regression, the `M` targets, each by its own
/// statistics) as a [`Transform`]: what [`Standardized`] applies on the fly.
#[derive(Clone, Copy, Debug)]
pub struct Standardization<'a, const N: usize, const M: usize = 1> {
    features: Option<&'a Standardizer<N>>,
    target: Option<&'a Standardizer<M>>,
}

impl<const N: usize, const M: usize> Transform for Standardization<'_, N, M> {
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
pub type Standardized<'a, D, const N: usize, const M: usize = 1> =
    Transformed<'a, D, Standardization<'a, N, M>>;

impl<'a, D: Dataset, const N: usize, const M: usize> Standardized<'a, D, N, M> {
    /// Wraps `data`; `None` leaves features or targets as they are.
    pub fn new(
        data: &'a D,
        features: Option<&'a Standardizer<N>>,
        target: Option<&'a Standardizer<M>>,
    ) -> Self {
        Transformed {
            data,
            transform: Standardization { features, target },
        }
    }
}

impl<'a, D: Dataset, const N: usize> Standardized<'a, D, N> {
    /// Wraps `data`, standardising its features only (a classification, or an autoencoder whose
    /// targets are its standardised inputs).
    pub fn features_only(data: &'a D, features: Option<&'a Standardizer<N>>) -> Self {
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
