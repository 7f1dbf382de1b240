//! x86-64 forward kernel of the dense layer (SSE, part of every x86-64 CPU).
//!
//! Why: each output's sum is a chain in input order, so the scalar loops can only run one add per
//! chain at a time and are bound by the scalar adder (two adds per cycle at best). Here the four
//! products `w[r][i..i+4]·x[i..i+4]` of a row come from one `mulps`, a 4×4 transpose turns four rows'
//! products into four columns, and the four rows' sums advance together with one `addps` per input:
//! every sum still adds its rounded products one at a time in increasing input order, so the bits
//! are unchanged. Eight rows (two independent accumulators) hide the adder's latency.
//!
//! The intrinsics are `unsafe` only because they are `#[target_feature(enable = "sse")]` functions;
//! SSE is in the x86-64 baseline, always enabled.
//!
//! Where the CPU has AVX (detected once, at run time, with `cpuid`: the binary stays baseline
//! x86-64), every kernel runs eight lanes instead: the forward pass carries up to 32 rows at once
//! (four independent chains of eight, each input's eight products turned into columns by an 8×8
//! transpose), and the gradient, input-gradient and fused-SGD loops are the Rust loops compiled for
//! AVX. Each lane is one element's own sum, still in the same order, so the bits do not change:
//! the tests compare against the same loops without AVX (`avx_kernels_give_the_baseline_bits`).
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128, __m256, _mm256_add_ps, _mm256_and_ps, _mm256_castsi256_ps, _mm256_loadu_ps,
    _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_set1_epi32, _mm256_set1_ps, _mm256_shuffle_ps,
    _mm256_storeu_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps, _mm_add_ps, _mm_loadu_ps,
    _mm_movehl_ps, _mm_movelh_ps, _mm_mul_ps, _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
};
use core::sync::atomic::{AtomicU8, Ordering};

/// What the CPU runs: 0 not yet detected, 1 SSE only, 2 AVX, 3 AVX and AVX-512F.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The detected level (see [`LEVEL`]), detected once.
#[inline(always)]
fn level() -> u8 {
    match LEVEL.load(Ordering::Relaxed) {
        0 => {
            let found = detect();
            LEVEL.store(found, Ordering::Relaxed);
            found
        }
        known => known,
    }
}

/// Whether the CPU and the operating system support AVX.
#[inline(always)]
pub(super) fn avx() -> bool {
    level() >= 2
}

/// Whether they support AVX-512F as well.
#[inline(always)]
fn avx512() -> bool {
    level() >= 3
}

/// `cpuid` leaf 1 (AVX, OSXSAVE) and leaf 7 (AVX-512F); `xgetbv`: the OS saves the SSE and AVX
/// registers (XCR0 bits 1–2) and the AVX-512 state (bits 5–7).
#[cold]
fn detect() -> u8 {
    // `cpuid` exists on every x86-64 CPU.
    let leaf1 = core::arch::x86_64::__cpuid(1);
    let (osxsave, avx) = (leaf1.ecx >> 27 & 1 == 1, leaf1.ecx >> 28 & 1 == 1);
    if !(osxsave && avx) {
        return 1;
    }
    // SAFETY: OSXSAVE says `xgetbv` exists and the OS has enabled it.
    let xcr0 = unsafe { xcr0() };
    if xcr0 & 0b110 != 0b110 {
        return 1;
    }
    let leaf7 = core::arch::x86_64::__cpuid_count(7, 0);
    if leaf7.ebx >> 16 & 1 == 1 && xcr0 & 0xE0 == 0xE0 {
        3
    } else {
        2
    }
}

#[target_feature(enable = "xsave")]
unsafe fn xcr0() -> u64 {
    core::arch::x86_64::_xgetbv(0)
}

/// Forward of the first `8·⌊O/8⌋` rows with AVX: `y[o] = b[o] + Σᵢ W[o][i]·x[i]`, each sum in
/// increasing `i`. Returns the rows done (0 without AVX or without inputs).
#[inline(always)]
pub(super) fn forward_rows(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) -> usize {
    let n = x.len();
    let rows = y.len().min(bias.len()) / 8 * 8;
    if n == 0 || !avx() || weight.len() < rows * n {
        return 0;
    }
    let mut row = 0;
    while row < rows {
        let groups = ((rows - row) / 8).min(4);
        let (w, b, out) = (&weight[row * n..], &bias[row..], &mut y[row..]);
        // SAFETY: AVX was detected above.
        unsafe {
            match groups {
                4 => forward_groups::<4>(w, b, x, out),
                3 => forward_groups::<3>(w, b, x, out),
                2 => forward_groups::<2>(w, b, x, out),
                _ => forward_groups::<1>(w, b, x, out),
            }
        }
        row += 8 * groups;
    }
    rows
}

