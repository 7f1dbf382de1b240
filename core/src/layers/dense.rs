//! Fully connected layer: `y = W x + b`.
//!
//! Shapes: `x` is `(I)`, `y` is `(O)`, `W` is `(O, I)` row-major — PyTorch `nn.Linear` orientation —
//! and `b` is `(O)`. In the flat parameter buffer a dense layer stores `W` then `b`.

use crate::layers::Needs;
use crate::rng::Pcg32;

// The Cortex-M4F runs the kernels in assembly (see `dense_m4.rs`), x86-64 its forward pass in SSE
// and, where the CPU has AVX, every kernel in AVX (`dense_x86.rs`); other targets run the Rust
// loops below. All give the same bits.
#[cfg(target_arch = "x86_64")]
#[path = "dense_x86.rs"]
mod x86;
#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    #[inline(always)]
    pub(super) fn dot(_: &[&[f32]], _: &[f32], _: &mut [f32]) -> usize {
        0
    }
    #[inline(always)]
    pub(super) fn forward_rows(_: &[f32], _: &[f32], _: &[f32], _: &mut [f32]) -> usize {
        0
    }
    #[inline(always)]
    pub(super) fn grad(_: &[f32], _: &[f32], _: &mut [f32], _: &mut [f32]) -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn input_grad(_: &[f32], _: &[f32], _: &mut [f32]) -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn sgd(_: &mut [f32], _: &mut [f32], _: &[f32], _: &[f32], _: f32) -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn forward_batch(
        _: &[f32],
        _: &[f32],
        _: &mut [f32],
        _: usize,
        _: (usize, usize),
        _: (usize, usize),
        _: usize,
    ) -> usize {
        0
    }
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn grad_batch(
        _: &[f32],
        _: usize,
        _: (usize, usize),
        _: &[f32],
        _: usize,
        _: (usize, usize),
        _: usize,
        _: &mut [f32],
        _: &mut [f32],
    ) -> bool {
        false
    }
}
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[path = "dense_m4.rs"]
mod m4;
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
mod m4 {
    #[inline(always)]
    pub(super) fn forward(_: &[f32], _: &[f32], _: &[f32], _: &mut [f32]) -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn input_grad(_: &[f32], _: &[f32], _: &mut [f32]) -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn sgd(_: &mut [f32], _: &mut [f32], _: &[f32], _: &[f32], _: f32) -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn grad(_: &[f32], _: &[f32], _: &mut [f32], _: &mut [f32]) -> bool {
        false
    }
}

/// PyTorch `nn.Linear.reset_parameters`: `W` and `b` uniform in `[−1/√I, 1/√I)`.
///
/// (`kaiming_uniform_(a = √5)` on `W` reduces to exactly this bound.) Weights are drawn row by row,
/// then the biases, from `rng`.
pub fn init(weight: &mut [f32], bias: &mut [f32], inputs: usize, rng: &mut Pcg32) {
    let bound = 1.0 / crate::sqrt::sqrt(inputs as f32);
    weight
        .iter_mut()
        .chain(bias.iter_mut())
        .for_each(|p| *p = rng.symmetric(bound));
}

/// The draws of [`init`] for a layer of `values` parameters, none written: a layer whose
/// parameters are read in place (a frozen front in flash) leaves the stream where `init` would.
pub fn skip_init(values: usize, rng: &mut Pcg32) {
    for _ in 0..values {
        let _ = rng.next_u32();
    }
}

/// Rows of `W` whose sums one pass of the forward kernel carries together.
///
/// Why: each output's sum must run from its bias through the inputs in increasing order (a dependency
/// chain), so speed comes from carrying several rows at once, not from splitting a sum. On the host
/// eight independent chains hide the adder's latency; on the Cortex-M4 four rows share each load of
/// `x` (measured under QEMU: 1, 2 and 4 rows cost 4.68, 4.92 and 4.56 instructions per MAC of a
/// training step; four is the most whose accumulators and loaded values fit the `s` registers).
#[cfg(not(target_arch = "arm"))]
const ROWS: usize = 8;
#[cfg(target_arch = "arm")]
const ROWS: usize = 4;

