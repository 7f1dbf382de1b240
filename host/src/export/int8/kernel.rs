// The int8 kernels: compiled into the host (`tinytrain_host::export::int8::kernel`), where they
// give the host's int8 predictions, and pasted verbatim into every `export --int8 --format rust`
// module, so the device runs the very same code. Hence this file holds only `core` items, no
// inner attributes, no `use` and no tests (they are in `quant.rs`).

/// One quantised dense layer: `y[o] = clamp(zero + requantize(bias[o] + Σᵢ weight[o][i]·x[i],
/// multiplier[o], shift[o]), min, max)`, every step an integer one.
///
/// The input's zero point is folded into `bias` at export time
/// (`bias[o] = round(b[o] / (s_in·s_w[o])) − zero_in·Σᵢ weight[o][i]`), so the sum runs over the
/// raw int8 inputs; the weights are symmetric (zero point 0). `min`/`max` is `-128..=127`, or
/// `zero..=127` when the layer's ReLU is fused into it.
#[derive(Clone, Copy, Debug)]
pub struct Dense<'a> {
    /// Input width.
    pub inputs: usize,
    /// `[outputs][inputs]`, row-major, int8, zero point 0.
    pub weight: &'a [i8],
    /// Per output: the bias at scale `s_in·s_w[o]`, the input's zero point folded in.
    pub bias: &'a [i32],
    /// Per output: `s_in·s_w[o]/s_out = multiplier · 2^-shift`, `multiplier` in `[2^30, 2^31)` (or 0).
    pub multiplier: &'a [i32],
    /// Per output: the right shift, `1..=62`.
    pub shift: &'a [u8],
    /// The output's zero point.
    pub zero: i32,
    /// The smallest output value (the fused ReLU's clamp).
    pub min: i8,
    /// The largest output value.
    pub max: i8,
}

/// `acc · multiplier / 2^shift`, rounded to the nearest integer, halves away from zero, saturated
/// to `i32`: one exact 64-bit product and one rounding (the single-rounding form of TFLite's
/// `MultiplyByQuantizedMultiplier`, with round-half-away-from-zero in place of its round-half-up).
/// `shift` is `1..=62` (larger shifts are taken as 62).
pub fn requantize(acc: i32, multiplier: i32, shift: u8) -> i32 {
    let shift = u32::from(shift.clamp(1, 62));
    // |acc · multiplier| < 2^62, so neither the product nor adding half can overflow.
    let product = i64::from(acc) * i64::from(multiplier);
    let half = 1i64 << (shift - 1);
    let rounded = if product >= 0 {
        (product + half) >> shift
    } else {
        -((half - product) >> shift)
    };
    rounded.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// The dense layer `layer` on `x` (`layer.inputs` values) into `y` (one value per output).
pub fn dense(layer: &Dense<'_>, x: &[i8], y: &mut [i8]) {
    let rows = layer.weight.chunks_exact(layer.inputs);
    let per_output = layer.bias.iter().zip(layer.multiplier).zip(layer.shift);
    for ((y, row), ((&bias, &multiplier), &shift)) in y.iter_mut().zip(rows).zip(per_output) {
        // Bounded at export time: |bias| + inputs·128·127 < 2^31.
        let mut acc = bias;
        for (&w, &x) in row.iter().zip(x) {
            acc += i32::from(w) * i32::from(x);
        }
        let out = requantize(acc, multiplier, shift).saturating_add(layer.zero);
        *y = out.clamp(i32::from(layer.min), i32::from(layer.max)) as i8;
    }
}

/// An element-wise activation (tanh, sigmoid, LeakyReLU) as a table of its 256 int8 outputs,
/// indexed by the int8 input + 128; computed at export time.
pub fn lookup(table: &[i8; 256], v: &mut [i8]) {
    for v in v {
        *v = table[usize::from((*v as u8) ^ 0x80)];
    }
}

/// `max(v, zero)`: a ReLU that could not be fused into the dense layer before it.
pub fn relu(zero: i8, v: &mut [i8]) {
    for v in v {
        *v = (*v).max(zero);
    }
}

/// The index of the largest value, the first on ties (the core's `Head::predict_class` rule).
pub fn argmax(v: &[i8]) -> usize {
    let mut best = (0, v.first().copied().unwrap_or(i8::MIN));
    for (i, &z) in v.iter().enumerate() {
        if z > best.1 {
            best = (i, z);
        }
    }
    best.0
}

/// The only floating-point step: a raw row `x` to int8, `q = clamp(round(z·inv_step) + zero,
/// -128, 127)` with `z = (x − mean)·scale` as the core standardises (`z = x` when the run did not
/// standardise: `standardize` is `None`). Plain `f32` operations only, so the host and a Cortex-M
/// give the same bits; `round` is to the nearest, halves away from zero, done exactly (the
/// fraction `t − trunc(t)` of an `f32` below 2^23 is exact).
pub fn quantize(
    x: &[f32],
    standardize: Option<(&[f32], &[f32])>,
    inv_step: f32,
    zero: i32,
    q: &mut [i8],
) {
    for (k, (q, &x)) in q.iter_mut().zip(x).enumerate() {
        let z = match standardize {
            Some((mean, scale)) => (x - mean[k]) * scale[k],
            None => x,
        };
        // Clamped first so that the truncation below is exact; NaN becomes 0 (`as` maps it so).
        let t = (z * inv_step).clamp(-512.0, 512.0);
        let whole = t as i32;
        let fraction = t - whole as f32;
        let rounded = if fraction >= 0.5 {
            whole + 1
        } else if fraction <= -0.5 {
            whole - 1
        } else {
            whole
        };
        *q = (rounded + zero).clamp(-128, 127) as i8;
    }
}