/// `G` groups of eight rows: `G` independent chains, one `__m256` accumulator each.
#[target_feature(enable = "avx")]
unsafe fn forward_groups<const G: usize>(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let n = x.len();
    let blocks = n / 8 * 8;
    let mut acc: [__m256; G] = core::array::from_fn(|g| load8(&bias[8 * g..]));
    for i in (0..blocks).step_by(8) {
        let x8 = load8(&x[i..]);
        for (g, acc) in acc.iter_mut().enumerate() {
            let p: [__m256; 8] =
                core::array::from_fn(|k| _mm256_mul_ps(load8(&weight[(8 * g + k) * n + i..]), x8));
            // 8×8 transpose: column j holds the eight rows' products of input i + j.
            let t0 = _mm256_unpacklo_ps(p[0], p[1]);
            let t1 = _mm256_unpackhi_ps(p[0], p[1]);
            let t2 = _mm256_unpacklo_ps(p[2], p[3]);
            let t3 = _mm256_unpackhi_ps(p[2], p[3]);
            let t4 = _mm256_unpacklo_ps(p[4], p[5]);
            let t5 = _mm256_unpackhi_ps(p[4], p[5]);
            let t6 = _mm256_unpacklo_ps(p[6], p[7]);
            let t7 = _mm256_unpackhi_ps(p[6], p[7]);
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let mut a = *acc;
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x20>(u0, u4)); // input i
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x20>(u1, u5)); // i + 1
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x20>(u2, u6)); // i + 2
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x20>(u3, u7)); // i + 3
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x31>(u0, u4)); // i + 4
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x31>(u1, u5)); // i + 5
            a = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x31>(u2, u6)); // i + 6
            *acc = _mm256_add_ps(a, _mm256_permute2f128_ps::<0x31>(u3, u7)); // i + 7
        }
    }
    for (g, acc) in acc.iter().enumerate() {
        store8(&mut y[8 * g..], *acc);
    }
    // The last `n mod 8` inputs, continuing each row's chain.
    for (k, y) in y.iter_mut().take(8 * G).enumerate() {
        let row = &weight[k * n..(k + 1) * n];
        for (&w, &x) in row[blocks..].iter().zip(&x[blocks..]) {
            *y += w * x;
        }
    }
}

/// Inputs the batch kernels hold transposed on the stack (8 samples × this many, 8 KB).
const BATCH_INPUTS: usize = 256;

/// Batch-major forward with AVX of the samples `0..8·⌊n/8⌋` of a mini-batch whose sample `s` has
/// its input at `acts[s·stride + x_at..][..I]` and its output at `acts[s·stride + y_at..][..O]`:
/// eight samples at a time, the lanes of a vector being the samples, so that each weight is
/// broadcast once for eight sums (no transposes). Each sum still runs from the bias through the
/// inputs in increasing order. Returns the samples done (0 without AVX, with more than
/// [`BATCH_INPUTS`] inputs, or with buffers shorter than the geometry).
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_batch(
    weight: &[f32],
    bias: &[f32],
    acts: &mut [f32],
    stride: usize,
    (x_at, inputs): (usize, usize),
    (y_at, outputs): (usize, usize),
    n: usize,
) -> usize {
    let samples = n / 8 * 8;
    let fits = inputs > 0
        && inputs <= BATCH_INPUTS
        && weight.len() >= inputs * outputs
        && bias.len() >= outputs
        && x_at + inputs <= stride
        && y_at + outputs <= stride
        && acts.len() >= samples * stride;
    if samples == 0 || !fits || !avx() {
        return 0;
    }
    for s0 in (0..samples).step_by(8) {
        // SAFETY: AVX was detected; the geometry was checked above.
        unsafe {
            forward8(
                weight,
                bias,
                acts,
                stride,
                (x_at, inputs),
                (y_at, outputs),
                s0,
            )
        };
    }
    samples
}