/// Forward: `y[o] = b[o] + Σᵢ W[o][i]·x[i]`.
///
/// Each sum starts from the bias and adds the products in increasing `i`, the order every target
/// must keep for bit-identical results (no reassociation, no fused multiply-add: `vmla.f32` on the
/// M4 rounds the product, like a multiply then an add).
///
/// `needs` says which code the network reaches ([`Needs::ALL`] unless its layers are constants):
/// without `scalar_dense`, the Rust loops for shapes the kernels do not take are left out. The same
/// holds for the other functions here.
#[inline(always)]
pub fn forward(needs: Needs, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    if m4::forward(weight, bias, x, y) || !needs.scalar_dense {
        return;
    }
    let n = x.len();
    if n == 0 {
        // No inputs: the sums are the biases (and `chunks_exact` below needs a non-zero width).
        y.iter_mut().zip(bias).for_each(|(y, &b)| *y = b);
        return;
    }
    // x86-64 with AVX: whole groups of eight rows; the loops below take the rest.
    let done = x86::forward_rows(weight, bias, x, y);
    let (Some(weight), Some(bias), Some(y)) = (
        weight.get(done.saturating_mul(n)..),
        bias.get(done..),
        y.get_mut(done..),
    ) else {
        return;
    };
    let mut blocks = weight.chunks_exact(ROWS * n);
    // Arrays of `ROWS`, not slices: no length to check, so no panic path.
    let (ys, y_rest) = y.as_chunks_mut::<ROWS>();
    let (bs, b_rest) = bias.as_chunks::<ROWS>();
    for ((block, y), b) in (&mut blocks).zip(ys).zip(bs) {
        *y = dot_rows::<ROWS>(block, x, *b);
    }
    // `next` rather than `zip`: zipping a `ChunksExact` divides by its chunk size, a panic path
    // (for a size of 0) when the compiler does not inline the zip.
    let mut rows = blocks.remainder().chunks_exact(n);
    for (y, &b) in y_rest.iter_mut().zip(b_rest) {
        let Some(row) = rows.next() else {
            break;
        };
        *y = dot_rows::<1>(row, x, [b])[0];
    }
}

/// `acc[k] += Σᵢ block[k][i]·x[i]` for the `R` rows of `block`, each sum in increasing `i`.
///
/// The inner loop is unrolled by four (`chunks_exact`: no bounds checks, one loop test per four MACs,
/// loads at constant offsets); each sum still adds its products one by one in increasing `i`.
#[inline(always)]
fn dot_rows<const R: usize>(block: &[f32], x: &[f32], mut acc: [f32; R]) -> [f32; R] {
    let mut split = block.chunks_exact(x.len().max(1));
    let rows: [&[f32]; R] = core::array::from_fn(|_| split.next().unwrap_or(&[]));
    // x86-64: SSE sums the first multiple of four inputs of eight rows; the loop below the rest.
    let done = x86::dot(&rows, x, &mut acc);
    // `done ≤ x.len()` and every row has `x.len()` weights; `get` says so without a panic path.
    let x = x.get(done..).unwrap_or(&[]);
    let rows = rows.map(|r| r.get(done..).unwrap_or(&[]));
    let (x4, x_tail) = x.as_chunks::<4>();
    let mut rows4 = rows.map(|r| r.as_chunks::<4>());
    for (j, xs) in x4.iter().enumerate() {
        for k in 0..R {
            if let Some(w) = rows4[k].0.get(j) {
                acc[k] += w[0] * xs[0];
                acc[k] += w[1] * xs[1];
                acc[k] += w[2] * xs[2];
                acc[k] += w[3] * xs[3];
            }
        }
    }
    for k in 0..R {
        let tail = core::mem::take(&mut rows4[k].1);
        for (&w, &x) in tail.iter().zip(x_tail) {
            acc[k] += w * x;
        }
    }
    acc
}

/// Where a layer's values sit in a mini-batch's slots (see `network.rs`): sample `s`'s activation
/// slot starts at `s·stride`, its delta slot at `s·d_stride`.
#[derive(Clone, Copy, Debug)]
pub struct BatchGeometry {
    /// Samples.
    pub n: usize,
    /// Floats per activation slot.
    pub stride: usize,
    /// `(offset, width)` of the layer's input in an activation slot.
    pub x: (usize, usize),
    /// `(offset, width)` of its output in an activation slot.
    pub y: (usize, usize),
    /// Floats per delta slot.
    pub d_stride: usize,
    /// Offset of `∂L/∂y` in a delta slot.
    pub dy_at: usize,
}

