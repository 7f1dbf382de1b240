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

/// Standardisation of the features (and, for regression, the target) as a [`Transform`]: what
/// [`Standardized`] applies on the fly.
#[derive(Clone, Copy, Debug)]
pub struct Standardization<'a, const N: usize> {
    features: Option<&'a Standardizer<N>>,
    target: Option<&'a Standardizer<1>>,
}

impl<const N: usize> Transform for Standardization<'_, N> {
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
}

/// A dataset whose features (and, for regression, targets) are standardised on the fly.
pub type Standardized<'a, D, const N: usize> = Transformed<'a, D, Standardization<'a, N>>;

impl<'a, D: Dataset, const N: usize> Standardized<'a, D, N> {
    /// Wraps `data`; `None` leaves features or targets as they are.
    pub fn new(
        data: &'a D,
        features: Option<&'a Standardizer<N>>,
        target: Option<&'a Standardizer<1>>,
    ) -> Self {
        Transformed {
            data,
            transform: Standardization { features, target },
        }
    }
}
