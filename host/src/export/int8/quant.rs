//! The export-time maths of int8 quantisation (in `f64`, on the host only): an activation
//! tensor's scale and zero point from its calibrated range, a weight row's symmetric scale, and a
//! real rescaling factor as the fixed-point multiplier and shift of [`kernel::requantize`](super::kernel::requantize).
//!
//! The formulas are TFLite's post-training quantisation (Jacob et al., "Quantization and Training
//! of Neural Networks for Efficient Integer-Arithmetic-Only Inference", CVPR 2018, §2):
//! `real = scale · (q − zero)`.

#[cfg(test)]
use super::kernel;

/// `real = scale · (q − zero)` for an int8 `q`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// The real value of one step.
    pub scale: f64,
    /// The int8 value of real 0.
    pub zero: i32,
}

impl Params {
    /// Asymmetric int8 over the calibrated range `[min, max]`, widened to hold 0 so that 0 is
    /// exact (a ReLU's clamp and the zero padding of nothing else depend on it): `scale = (max −
    /// min)/255`, `zero = round(−128 − min/scale)`. An empty or single-point range gets
    /// `scale = 1/255`, as if it spanned `[0, 1]`.
    pub fn from_range(min: f64, max: f64) -> Params {
        let (min, max) = (min.min(0.0), max.max(0.0));
        let span = max - min;
        let scale = if span.is_finite() && span > 1e-30 {
            span / 255.0
        } else {
            1.0 / 255.0
        };
        let zero = (-128.0 - min / scale).round().clamp(-128.0, 127.0) as i32;
        Params { scale, zero }
    }

    /// `real` as int8: rounded (halves away from zero) and saturated.
    pub fn quantize(&self, real: f64) -> i8 {
        (real / self.scale + f64::from(self.zero))
            .round()
            .clamp(-128.0, 127.0) as i8
    }

    /// The real value of `q`.
    pub fn dequantize(&self, q: i8) -> f64 {
        self.scale * f64::from(i32::from(q) - self.zero)
    }
}

/// A weight row's symmetric scale, `max|w| / 127` (zero point 0, values `-127..=127`; `-128` is
/// never used, so the range is symmetric). An all-zero row gets scale 1.
pub fn weight_scale(row: &[f32]) -> f64 {
    let max = row.iter().fold(0.0f64, |m, &w| m.max(f64::from(w).abs()));
    if max > 0.0 {
        max / 127.0
    } else {
        1.0
    }
}

/// `w / scale`, rounded (halves away from zero) into `-127..=127`.
pub fn quantize_weight(w: f32, scale: f64) -> i8 {
    (f64::from(w) / scale).round().clamp(-127.0, 127.0) as i8
}

/// The largest `|bias|` a layer of `inputs` inputs may have so that its `i32` sum cannot overflow:
/// `2^31 − 1 − inputs·128·127` (each product is at most 128·127 in magnitude).
pub fn bias_bound(inputs: usize) -> i64 {
    i64::from(i32::MAX) - inputs as i64 * 128 * 127
}

/// `real > 0` as `(multiplier, shift)` with `real ≈ multiplier · 2^-shift`, `multiplier` in
/// `[2^30, 2^31)` (31 significant bits) and `shift` in `1..=62`; below `2^-32` the multiplier
/// loses bits (at `shift` 62) down to 0. `None` when `real` is not positive and finite or is
/// `2^30` or more (no layer's rescaling comes near it).
pub fn quantize_multiplier(real: f64) -> Option<(i32, u8)> {
    if !(real.is_finite() && real > 0.0 && real < (1u64 << 30) as f64) {
        return None;
    }
    // real = fraction · 2^exponent, fraction in [0.5, 1).
    let mut exponent = real.log2().floor() as i32 + 1;
    let mut fraction = real / 2f64.powi(exponent);
    // log2 may be off by one at powers of two.
    while fraction >= 1.0 {
        fraction /= 2.0;
        exponent += 1;
    }
    while fraction < 0.5 {
        fraction *= 2.0;
        exponent -= 1;
    }
    let mut multiplier = (fraction * 2f64.powi(31)).round() as i64;
    if multiplier == 1 << 31 {
        multiplier /= 2;
        exponent += 1;
    }
    let shift = 31 - exponent;
    if shift < 1 {
        return None;
    }
    if shift > 62 {
        let multiplier = (real * 2f64.powi(62)).round() as i64;
        return Some((multiplier as i32, 62));
    }
    Some((multiplier as i32, shift as u8))
}