#[target_feature(enable = "avx")]
unsafe fn forward8(
    weight: &[f32],
    bias: &[f32],
    acts: &mut [f32],
    stride: usize,
    (x_at, inputs): (usize, usize),
    (y_at, outputs): (usize, usize),
    s0: usize,
) {
    // xt[i]: input i of the eight samples.
    let mut xt = [0.0f32; 8 * BATCH_INPUTS];
    for j in 0..8 {
        let x = &acts[(s0 + j) * stride + x_at..][..inputs];
        for (i, &v) in x.iter().enumerate() {
            xt[8 * i + j] = v;
        }
    }
    let xt = &xt[..8 * inputs];
    let mut o = 0;
    while o + 8 <= outputs {
        let sums = rows_of_batch::<8>(&weight[o * inputs..], &bias[o..], xt, inputs);
        scatter(&sums, acts, stride, y_at + o, s0);
        o += 8;
    }
    while o < outputs {
        let sums = rows_of_batch::<1>(&weight[o * inputs..], &bias[o..], xt, inputs);
        scatter(&sums, acts, stride, y_at + o, s0);
        o += 1;
    }
}

/// `R` rows' sums for eight samples: `R` independent chains, one vector (eight samples) each.
#[inline(always)]
fn rows_of_batch<const R: usize>(
    weight: &[f32],
    bias: &[f32],
    xt: &[f32],
    inputs: usize,
) -> [__m256; R] {
    // SAFETY (every intrinsic below): register operations and checked loads; callers run with AVX.
    let mut acc: [__m256; R] = core::array::from_fn(|r| unsafe { _mm256_set1_ps(bias[r]) });
    for (i, x) in xt.chunks_exact(8).enumerate() {
        let x = load8(x);
        for (r, acc) in acc.iter_mut().enumerate() {
            let w = unsafe { _mm256_set1_ps(weight[r * inputs + i]) };
            *acc = unsafe { _mm256_add_ps(*acc, _mm256_mul_ps(w, x)) };
        }
    }
    acc
}

/// Row `o + r`'s eight sums into the outputs of samples `s0..s0 + 8`.
#[inline(always)]
fn scatter<const R: usize>(
    sums: &[__m256; R],
    acts: &mut [f32],
    stride: usize,
    y: usize,
    s0: usize,
) {
    for (r, &v) in sums.iter().enumerate() {
        let mut lanes = [0.0f32; 8];
        store8(&mut lanes, v);
        for (j, &lane) in lanes.iter().enumerate() {
            acts[(s0 + j) * stride + y + r] = lane;
        }
    }
}

