//! Inverted dropout (`nn.Dropout`): in train mode each element is zeroed with probability `p` and the
//! survivors are scaled by `1/(1 − p)`, so eval mode is the identity and needs no rescaling.
//!
//! The mask is kept as bits (one `u32` per 32 elements) for the backward pass.

use crate::rng::Pcg32;

/// Train-mode forward: draws a fresh mask into `mask` and writes `y = mask ⊙ x / (1 − p)`
/// ([`draw`] then [`apply`]).
pub fn forward(p: f32, x: &[f32], y: &mut [f32], mask: &mut [u32], rng: &mut Pcg32) {
    draw(p, x.len(), mask, rng);
    apply(p, x, y, mask);
}

/// Draws the mask of `width` elements: an element is kept when the top 24 bits of a random word
/// are at least `p·2²⁴`, i.e. with probability `1 − p` up to 2⁻²⁴. One word of `rng` per element,
/// in order: a mini-batch draws its samples' masks one sample after the other, as the
/// sample-at-a-time engine does.
// Not inlined: a per-element loop keeps the core's opt-level when the caller is built for size
// (the firmware crate, `firmware/Cargo.toml`).
#[inline(never)]
pub fn draw(p: f32, width: usize, mask: &mut [u32], rng: &mut Pcg32) {
    let threshold = (p * 16_777_216.0) as u32;
    let mut left = width;
    for word in mask.iter_mut() {
        *word = 0;
        let bits = left.min(32);
        for bit in 0..bits {
            let keep = (rng.next_u32() >> 8) >= threshold;
            *word |= u32::from(keep) << bit;
        }
        left -= bits;
    }
}

/// `y = mask ⊙ x / (1 − p)` with a drawn mask; the backward pass is the same map from `dy` to `dx`.
// Not inlined: see `draw`.
#[inline(never)]
pub fn apply(p: f32, x: &[f32], y: &mut [f32], mask: &[u32]) {
    let scale = 1.0 / (1.0 - p);
    for ((xs, ys), &word) in x.chunks(32).zip(y.chunks_mut(32)).zip(mask) {
        for (bit, (&x, y)) in xs.iter().zip(ys).enumerate() {
            *y = if word >> bit & 1 == 1 { x * scale } else { 0.0 };
        }
    }
}

/// Backward: `dx = mask ⊙ dy / (1 − p)`, with the mask of the last train-mode forward.
pub fn backward(p: f32, dy: &[f32], dx: &mut [f32], mask: &[u32]) {
    apply(p, dy, dx, mask);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_rate_and_scaling() {
        let p = 0.3f32;
        let n = 64 * 1024;
        let x = vec![2.0f32; n];
        let mut y = vec![0.0f32; n];
        let mut mask = vec![0u32; n / 32];
        let mut rng = Pcg32::new(11, 3);
        forward(p, &x, &mut y, &mut mask, &mut rng);
        let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
        // Binomial standard deviation sqrt(p(1−p)/n) ≈ 0.0018: allow 4σ.
        assert!((dropped - 0.3).abs() < 0.0072, "dropped fraction {dropped}");
        let scale = 1.0 / (1.0 - p);
        assert!(y.iter().all(|&v| v == 0.0 || v == 2.0 * scale));
        // The scaling keeps the expectation: mean(y) ≈ mean(x).
        let mean = y.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!(
            (mean - 2.0).abs() < 4.0 * 2.0 * scale as f64 * 0.0018,
            "mean {mean}"
        );
        // Mask bits agree with the output.
        let ones: u32 = mask.iter().map(|w| w.count_ones()).sum();
        assert_eq!(ones as usize, y.iter().filter(|&&v| v != 0.0).count());
    }

    #[test]
    fn backward_routes_through_the_same_mask() {
        let p = 0.5;
        let x = [1.0f32; 40];
        let (mut y, mut mask, mut dx) = ([0.0f32; 40], [0u32; 2], [0.0f32; 40]);
        forward(p, &x, &mut y, &mut mask, &mut Pcg32::new(5, 3));
        backward(p, &[1.0; 40], &mut dx, &mask);
        assert_eq!(y, dx, "with x = dy = 1 the gradient equals the output");
    }

    #[test]
    fn zero_probability_is_identity() {
        let x = [0.5f32, -1.0, 3.0];
        let (mut y, mut mask) = ([0.0f32; 3], [0u32; 1]);
        forward(0.0, &x, &mut y, &mut mask, &mut Pcg32::new(1, 3));
        assert_eq!(x, y);
    }
}