/// The real value of `(multiplier, shift)`.
pub fn multiplier_value(multiplier: i32, shift: u8) -> f64 {
    f64::from(multiplier) * 2f64.powi(-i32::from(shift))
}

/// [`kernel::requantize`] by another route, for the tests: the exact quotient in `i128`, rounded
/// half away from zero, saturated.
#[cfg(test)]
fn requantize_reference(acc: i32, multiplier: i32, shift: u8) -> i32 {
    let product = i128::from(acc) * i128::from(multiplier);
    let divisor = 1i128 << shift;
    let (quotient, remainder) = (product / divisor, product % divisor);
    // Truncated division: round the magnitude up when the remainder is at least half.
    let rounded = if 2 * remainder.abs() >= divisor {
        quotient + product.signum()
    } else {
        quotient
    };
    rounded.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_rounds_halves_away_from_zero_on_both_sides() {
        // multiplier 2^30 at shift 31 is ·½: exact halves.
        let half = 1 << 30;
        for (acc, want) in [
            (1, 1),
            (-1, -1),
            (2, 1),
            (-2, -1),
            (3, 2),
            (-3, -2),
            (5, 3),
            (-5, -3),
            (0, 0),
        ] {
            assert_eq!(kernel::requantize(acc, half, 31), want, "{acc}·½");
        }
        // ·¼: 1/4 → 0, 2/4 → 1 (a half), 3/4 → 1, and their negatives.
        for (acc, want) in [(1, 0), (2, 1), (3, 1), (-1, 0), (-2, -1), (-3, -1), (6, 2)] {
            assert_eq!(kernel::requantize(acc, half, 32), want, "{acc}·¼");
        }
        // Just inside and just outside a half, negative: −(2^20 ∓ 1)/2^21 → 0 and −1.
        assert_eq!(kernel::requantize(-((1 << 20) - 1), half, 51), 0);
        assert_eq!(kernel::requantize(-((1 << 20) + 1), half, 51), -1);
        assert_eq!(kernel::requantize(-(1 << 20), half, 51), -1);
    }

    #[test]
    fn requantize_saturates_instead_of_wrapping() {
        // The largest products: |acc·multiplier| just under 2^62, shifted by 1.
        let m = i32::MAX;
        assert_eq!(kernel::requantize(i32::MAX, m, 1), i32::MAX);
        assert_eq!(kernel::requantize(i32::MIN, m, 1), i32::MIN);
        assert_eq!(kernel::requantize(i32::MIN, m, 62), -1);
        assert_eq!(kernel::requantize(i32::MAX, m, 62), 1);
        // Shifts out of range are clamped to 1..=62, as documented.
        assert_eq!(
            kernel::requantize(10, 1 << 30, 0),
            kernel::requantize(10, 1 << 30, 1)
        );
        assert_eq!(kernel::requantize(i32::MAX, m, 63), 1);
    }

    #[test]
    fn requantize_equals_the_exact_i128_quotient_on_a_grid_of_edge_cases() {
        let accs = [
            0,
            1,
            -1,
            2,
            -2,
            127,
            -128,
            16_256,
            -16_256,
            65_535,
            -65_536,
            1 << 24,
            -(1 << 24),
            123_456_789,
            -123_456_789,
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
        ];
        let multipliers = [
            0,
            1,
            1 << 30,
            (1 << 30) + 1,
            1_518_500_250,
            i32::MAX - 1,
            i32::MAX,
        ];
        let mut checked = 0;
        for &acc in &accs {
            for &m in &multipliers {
                for shift in 1..=62u8 {
                    let got = kernel::requantize(acc, m, shift);
                    assert_eq!(
                        got,
                        requantize_reference(acc, m, shift),
                        "{acc}·{m}>>{shift}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, accs.len() * multipliers.len() * 62);
    }

    #[test]
    fn requantize_is_within_half_a_step_of_the_f64_product() {
        // Pseudo-random (a fixed LCG) accumulators and real multipliers in (2^-20, 4).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state
        };
        for _ in 0..20_000 {
            let acc = (next() >> 40) as i32 - (1 << 23);
            let real = 2f64.powf((next() >> 11) as f64 / (1u64 << 53) as f64 * 22.0 - 20.0);
            let (m, shift) = quantize_multiplier(real).unwrap();
            let got = kernel::requantize(acc, m, shift);
            let exact = f64::from(acc) * multiplier_value(m, shift);
            assert!(
                (f64::from(got) - exact).abs() <= 0.5,
                "{acc}·{real}: {got} vs {exact}"
            );
            // The multiplier itself carries 31 significant bits.
            assert!(
                (multiplier_value(m, shift) / real - 1.0).abs() <= 2f64.powi(-31),
                "{real}"
            );
        }
    }

    #[test]
    fn multipliers_are_normalised_and_refuse_the_impossible() {
        assert_eq!(quantize_multiplier(0.5), Some((1 << 30, 31)));
        assert_eq!(quantize_multiplier(1.0), Some((1 << 30, 30)));
        assert_eq!(quantize_multiplier(0.75), Some((3 << 29, 31)));
        // Rounding up to 2^31 renormalises: 1 − 2^-40 becomes 1.
        assert_eq!(
            quantize_multiplier(1.0 - 2f64.powi(-40)),
            Some((1 << 30, 30))
        );
        // Below 2^-32 the shift stops at 62 and the multiplier shrinks; far below, it is 0.
        assert_eq!(quantize_multiplier(2f64.powi(-40)), Some((1 << 22, 62)));
        assert_eq!(quantize_multiplier(2f64.powi(-70)), Some((0, 62)));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2f64.powi(30)] {
            assert_eq!(quantize_multiplier(bad), None, "{bad}");
        }
    }

    #[test]
    fn activation_params_hold_zero_exactly_and_span_the_range() {
        let p = Params::from_range(-1.0, 3.0);
        assert!((p.scale - 4.0 / 255.0).abs() < 1e-15);
        assert_eq!(p.quantize(0.0), p.zero as i8);
        assert_eq!(p.quantize(-1.0), -128);
        assert_eq!(p.quantize(3.0), 127);
        assert_eq!(p.quantize(100.0), 127, "saturates");
        // A ReLU's output [0, 6]: zero point −128, all 256 codes for the positive side.
        let relu = Params::from_range(0.5, 6.0);
        assert_eq!(relu.zero, -128);
        assert_eq!(relu.dequantize(-128), 0.0);
        // A range that misses 0 is widened to hold it.
        assert_eq!(Params::from_range(2.0, 4.0), Params::from_range(0.0, 4.0));
        // Degenerate ranges get a usable scale.
        let flat = Params::from_range(0.0, 0.0);
        assert_eq!((flat.scale, flat.zero), (1.0 / 255.0, -128));
    }

    #[test]
    fn weights_are_symmetric_per_row() {
        let row = [0.5f32, -1.27, 0.0, 1.0];
        let s = weight_scale(&row);
        assert!((s - 0.01).abs() < 1e-9);
        let q: Vec<i8> = row.iter().map(|&w| quantize_weight(w, s)).collect();
        assert_eq!(q, [50, -127, 0, 100]);
        assert_eq!(weight_scale(&[0.0, 0.0]), 1.0);
    }

    #[test]
    fn the_input_quantiser_rounds_halves_away_from_zero_exactly() {
        let mut q = [0i8; 9];
        let x = [
            0.5f32,
            -0.5,
            1.5,
            -1.5,
            0.49999997,
            -0.49999997,
            200.0,
            -200.0,
            f32::NAN,
        ];
        kernel::quantize(&x, None, 1.0, 0, &mut q);
        assert_eq!(q, [1, -1, 2, -2, 0, 0, 127, -128, 0]);
        // With a zero point and standardisation: z = (x − 1)·2, t = z·4.
        kernel::quantize(
            &[1.0625, 0.5],
            Some((&[1.0, 1.0], &[2.0, 2.0])),
            4.0,
            -10,
            &mut q[..2],
        );
        assert_eq!(q[..2], [-9, -14]);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_values_as_the_core_does() {
        assert_eq!(kernel::argmax(&[3, 7, 7, -1]), 1);
        assert_eq!(kernel::argmax(&[-128, -128]), 0);
        assert_eq!(kernel::argmax(&[]), 0);
        let mut v = [-128i8, -1, 0, 127];
        kernel::lookup(&core::array::from_fn(|i| (255 - i) as u8 as i8), &mut v);
        assert_eq!(v, [-1, -128, 127, 0]);
        kernel::relu(-5, &mut v);
        assert_eq!(v, [-1, -5, 127, 0]);
    }
}