/// [`forward`] of the first samples of a mini-batch at once, where a kernel takes several samples
/// (x86-64 with AVX: eight at a time); returns how many it did (the caller runs the rest one by
/// one). The same bits as [`forward`] per sample.
#[inline(always)]
pub fn forward_batch(weight: &[f32], bias: &[f32], acts: &mut [f32], g: BatchGeometry) -> usize {
    x86::forward_batch(weight, bias, acts, g.stride, g.x, g.y, g.n)
}

/// The weight and bias gradients of [`backward`] for every sample of a mini-batch at once, where a
/// kernel does it (x86-64 with AVX); `false` if none did (the caller runs [`backward`] per sample).
/// The same bits as [`backward`] sample after sample.
#[inline(always)]
pub fn grad_batch(
    acts: &[f32],
    deltas: &[f32],
    g: BatchGeometry,
    weight_grad: &mut [f32],
    bias_grad: &mut [f32],
) -> bool {
    x86::grad_batch(
        acts,
        g.stride,
        g.x,
        deltas,
        g.d_stride,
        (g.dy_at, g.y.1),
        g.n,
        weight_grad,
        bias_grad,
    )
}

/// Backward: accumulates `∂L/∂W += dy·xᵀ` and `∂L/∂b += dy`; writes `dx = Wᵀ·dy` if asked.
///
/// `dx` is `None` for the first layer, whose input gradient nobody reads (it would cost `O·I` MACs).
#[inline(always)]
pub fn backward(
    needs: Needs,
    weight: &[f32],
    x: &[f32],
    dy: &[f32],
    weight_grad: &mut [f32],
    bias_grad: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    if let Some(dx) = dx {
        input_grad(needs, weight, dy, dx);
    }
    if m4::grad(x, dy, weight_grad, bias_grad)
        || x86::grad(x, dy, weight_grad, bias_grad)
        || !needs.scalar_dense
    {
        return;
    }
    if x.is_empty() {
        // No inputs, no weights: only the biases have a gradient.
        bias_grad.iter_mut().zip(dy).for_each(|(g, &dy)| *g += dy);
        return;
    }
    for ((grad_row, bias_grad), &dy) in weight_grad.chunks_exact_mut(x.len()).zip(bias_grad).zip(dy)
    {
        *bias_grad += dy;
        // A zero `dy` adds ±0 to every gradient of the row: a no-op, since an accumulated gradient
        // starts at +0 and so is never −0 (for finite `x`). ReLU makes many such rows.
        if dy != 0.0 {
            axpy(grad_row, dy, x);
        }
    }
}

/// `g[i] += a·x[i]`: independent elements, vectorised on the host; unrolled by four for the M4.
#[inline(always)]
fn axpy(g: &mut [f32], a: f32, x: &[f32]) {
    let mut g4 = g.chunks_exact_mut(4);
    let mut x4 = x.chunks_exact(4);
    for (g, x) in (&mut g4).zip(&mut x4) {
        g[0] += a * x[0];
        g[1] += a * x[1];
        g[2] += a * x[2];
        g[3] += a * x[3];
    }
    for (g, &x) in g4.into_remainder().iter_mut().zip(x4.remainder()) {
        *g += a * x;
    }
}

/// `dx[i] = Σₒ W[o][i]·dy[o]`, each sum from 0 in increasing `o`.
///
/// Loop order: outputs outside, inputs inside, `dx` in memory. The inner loop then walks a row of
/// `W` and `dx` contiguously: vectorised on the host, `vldmia`/`vstmia` of four on the M4, which
/// costs fewer instructions there than register accumulation over a strided column. The order of
/// each element's additions is the same either way.
#[inline(always)]
pub fn input_grad(needs: Needs, weight: &[f32], dy: &[f32], dx: &mut [f32]) {
    if m4::input_grad(weight, dy, dx) || x86::input_grad(weight, dy, dx) || !needs.scalar_dense {
        return;
    }
    if dx.is_empty() {
        return;
    }
    dx.iter_mut().for_each(|d| *d = 0.0);
    for (row, &dy) in weight.chunks_exact(dx.len()).zip(dy) {
        let mut d4 = dx.chunks_exact_mut(4);
        let mut w4 = row.chunks_exact(4);
        for (d, w) in (&mut d4).zip(&mut w4) {
            d[0] += w[0] * dy;
            d[1] += w[1] * dy;
            d[2] += w[2] * dy;
            d[3] += w[3] * dy;
        }
        for (d, &w) in d4.into_remainder().iter_mut().zip(w4.remainder()) {
            *d += w * dy;
        }
    }
}

