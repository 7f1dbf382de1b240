//! Streaming mean and variance (Welford 1962; the update in Knuth, TAOCP vol. 2, 4.2.2).
//!
//! `n += 1; δ = x − mean; mean += δ/n; M₂ += δ·(x − mean)`; population variance `M₂/n`,
//! sample variance `M₂/(n − 1)`. Unlike `Σx²/n − mean²` it does not cancel catastrophically.
//!
//! `M₂` grows like `n·x²`, which overflows `f32` for values beyond about 1.8e19 (and `n·x²` far
//! sooner). So once a value exceeds 2⁴⁰ the accumulator keeps everything divided by a power of two,
//! `2^exponent`: exact (a power-of-two scaling only changes exponents), and never used for ordinary
//! data, whose statistics keep the bits they always had.

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
    /// The values are accumulated divided by `2^exponent` (0 until one exceeds [`LIMIT`]).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_zero"))]
    exponent: i32,
}

#[cfg(feature = "serde")]
fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// Values (after scaling) up to this magnitude are accumulated as they are: 2⁴⁰, so that `M₂`, at
/// most `n·(2·2⁴⁰)²`, stays finite for any `u32` count.
const LIMIT: f32 = 1_099_511_627_776.0;
/// `x·2^exponent`, exactly; `x` itself for 0 (the ordinary case costs nothing).
fn scale(x: f32, exponent: i32) -> f32 {
    if exponent == 0 {
        x
    } else {
        libm::scalbnf(x, exponent)
    }
}

/// The exponent grows in steps of 64 (at most two steps: `f32` ends near 2¹²⁸).
const STEP: i32 = 64;

