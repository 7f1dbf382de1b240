//! Cortex-M4F kernels of the dense layer, in assembly (`dense_m4.s`).
//!
//! Why assembly: for the plain Rust loops LLVM reloads `x` for every row, loads one float per
//! instruction and re-tests the chunk bounds every four MACs (4.6 instructions per MAC of a training
//! step). The kernels stream eight floats per `vldmia`, keep four rows' sums (or eight columns' sums)
//! in `s` registers, and count loop trips down to zero: about 1.2 instructions per forward MAC.
//! Every sum keeps the order and the rounding of the Rust loops (non-fused `vmla.f32`/`vmls.f32`),
//! so results are bit-identical to the host.
//!
//! Why functions in `global_asm!` rather than `asm!` blocks: stable rustc does not enable the `vfp2`
//! feature that `asm!` needs for `s` register operands on `thumbv7em-none-eabihf` (its FPU is single
//! precision), and it exposes no ARM `target_feature` to `cfg`; a call under the AAPCS-VFP tells the
//! compiler exactly which registers are clobbered. `target_abi = "eabihf"` stands for "has a VFP".
//!
//! Each wrapper checks the shapes and returns `false` (the caller then runs the Rust loops) unless
//! the row length is a non-zero multiple of eight and every slice is long enough.
#![allow(unsafe_code)]

core::arch::global_asm!(include_str!("dense_m4.s"), options(raw));

extern "C" {
    fn tinytrain_m4_forward(
        x: *const f32,
        w: *const f32,
        n: usize,
        y: *mut f32,
        bias: *const f32,
        rows: usize,
    );
    fn tinytrain_m4_input_grad(w: *const f32, dy: *const f32, rows: usize, n: usize, dx: *mut f32);
    fn tinytrain_m4_sgd(
        x: *const f32,
        w: *mut f32,
        n: usize,
        b: *mut f32,
        dy: *const f32,
        rows: usize,
        lr: f32,
    );
    fn tinytrain_m4_grad(
        x: *const f32,
        g: *mut f32,
        n: usize,
        bias_grad: *mut f32,
        dy: *const f32,
        rows: usize,
    );
}

/// `rows` rows of `n` inputs fit the kernels' constraints.
#[inline(always)]
fn fits(n: usize, rows: usize, matrix: usize, vector: usize) -> bool {
    n % 8 == 0 && n > 0 && rows > 0 && matrix >= rows * n && vector >= rows
}

/// [`super::forward`]: `y[o] = b[o] + Σᵢ W[o][i]·x[i]`.
#[inline(always)]
pub(super) fn forward(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) -> bool {
    let (n, rows) = (x.len(), y.len());
    if !fits(n, rows, weight.len(), bias.len()) {
        return false;
    }
    // SAFETY: reads `rows·n` weights, `n` inputs and `rows` biases, writes `rows` outputs; all
    // checked to exist.
    unsafe {
        tinytrain_m4_forward(
            x.as_ptr(),
            weight.as_ptr(),
            n,
            y.as_mut_ptr(),
            bias.as_ptr(),
            rows,
        )
    };
    true
}

/// [`super::input_grad`]: `dx[i] = Σₒ W[o][i]·dy[o]` from +0 in increasing `o`.
#[inline(always)]
pub(super) fn input_grad(weight: &[f32], dy: &[f32], dx: &mut [f32]) -> bool {
    let (n, rows) = (dx.len(), dy.len());
    if !fits(n, rows, weight.len(), rows) {
        return false;
    }
    // SAFETY: reads `rows·n` weights and `rows` output gradients, writes `n` input gradients.
    unsafe { tinytrain_m4_input_grad(weight.as_ptr(), dy.as_ptr(), rows, n, dx.as_mut_ptr()) };
    true
}

/// [`super::sgd_fused`]: `b −= lr·dy`, `W[o][i] −= lr·(dy[o]·x[i])`, rows with `dy = 0` skipped.
#[inline(always)]
pub(super) fn sgd(weight: &mut [f32], bias: &mut [f32], x: &[f32], dy: &[f32], lr: f32) -> bool {
    let (n, rows) = (x.len(), dy.len());
    if !fits(n, rows, weight.len(), bias.len()) {
        return false;
    }
    // SAFETY: reads and writes `rows·n` weights and `rows` biases, reads `n` inputs and `rows`
    // output gradients.
    unsafe {
        tinytrain_m4_sgd(
            x.as_ptr(),
            weight.as_mut_ptr(),
            n,
            bias.as_mut_ptr(),
            dy.as_ptr(),
            rows,
            lr,
        )
    };
    true
}

/// The gradient part of [`super::backward`]: `∂b += dy`, `∂W[o][i] += dy[o]·x[i]` (rows with
/// `dy = 0` skipped).
#[inline(always)]
pub(super) fn grad(x: &[f32], dy: &[f32], weight_grad: &mut [f32], bias_grad: &mut [f32]) -> bool {
    let (n, rows) = (x.len(), dy.len());
    if !fits(n, rows, weight_grad.len(), bias_grad.len()) {
        return false;
    }
    // SAFETY: reads and writes `rows·n` weight gradients and `rows` bias gradients, reads `n`
    // inputs and `rows` output gradients.
    unsafe {
        tinytrain_m4_grad(
            x.as_ptr(),
            weight_grad.as_mut_ptr(),
            n,
            bias_grad.as_mut_ptr(),
            dy.as_ptr(),
            rows,
        )
    };
    true
}