/// Plain SGD at batch 1 fused into backward: `W -= lr·(dy·xᵀ)`, `b -= lr·dy`, without a gradient
/// buffer. Call it after [`input_grad`], which needs the weights before the update.
///
/// The same bits as [`backward`] into zeroed gradients followed by [`crate::optim::sgd::step`]
/// (momentum 0, weight decay 0, `grad_scale` 1), which computes `p − lr·((0 + dy·x)·1)`:
/// `·1` is exact and `0 + t = t` except that `t = −0` becomes `+0`, and `p − lr·(±0) = p` for every
/// `p` but `−0`; the caller checks that no parameter is `−0` (no update makes one). A row with
/// `dy = 0` changes nothing (its gradient is `+0`, for finite `x`), so it is skipped.
#[inline(always)]
pub fn sgd_fused(
    needs: Needs,
    weight: &mut [f32],
    bias: &mut [f32],
    x: &[f32],
    dy: &[f32],
    lr: f32,
) {
    if m4::sgd(weight, bias, x, dy, lr) || x86::sgd(weight, bias, x, dy, lr) || !needs.scalar_dense
    {
        return;
    }
    if x.is_empty() {
        // No inputs, no weights: only the biases move.
        bias.iter_mut().zip(dy).for_each(|(b, &dy)| *b -= lr * dy);
        return;
    }
    for ((row, b), &dy) in weight.chunks_exact_mut(x.len()).zip(bias).zip(dy) {
        if dy == 0.0 {
            continue;
        }
        *b -= lr * dy;
        let mut w4 = row.chunks_exact_mut(4);
        let mut x4 = x.chunks_exact(4);
        for (w, x) in (&mut w4).zip(&mut x4) {
            w[0] -= lr * (dy * x[0]);
            w[1] -= lr * (dy * x[1]);
            w[2] -= lr * (dy * x[2]);
            w[3] -= lr * (dy * x[3]);
        }
        for (w, &x) in w4.into_remainder().iter_mut().zip(x4.remainder()) {
            *w -= lr * (dy * x);
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
        forward(Needs::ALL, &W, &B, &X, &mut y);
        // 0.1 + 0.5 − 2 + 6 = 4.6 ; −0.2 + 0.25 + 0 − 1.5 = −1.45
        assert_eq!(y, [4.6, -1.45]);
    }

    #[test]
    fn backward_by_hand_and_accumulates() {
        let dy = [1.0, -2.0];
        let (mut gw, mut gb, mut dx) = ([0.0; 6], [0.0; 2], [9.0; 3]);
        backward(Needs::ALL, &W, &X, &dy, &mut gw, &mut gb, Some(&mut dx));
        assert_eq!(gw, [1.0, 2.0, 3.0, -2.0, -4.0, -6.0]);
        assert_eq!(gb, [1.0, -2.0]);
        // dx = Wᵀ dy = [0.5 − 0.5, −1 + 0, 2 + 1]
        assert_eq!(dx, [0.0, -1.0, 3.0]);
        backward(Needs::ALL, &W, &X, &dy, &mut gw, &mut gb, None);
        assert_eq!(gw, [2.0, 4.0, 6.0, -4.0, -8.0, -12.0]);
        assert_eq!(gb, [2.0, -4.0]);
    }

    /// A layer with no inputs is a bias alone: its gradient accumulates `dy`, and its fused SGD step
    /// moves only the biases.
    #[test]
    fn a_layer_without_inputs_accumulates_the_bias_gradient() {
        let (mut gb, mut dx) = ([0.5, 1.0], [7.0; 0]);
        for _ in 0..2 {
            backward(
                Needs::ALL,
                &[],
                &[],
                &[1.0, -2.0],
                &mut [],
                &mut gb,
                Some(&mut dx),
            );
        }
        assert_eq!(gb, [2.5, -3.0]);
        // Fused SGD moves the biases alone: b − lr·dy.
        let mut b = [0.5, 1.0];
        sgd_fused(Needs::ALL, &mut [], &mut b, &[], &[1.0, -2.0], 0.25);
        assert_eq!(b, [0.25, 1.5]);
    }

    #[test]
    fn gradients_match_central_differences() {
        // L = Σ c[o]·y[o] for fixed c, so ∂L/∂y = c.
        let c = [0.7f32, -1.3];
        let loss = |w: &[f32], b: &[f32], x: &[f32]| {
            let mut y = [0.0; 2];
            forward(Needs::ALL, w, b, x, &mut y);
            (c[0] * y[0] + c[1] * y[1]) as f64
        };
        let (mut gw, mut gb, mut dx) = ([0.0; 6], [0.0; 2], [0.0; 3]);
        backward(Needs::ALL, &W, &X, &c, &mut gw, &mut gb, Some(&mut dx));
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

    /// The kernels (SSE forward on x86-64, every kernel in AVX where the CPU has it, the unrolled
    /// and blocked loops everywhere) against the plainest loops, bit for bit, on random shapes: every
    /// row-block remainder (1–17 outputs; 24–41 for AVX's one to four groups of eight rows), every
    /// unroll remainder (1–19 inputs), and the digits layers. Values are random and signed, with
    /// exact zeros in `dy` (the skipped rows).
    #[test]
    fn every_kernel_equals_the_scalar_loops_bit_for_bit() {
        let mut rng = Pcg32::new(11, 3);
        let shapes = (1..=19).flat_map(|i| (1..=17).map(move |o| (i, o)));
        let wide = [(17, 33), (24, 40), (9, 41), (8, 24), (64, 128), (128, 64)];
        for (inputs, outputs) in shapes.chain([(64, 32), (32, 10)]).chain(wide) {
            let mut random =
                |n: usize| -> Vec<f32> { (0..n).map(|_| rng.symmetric(2.0)).collect() };
            let (w, b, x) = (random(inputs * outputs), random(outputs), random(inputs));
            let mut dy = random(outputs);
            dy.iter_mut().step_by(3).for_each(|d| *d = 0.0);
            let rows = || w.chunks_exact(inputs);

            let mut y = vec![0.0; outputs];
            forward(Needs::ALL, &w, &b, &x, &mut y);
            let expected: Vec<f32> = rows()
                .zip(&b)
                .map(|(row, &b)| row.iter().zip(&x).fold(b, |acc, (&w, &x)| acc + w * x))
                .collect();
            assert_eq!(bits(&y), bits(&expected), "forward {inputs}→{outputs}");

            let mut dx = vec![7.0; inputs];
            input_grad(Needs::ALL, &w, &dy, &mut dx);
            let expected: Vec<f32> = (0..inputs)
                .map(|i| rows().zip(&dy).fold(0.0, |acc, (row, &d)| acc + row[i] * d))
                .collect();
            assert_eq!(bits(&dx), bits(&expected), "input_grad {inputs}→{outputs}");

            let (mut gw, mut gb) = (random(inputs * outputs), random(outputs));
            let (gw0, gb0) = (gw.clone(), gb.clone());
            backward(Needs::ALL, &w, &x, &dy, &mut gw, &mut gb, None);
            for o in 0..outputs {
                assert_eq!(gb[o].to_bits(), (gb0[o] + dy[o]).to_bits(), "bias grad {o}");
                for (i, &xi) in x.iter().enumerate() {
                    let k = o * inputs + i;
                    let want = if dy[o] == 0.0 {
                        gw0[k]
                    } else {
                        gw0[k] + dy[o] * xi
                    };
                    assert_eq!(
                        gw[k].to_bits(),
                        want.to_bits(),
                        "grad {inputs}→{outputs} [{o}][{i}]"
                    );
                }
            }

            let (mut w2, mut b2, lr) = (w.clone(), b.clone(), 0.03);
            sgd_fused(Needs::ALL, &mut w2, &mut b2, &x, &dy, lr);
            for o in 0..outputs {
                let want_b = if dy[o] == 0.0 {
                    b[o]
                } else {
                    b[o] - lr * dy[o]
                };
                assert_eq!(b2[o].to_bits(), want_b.to_bits(), "sgd bias {o}");
                for (i, &xi) in x.iter().enumerate() {
                    let k = o * inputs + i;
                    let want = if dy[o] == 0.0 {
                        w[k]
                    } else {
                        w[k] - lr * (dy[o] * xi)
                    };
                    assert_eq!(
                        w2[k].to_bits(),
                        want.to_bits(),
                        "sgd {inputs}→{outputs} [{o}][{i}]"
                    );
                }
            }
        }
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|v| v.to_bits()).collect()
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
