//! Fully connected layer: `y = W x + b`.
//!
//! Shapes: `x` is `(I)`, `y` is `(O)`, `W` is `(O, I)` row-major — PyTorch `nn.Linear` orientation —
//! and `b` is `(O)`. In the flat parameter buffer a dense layer stores `W` then `b`.

use crate::rng::Pcg32;

/// PyTorch `nn.Linear.reset_parameters`: `W` and `b` uniform in `[−1/√I, 1/√I)`.
///
/// (`kaiming_uniform_(a = √5)` on `W` reduces to exactly this bound.) Weights are drawn row by row,
/// then the biases, from `rng`.
pub fn init(weight: &mut [f32], bias: &mut [f32], inputs: usize, rng: &mut Pcg32) {
    let bound = 1.0 / libm::sqrtf(inputs as f32);
    weight
        .iter_mut()
        .chain(bias.iter_mut())
        .for_each(|p| *p = rng.symmetric(bound));
}

/// Forward: `y[o] = b[o] + Σᵢ W[o][i]·x[i]`.
///
/// Each sum starts from the bias and adds the products in increasing `i`, the order every target
/// must keep for bit-identical results.
pub fn forward(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    for ((y, row), &b) in y.iter_mut().zip(weight.chunks_exact(x.len())).zip(bias) {
        *y = row.iter().zip(x).fold(b, |acc, (&w, &x)| acc + w * x);
    }
}

/// Backward: accumulates `∂L/∂W += dy·xᵀ` and `∂L/∂b += dy`; writes `dx = Wᵀ·dy` if asked.
///
/// `dx` is `None` for the first layer, whose input gradient nobody reads (it would cost `O·I` MACs).
pub fn backward(
    weight: &[f32],
    x: &[f32],
    dy: &[f32],
    weight_grad: &mut [f32],
    bias_grad: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    for ((grad_row, bias_grad), &dy) in weight_grad.chunks_exact_mut(x.len()).zip(bias_grad).zip(dy)
    {
        *bias_grad += dy;
        grad_row.iter_mut().zip(x).for_each(|(g, &x)| *g += dy * x);
    }
    if let Some(dx) = dx {
        dx.iter_mut().for_each(|d| *d = 0.0);
        for (row, &dy) in weight.chunks_exact(x.len()).zip(dy) {
            dx.iter_mut().zip(row).for_each(|(d, &w)| *d += w * dy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // W (2×3), b (2), x (3): hand-computed reference.
    const W: [f32; 6] = [0.5, -1.0, 2.0, 0.25, 0.0, -0.5];
    const B: [f32; 2] = [0.1, -0.2];
    const X: [f32; 3] = [1.0, 2.0, 3.0];

    #[test]
    fn forward_by_hand() {
        let mut y = [0.0; 2];
        forward(&W, &B, &X, &mut y);
        // 0.1 + 0.5 − 2 + 6 = 4.6 ; −0.2 + 0.25 + 0 − 1.5 = −1.45
        assert_eq!(y, [4.6, -1.45]);
    }

    #[test]
    fn backward_by_hand_and_accumulates() {
        let dy = [1.0, -2.0];
        let (mut gw, mut gb, mut dx) = ([0.0; 6], [0.0; 2], [9.0; 3]);
        backward(&W, &X, &dy, &mut gw, &mut gb, Some(&mut dx));
        assert_eq!(gw, [1.0, 2.0, 3.0, -2.0, -4.0, -6.0]);
        assert_eq!(gb, [1.0, -2.0]);
        // dx = Wᵀ dy = [0.5 − 0.5, −1 + 0, 2 + 1]
        assert_eq!(dx, [0.0, -1.0, 3.0]);
        backward(&W, &X, &dy, &mut gw, &mut gb, None);
        assert_eq!(gw, [2.0, 4.0, 6.0, -4.0, -8.0, -12.0]);
        assert_eq!(gb, [2.0, -4.0]);
    }

    #[test]
    fn gradients_match_central_differences() {
        // L = Σ c[o]·y[o] for fixed c, so ∂L/∂y = c.
        let c = [0.7f32, -1.3];
        let loss = |w: &[f32], b: &[f32], x: &[f32]| {
            let mut y = [0.0; 2];
            forward(w, b, x, &mut y);
            (c[0] * y[0] + c[1] * y[1]) as f64
        };
        let (mut gw, mut gb, mut dx) = ([0.0; 6], [0.0; 2], [0.0; 3]);
        backward(&W, &X, &c, &mut gw, &mut gb, Some(&mut dx));
        let h = 1e-2f32;
        for i in 0..6 {
            let (mut wp, mut wm) = (W, W);
            wp[i] += h;
            wm[i] -= h;
            let numeric = (loss(&wp, &B, &X) - loss(&wm, &B, &X)) / (2.0 * h as f64);
            assert!((numeric - gw[i] as f64).abs() < 1e-3, "W[{i}]");
        }
        for i in 0..2 {
            let (mut bp, mut bm) = (B, B);
            bp[i] += h;
            bm[i] -= h;
            let numeric = (loss(&W, &bp, &X) - loss(&W, &bm, &X)) / (2.0 * h as f64);
            assert!((numeric - gb[i] as f64).abs() < 1e-3, "b[{i}]");
        }
        for i in 0..3 {
            let (mut xp, mut xm) = (X, X);
            xp[i] += h;
            xm[i] -= h;
            let numeric = (loss(&W, &B, &xp) - loss(&W, &B, &xm)) / (2.0 * h as f64);
            assert!((numeric - dx[i] as f64).abs() < 1e-3, "x[{i}]");
        }
    }

    #[test]
    fn init_stays_within_pytorch_bound() {
        let mut rng = Pcg32::new(3, 1);
        let (mut w, mut b) = ([0.0f32; 64 * 32], [0.0f32; 32]);
        init(&mut w, &mut b, 64, &mut rng);
        let bound = 1.0 / 8.0;
        assert!(w.iter().chain(&b).all(|v| (-bound..bound).contains(v)));
        // Uniform on [−1/8, 1/8): mean ≈ 0, variance = bound²/3.
        let n = w.len() as f32;
        let mean = w.iter().sum::<f32>() / n;
        let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        assert!(mean.abs() < 0.005, "{mean}");
        assert!((var - bound * bound / 3.0).abs() < 0.0005, "{var}");
    }
}