/// Batch-major `∂W += Σₛ dyₛ·xₛᵀ`, `∂b += Σₛ dyₛ` with AVX, each element's sum in sample order and
/// a sample's row skipped where its `dy` is 0 (as the sample-at-a-time `dense::backward`); sample
/// `s`'s input at `acts[s·stride + x_at..][..I]`, its `dy` at `deltas[s·d_stride + dy_at..][..O]`.
/// A row of the gradient stays in registers, 64 inputs at a time, over the whole batch. `false`
/// (nothing done) without AVX or with buffers shorter than the geometry.
#[allow(clippy::too_many_arguments)]
pub(super) fn grad_batch(
    acts: &[f32],
    stride: usize,
    (x_at, inputs): (usize, usize),
    deltas: &[f32],
    d_stride: usize,
    (dy_at, outputs): (usize, usize),
    n: usize,
    weight_grad: &mut [f32],
    bias_grad: &mut [f32],
) -> bool {
    let fits = inputs > 0
        && n > 0
        && x_at + inputs <= stride
        && dy_at + outputs <= d_stride
        && acts.len() >= n * stride
        && deltas.len() >= n * d_stride
        && weight_grad.len() >= inputs * outputs
        && bias_grad.len() >= outputs;
    if !fits || !avx() {
        return false;
    }
    // SAFETY: AVX was detected; the geometry was checked above.
    unsafe {
        grad_batch_avx(
            acts,
            stride,
            (x_at, inputs),
            deltas,
            d_stride,
            (dy_at, outputs),
            n,
            weight_grad,
            bias_grad,
        )
    };
    true
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx")]
unsafe fn grad_batch_avx(
    acts: &[f32],
    stride: usize,
    (x_at, inputs): (usize, usize),
    deltas: &[f32],
    d_stride: usize,
    (dy_at, outputs): (usize, usize),
    n: usize,
    weight_grad: &mut [f32],
    bias_grad: &mut [f32],
) {
    let dy = |s: usize, o: usize| deltas[s * d_stride + dy_at + o];
    let dys = |s: usize| &deltas[s * d_stride + dy_at..][..outputs];
    let x = |s: usize| &acts[s * stride + x_at..][..inputs];
    // The biases, eight outputs to a vector, each a sum over the samples in order.
    let (bias_blocks, bias_tail) = bias_grad[..outputs].as_chunks_mut::<8>();
    for (k, b) in bias_blocks.iter_mut().enumerate() {
        let mut acc = load8(b);
        for s in 0..n {
            acc = _mm256_add_ps(acc, load8(&dys(s)[8 * k..]));
        }
        store8(b, acc);
    }
    let tail_start = outputs / 8 * 8;
    for (o, b) in bias_tail.iter_mut().enumerate() {
        let mut acc = *b;
        for s in 0..n {
            acc += dy(s, tail_start + o);
        }
        *b = acc;
    }
    for (o, row) in weight_grad
        .chunks_exact_mut(inputs)
        .take(outputs)
        .enumerate()
    {
        let mut start = 0;
        // Blocks of 64 inputs (eight vectors), 32, then 8, in registers over the batch.
        while start + 64 <= inputs {
            row_block::<8>(
                &mut row[start..start + 64],
                n,
                |s| dy(s, o),
                |s| &x(s)[start..],
            );
            start += 64;
        }
        while start + 32 <= inputs {
            row_block::<4>(
                &mut row[start..start + 32],
                n,
                |s| dy(s, o),
                |s| &x(s)[start..],
            );
            start += 32;
        }
        while start + 8 <= inputs {
            row_block::<1>(
                &mut row[start..start + 8],
                n,
                |s| dy(s, o),
                |s| &x(s)[start..],
            );
            start += 8;
        }
        for (i, g) in row.iter_mut().enumerate().skip(start) {
            for s in 0..n {
                let d = dy(s, o);
                if d != 0.0 {
                    *g += d * x(s)[i];
                }
            }
        }
    }
}

/// `g[..8V] += Σₛ dyₛ·xₛ[..8V]`, the `V` vectors of `g` held in registers across the samples.
///
/// A sample whose `dy` is 0 adds nothing — its products are masked to `+0` rather than skipped by
/// a branch (ReLU makes such zeros at random, a branch mispredicts half of them): `g + (+0) = g`
/// for every `g` but `−0`, which an accumulated gradient never is, and whatever `x` is.
#[inline(always)]
fn row_block<'x, const V: usize>(
    g: &mut [f32],
    n: usize,
    dy: impl Fn(usize) -> f32,
    x: impl Fn(usize) -> &'x [f32],
) {
    let mut acc: [__m256; V] = core::array::from_fn(|v| load8(&g[8 * v..]));
    for s in 0..n {
        let d = dy(s);
        let x = x(s);
        // SAFETY: register operations and checked loads; callers run with AVX.
        let (d, keep) = unsafe {
            (
                _mm256_set1_ps(d),
                _mm256_castsi256_ps(_mm256_set1_epi32(if d != 0.0 { -1 } else { 0 })),
            )
        };
        for (v, acc) in acc.iter_mut().enumerate() {
            let product = unsafe { _mm256_and_ps(_mm256_mul_ps(d, load8(&x[8 * v..])), keep) };
            *acc = unsafe { _mm256_add_ps(*acc, product) };
        }
    }
    for (v, &acc) in acc.iter().enumerate() {
        store8(&mut g[8 * v..], acc);
    }
}

#[inline(always)]
fn load8(v: &[f32]) -> __m256 {
    let v: &[f32; 8] = v[..8].try_into().expect("eight lanes");
    // SAFETY: reads the eight floats of `v` (`loadu`: no alignment needed); callers run with AVX.
    unsafe { _mm256_loadu_ps(v.as_ptr()) }
}

#[inline(always)]
fn store8(out: &mut [f32], v: __m256) {
    let out: &mut [f32; 8] = (&mut out[..8]).try_into().expect("eight lanes");
    // SAFETY: `out` is eight writable floats; callers run with AVX.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
}

#[inline(always)]
fn load(v: &[f32]) -> __m128 {
    let v: &[f32; 4] = v[..4].try_into().expect("four lanes");
    // SAFETY: reads the four floats of `v` (`loadu`: no alignment needed); SSE is baseline.
    unsafe { _mm_loadu_ps(v.as_ptr()) }
}

