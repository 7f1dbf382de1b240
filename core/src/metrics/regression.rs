//! Regression metrics: MAE, MSE, RMSE and R², accumulated one prediction at a time.

use super::welford::Welford;

/// Running regression errors.
///
/// `R² = 1 − SSE/SST`, with `SST` the targets' sum of squared deviations (Welford), as in
/// scikit-learn's `r2_score`.
///
/// ```
/// let mut m = tinytrain::metrics::RegressionMetrics::new();
/// m.update(2.5, 3.0);
/// m.update(0.0, -0.5);
/// assert_eq!((m.mae(), m.mse()), (0.5, 0.25));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RegressionMetrics {
    sum_abs: f32,
    sum_sq: f32,
    targets: Welford,
}

impl RegressionMetrics {
    /// Empty accumulator.
    pub const fn new() -> Self {
        Self {
            sum_abs: 0.0,
            sum_sq: 0.0,
            targets: Welford::new(),
        }
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Adds one prediction and its target.
    pub fn update(&mut self, predicted: f32, target: f32) {
        let error = predicted - target;
        self.sum_abs += libm::fabsf(error);
        self.sum_sq += error * error;
        self.targets.update(target);
    }

    /// Samples seen.
    pub fn count(&self) -> u32 {
        self.targets.count()
    }

    /// Mean absolute error.
    pub fn mae(&self) -> f32 {
        self.mean_of(self.sum_abs)
    }

    /// Mean squared error.
    pub fn mse(&self) -> f32 {
        self.mean_of(self.sum_sq)
    }

    /// Root mean squared error.
    pub fn rmse(&self) -> f32 {
        crate::sqrt::sqrt(self.mse())
    }

    /// Coefficient of determination (0 when the targets have no spread).
    pub fn r2(&self) -> f32 {
        let total = self.targets.sum_of_squares();
        if total == 0.0 {
            0.0
        } else {
            1.0 - self.sum_sq / total
        }
    }

    fn mean_of(&self, sum: f32) -> f32 {
        match self.count() {
            0 => 0.0,
            n => sum / n as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors 1, −2, 3 on targets 1, 2, 6 (exact in `f32`): MAE 2, MSE 14/3, RMSE √(14/3),
    /// R² = 1 − 14/(Σ(y − 3)² = 14) = 0; `reset` forgets them.
    #[test]
    fn exact_values_and_reset() {
        let mut m = RegressionMetrics::new();
        for (predicted, target) in [(2.0, 1.0), (0.0, 2.0), (9.0, 6.0)] {
            m.update(predicted, target);
        }
        assert_eq!(m.count(), 3);
        assert_eq!(m.mae(), 2.0);
        assert_eq!(m.mse(), 14.0 / 3.0);
        assert_eq!(m.rmse(), libm::sqrtf(14.0 / 3.0));
        assert!(m.r2().abs() < 1e-6, "{}", m.r2());
        let mut good = RegressionMetrics::new();
        for (predicted, target) in [(1.5, 1.0), (2.0, 2.0), (6.0, 6.0)] {
            good.update(predicted, target);
        }
        assert!(
            (good.r2() - (1.0 - 0.25 / 14.0)).abs() < 1e-6,
            "{}",
            good.r2()
        );
        m.reset();
        assert_eq!(m, RegressionMetrics::new());
        assert_eq!((m.mae(), m.mse(), m.r2()), (0.0, 0.0, 0.0));
        // Targets without spread: R² is 0, not a division by zero.
        m.update(1.0, 5.0);
        m.update(2.0, 5.0);
        assert_eq!(m.r2(), 0.0);
    }
}
