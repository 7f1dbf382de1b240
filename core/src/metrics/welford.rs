//! Streaming mean and variance (Welford 1962; the update in Knuth, TAOCP vol. 2, 4.2.2).
//!
//! `n += 1; δ = x − mean; mean += δ/n; M₂ += δ·(x − mean)`; population variance `M₂/n`,
//! sample variance `M₂/(n − 1)`. Unlike `Σx²/n − mean²` it does not cancel catastrophically.

/// Running mean and variance of a stream of numbers.
///
/// ```
/// let mut w = tinytrain::metrics::Welford::new();
/// for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] { w.update(x); }
/// assert_eq!((w.mean(), w.population_variance()), (5.0, 4.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Welford {
    count: u32,
    mean: f32,
    m2: f32,
}

impl Welford {
    /// Empty accumulator.
    pub const fn new() -> Self {
        Self {
            count: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Adds one value.
    pub fn update(&mut self, x: f32) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f32;
        self.m2 += delta * (x - self.mean);
    }

    /// Number of values seen.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Mean (0 when empty).
    pub fn mean(&self) -> f32 {
        self.mean
    }

    /// Sum of squared deviations from the mean, `M₂`.
    pub fn sum_of_squares(&self) -> f32 {
        self.m2
    }

    /// `M₂/n` (0 when empty).
    pub fn population_variance(&self) -> f32 {
        if self.count == 0 {
            0.0
        } else {
            self.m2 / self.count as f32
        }
    }

    /// `M₂/(n − 1)` (0 with fewer than two values).
    pub fn sample_variance(&self) -> f32 {
        if self.count < 2 {
            0.0
        } else {
            self.m2 / (self.count - 1) as f32
        }
    }
}