/// Adds, in order, the columns of the four rows' products of `x4` to `acc` (lane `k` = row `k`).
#[inline(always)]
fn step(acc: __m128, rows: [&[f32]; 4], x4: __m128) -> __m128 {
    // SAFETY: register-only SSE operations; SSE is baseline on x86-64.
    unsafe {
        let [p0, p1, p2, p3] = rows.map(|r| _mm_mul_ps(load(r), x4));
        let (lo01, lo23) = (_mm_unpacklo_ps(p0, p1), _mm_unpacklo_ps(p2, p3));
        let (hi01, hi23) = (_mm_unpackhi_ps(p0, p1), _mm_unpackhi_ps(p2, p3));
        let acc = _mm_add_ps(acc, _mm_movelh_ps(lo01, lo23)); // products of input i
        let acc = _mm_add_ps(acc, _mm_movehl_ps(lo23, lo01)); // i + 1
        let acc = _mm_add_ps(acc, _mm_movelh_ps(hi01, hi23)); // i + 2
        _mm_add_ps(acc, _mm_movehl_ps(hi23, hi01)) // i + 3
    }
}

/// `acc[k] += Σᵢ rows[k][i]·x[i]` over the first `4·⌊len/4⌋` inputs for 8 rows (each at least as
/// long as `x`); returns how many inputs it summed (0 for any other row count).
#[inline(always)]
pub(super) fn dot(rows: &[&[f32]], x: &[f32], acc: &mut [f32]) -> usize {
    let (Ok(rows), Ok(sums)) = (
        <&[&[f32]; 8]>::try_from(rows),
        <&mut [f32; 8]>::try_from(acc),
    ) else {
        return 0;
    };
    let done = x.len() / 4 * 4;
    if rows.iter().any(|r| r.len() < done) {
        return 0;
    }
    let mut a = load(&sums[..4]);
    let mut b = load(&sums[4..]);
    for i in (0..done).step_by(4) {
        let x4 = load(&x[i..i + 4]);
        let at = |k: usize| &rows[k][i..i + 4];
        a = step(a, [at(0), at(1), at(2), at(3)], x4);
        b = step(b, [at(4), at(5), at(6), at(7)], x4);
    }
    let mut out = [0.0f32; 8];
    let (lo, hi) = out.split_at_mut(4);
    store(lo, a);
    store(hi, b);
    *sums = out;
    done
}

#[inline(always)]
fn store(out: &mut [f32], v: __m128) {
    let out: &mut [f32; 4] = out.try_into().expect("four lanes");
    // SAFETY: `out` is four writable floats; `storeu` needs no alignment.
    unsafe { _mm_storeu_ps(out.as_mut_ptr(), v) };
}

/// The gradient, input-gradient and fused-SGD loops: plain Rust, each element's own operations in
/// order, compiled once for AVX and once for AVX-512F (`versions!`), where they vectorise to eight
/// or sixteen lanes.
mod loops {
    /// `∂W += dy·xᵀ`, `∂b += dy`, rows with `dy = 0` skipped (as `dense::backward` does).
    #[inline(always)]
    pub(super) fn grad(x: &[f32], dy: &[f32], weight_grad: &mut [f32], bias_grad: &mut [f32]) {
        for ((row, b), &dy) in weight_grad.chunks_exact_mut(x.len()).zip(bias_grad).zip(dy) {
            *b += dy;
            if dy != 0.0 {
                for (g, &x) in row.iter_mut().zip(x) {
                    *g += dy * x;
                }
            }
        }
    }

    /// `dx[i] = Σₒ W[o][i]·dy[o]` from 0 in increasing `o`: sixteen inputs at a time, their sums
    /// held in registers over the rows (not stored and reloaded per row), then the rest.
    #[inline(always)]
    pub(super) fn input_grad(weight: &[f32], dy: &[f32], dx: &mut [f32]) {
        let n = dx.len();
        let (blocks, tail) = dx.as_chunks_mut::<16>();
        for (k, d) in blocks.iter_mut().enumerate() {
            let mut acc = [0.0f32; 16];
            for (row, &dy) in weight.chunks_exact(n).zip(dy) {
                let w: &[f32; 16] = row[16 * k..16 * k + 16].try_into().expect("sixteen");
                for (a, &w) in acc.iter_mut().zip(w) {
                    *a += w * dy;
                }
            }
            *d = acc;
        }
        let done = n / 16 * 16;
        tail.iter_mut().for_each(|d| *d = 0.0);
        for (row, &dy) in weight.chunks_exact(n).zip(dy) {
            for (d, &w) in tail.iter_mut().zip(&row[done..]) {
                *d += w * dy;
            }
        }
    }