impl Welford {
    /// Empty accumulator.
    pub const fn new() -> Self {
        Self {
            count: 0,
            mean: 0.0,
            m2: 0.0,
            exponent: 0,
        }
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Adds one value.
    pub fn update(&mut self, x: f32) {
        let mut x_scaled = scale(x, -self.exponent);
        while x_scaled.is_finite() && x_scaled.abs() > LIMIT {
            self.mean = libm::scalbnf(self.mean, -STEP);
            self.m2 = libm::scalbnf(libm::scalbnf(self.m2, -STEP), -STEP);
            self.exponent += STEP;
            x_scaled = scale(x, -self.exponent);
        }
        let x = x_scaled;
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
        scale(self.mean, self.exponent)
    }

    /// Sum of squared deviations from the mean, `M₂` (infinite when it exceeds `f32`).
    pub fn sum_of_squares(&self) -> f32 {
        scale(self.m2, 2 * self.exponent)
    }

    /// `M₂/n` (0 when empty; infinite when it exceeds `f32`, see [`Welford::inverse_std`]).
    pub fn population_variance(&self) -> f32 {
        scale(self.scaled_variance(), 2 * self.exponent)
    }

    /// `M₂/(n − 1)` (0 with fewer than two values).
    pub fn sample_variance(&self) -> f32 {
        if self.count < 2 {
            0.0
        } else {
            scale(self.m2 / (self.count - 1) as f32, 2 * self.exponent)
        }
    }

    /// `1/√(M₂/n + ε)`, finite whenever the values were: a standardiser's scale.
    pub fn inverse_std(&self, epsilon: f32) -> f32 {
        let variance = self.scaled_variance();
        if self.exponent == 0 || variance == 0.0 {
            return 1.0 / crate::sqrt::sqrt(variance + epsilon);
        }
        // 1/√(v·4^k + ε) = 2^-k/√(v + ε·4^-k).
        let epsilon = libm::scalbnf(epsilon, -2 * self.exponent);
        scale(1.0 / crate::sqrt::sqrt(variance + epsilon), -self.exponent)
    }

    /// `M₂/n` of the scaled values.
    fn scaled_variance(&self) -> f32 {
        if self.count == 0 {
            0.0
        } else {
            self.m2 / self.count as f32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by hostile input: values beyond about 1.8e19 overflowed `M₂`, so a standardiser's scale
    /// became 0 (the feature ignored) or a target's std NaN. Any finite values give statistics
    /// within 1e-5 of float64's.
    #[test]
    fn statistics_of_huge_values_match_float64() {
        let mut rng = crate::rng::Pcg32::new(3, 1);
        for magnitude in [1e3f64, 1e19, 1e25, 1e30, 3e38] {
            let values: Vec<f32> = (0..500)
                .map(|_| {
                    let u = f64::from(rng.next_u32()) / f64::from(u32::MAX);
                    ((u * 1.6 - 0.5) * magnitude).clamp(-3.4e38, 3.4e38) as f32
                })
                .collect();
            let mut w = Welford::new();
            values.iter().for_each(|&x| w.update(x));
            let n = values.len() as f64;
            let mean = values.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
            let var = values
                .iter()
                .map(|&x| (f64::from(x) - mean).powi(2))
                .sum::<f64>()
                / n;
            let relative = |got: f64, want: f64| ((got - want) / want).abs();
            assert!(
                relative(f64::from(w.mean()), mean) < 1e-5,
                "{magnitude}: mean {} vs {mean}",
                w.mean()
            );
            let inverse_std = 1.0 / (var + 1e-5).sqrt();
            assert!(
                relative(f64::from(w.inverse_std(1e-5)), inverse_std) < 1e-5,
                "{magnitude}: 1/std {} vs {inverse_std}",
                w.inverse_std(1e-5)
            );
            assert!(w.inverse_std(1e-5) > 0.0 && w.inverse_std(1e-5).is_finite());
        }
        // A constant huge feature: variance 0, scale 1/√ε as for any constant feature.
        let mut w = Welford::new();
        (0..10).for_each(|_| w.update(1e30));
        assert_eq!(w.mean(), 1e30);
        assert_eq!(w.inverse_std(1e-5), 1.0 / libm::sqrtf(1e-5));
    }

    #[test]
    fn ordinary_values_keep_their_bits() {
        let mut w = Welford::new();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.update(x);
        }
        assert_eq!(
            (w.mean(), w.population_variance(), w.exponent),
            (5.0, 4.0, 0)
        );
        assert_eq!(
            w.inverse_std(1e-5).to_bits(),
            (1.0 / libm::sqrtf(4.0 + 1e-5)).to_bits()
        );
    }

    #[test]
    fn sample_variance_divides_by_n_minus_one() {
        let mut w = Welford::new();
        assert_eq!(w.sample_variance(), 0.0);
        w.update(3.0);
        assert_eq!(w.sample_variance(), 0.0);
        let mut two = w;
        two.update(5.0);
        assert_eq!(two.sample_variance(), 2.0);
        for x in [4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.update(x);
        }
        w.update(2.0);
        // 2, 3, 4, 4, 4, 5, 5, 7, 9: mean 43/9, M₂ = 42.2…, over 8.
        let values = [3.0f64, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, 2.0];
        let mean = values.iter().sum::<f64>() / 9.0;
        let m2: f64 = values.iter().map(|x| (x - mean).powi(2)).sum();
        assert!((f64::from(w.sample_variance()) - m2 / 8.0).abs() < 1e-5);
        assert!((f64::from(w.sum_of_squares()) - m2).abs() < 1e-4);
    }

    /// A huge value after ordinary ones rescales the mean and `M₂` gathered so far (down by 2⁶⁴
    /// and 2¹²⁸): the statistics stay those of float64. `2⁴⁰` itself is still ordinary.
    #[test]
    fn a_huge_value_rescales_what_came_before() {
        let mut w = Welford::new();
        w.update(LIMIT);
        w.update(-LIMIT);
        assert_eq!(
            (w.exponent, w.mean(), w.sum_of_squares()),
            (0, 0.0, 2.0 * LIMIT * LIMIT)
        );
        let values = [1.0f32, 3.0, -2.0, 5e18, 7.0];
        let mut w = Welford::new();
        values.iter().for_each(|&x| w.update(x));
        assert_eq!(w.exponent, STEP);
        let n = values.len() as f64;
        let mean = values.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let m2: f64 = values.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum();
        let relative = |got: f32, want: f64| ((f64::from(got) - want) / want).abs();
        assert!(relative(w.mean(), mean) < 1e-6, "{} vs {mean}", w.mean());
        assert!(
            relative(w.sum_of_squares(), m2) < 1e-5,
            "{} vs {m2}",
            w.sum_of_squares()
        );
    }

    /// The serde form leaves the exponent out when it is 0 (ordinary data keeps the form it always
    /// had) and keeps it otherwise; both read back to the same accumulator.
    #[cfg(feature = "serde")]
    #[test]
    fn the_serde_form_has_the_exponent_only_when_it_is_used() {
        let (mut ordinary, mut huge) = (Welford::new(), Welford::new());
        ordinary.update(2.0);
        huge.update(1e30);
        let text = |w: &Welford| serde_json::to_string(w).unwrap();
        assert!(!text(&ordinary).contains("exponent"), "{}", text(&ordinary));
        assert!(text(&huge).contains(r#""exponent":64"#), "{}", text(&huge));
        for w in [ordinary, huge] {
            assert_eq!(serde_json::from_str::<Welford>(&text(&w)).unwrap(), w);
        }
    }
}