    /// Fused plain SGD, `W −= lr·(dy·xᵀ)`, `b −= lr·dy`, rows with `dy = 0` skipped.
    #[inline(always)]
    pub(super) fn sgd(weight: &mut [f32], bias: &mut [f32], x: &[f32], dy: &[f32], lr: f32) {
        for ((row, b), &dy) in weight.chunks_exact_mut(x.len()).zip(bias).zip(dy) {
            if dy == 0.0 {
                continue;
            }
            *b -= lr * dy;
            for (w, &x) in row.iter_mut().zip(x) {
                *w -= lr * (dy * x);
            }
        }
    }
}

/// `loops::$name` compiled for AVX-512F and for AVX, run by the best the CPU has; `false` (nothing
/// done) on a CPU with neither, or for an empty `$nonempty`.
macro_rules! versions {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*), nonempty = $nonempty:ident) => {
        $(#[$doc])*
        #[inline(always)]
        pub(super) fn $name($($arg: $ty),*) -> bool {
            #[target_feature(enable = "avx512f")]
            unsafe fn wide($($arg: $ty),*) {
                loops::$name($($arg),*)
            }
            #[target_feature(enable = "avx")]
            unsafe fn narrow($($arg: $ty),*) {
                loops::$name($($arg),*)
            }
            if $nonempty.is_empty() || !avx() {
                return false;
            }
            // SAFETY: the CPU and the OS support the feature each version is compiled for.
            unsafe {
                if avx512() {
                    wide($($arg),*)
                } else {
                    narrow($($arg),*)
                }
            }
            true
        }
    };
}

versions! {
    /// [`loops::grad`] in AVX-512F or AVX.
    grad(x: &[f32], dy: &[f32], weight_grad: &mut [f32], bias_grad: &mut [f32]), nonempty = x
}
versions! {
    /// [`loops::input_grad`] in AVX-512F or AVX.
    input_grad(weight: &[f32], dy: &[f32], dx: &mut [f32]), nonempty = dx
}
versions! {
    /// [`loops::sgd`] in AVX-512F or AVX.
    sgd(weight: &mut [f32], bias: &mut [f32], x: &[f32], dy: &[f32], lr: f32), nonempty = x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `cpuid` detection agrees with std's (the AVX kernels run, and are compared bit for bit
    /// by `every_kernel_equals_the_scalar_loops_bit_for_bit`, on a CPU that has AVX).
    #[test]
    fn avx_detection_agrees_with_std() {
        assert_eq!(avx(), std::is_x86_feature_detected!("avx"));
        assert_eq!(avx512(), std::is_x86_feature_detected!("avx512f"));
    }

    /// The kernel's contract, which the dense layer's results alone cannot show (the scalar loops
    /// give the same bits): it sums the first `4·⌊len/4⌋` inputs of exactly 8 rows, in input order,
    /// says how many, and leaves any other call to the scalar loops.
    #[test]
    fn dot_sums_whole_groups_of_four_for_eight_rows() {
        let mut rng = crate::rng::Pcg32::new(2, 9);
        let w: Vec<f32> = (0..8 * 11).map(|_| rng.symmetric(2.0)).collect();
        let x: Vec<f32> = (0..11).map(|_| rng.symmetric(2.0)).collect();
        let rows: Vec<&[f32]> = w.chunks_exact(11).collect();
        let start: Vec<f32> = (0..8).map(|k| k as f32).collect();
        let mut acc = start.clone();
        assert_eq!(dot(&rows, &x, &mut acc), 8);
        for (k, row) in rows.iter().enumerate() {
            let want = row[..8]
                .iter()
                .zip(&x)
                .fold(start[k], |a, (&w, &x)| a + w * x);
            assert_eq!(acc[k].to_bits(), want.to_bits(), "row {k}");
        }
        let mut untouched = start.clone();
        assert_eq!(dot(&rows[..7], &x, &mut untouched[..7]), 0);
        let short: Vec<&[f32]> = rows.iter().map(|r| &r[..7]).collect();
        assert_eq!(dot(&short, &x, &mut untouched), 0);
        assert_eq!(untouched, start);
        // Rows of 7 floats are long enough for an input of 7: its first 4; and rows exactly as
        // long as the groups of four they hold are summed whole.
        assert_eq!(dot(&short, &x[..7], &mut untouched), 4);
        let exact: Vec<&[f32]> = rows.iter().map(|r| &r[..8]).collect();
        assert_eq!(dot(&exact, &x[..8], &mut untouched), 8);
    }
}
