//! The int8 Rust export: one module using only `core`, the quantised constants as `i8`/`i32`
//! arrays and an integer-only `forward_int8`, with [`kernel`](super::kernel)'s file pasted in
//! verbatim, so that it computes exactly what the host's [`Int8Model`] computes.
//!
//! The module has no inner attributes and no `//!` comments, so a firmware can `include!` it
//! (`mod model { include!(env!("…")); }`, as `firmware/src/bin/infer_int8.rs` does) as well as
//! declare it with `mod name;`.

use std::fmt::Write as _;

use tinytrain::loss::Head;

use super::{Comparison, Int8Model, Op};
use crate::export::{layers_text, names_bytes, Place};
use crate::model::Model;

/// The kernels, pasted into every module.
const KERNEL: &str = include_str!("kernel.rs");

/// What an int8 export takes on the device, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int8Footprint {
    /// The int8 weights.
    pub weights: usize,
    /// Per output channel: the `i32` bias, the `i32` multiplier and the `u8` shift.
    pub requantisation: usize,
    /// The activations' 256-entry tables.
    pub tables: usize,
    /// The input quantiser's `f32` constants (standardiser mean and scale, `1/s_in`).
    pub input_quantiser: usize,
    /// The feature and class names (text, and a pointer and a length each on a 32-bit target).
    pub names: usize,
    /// Activation buffers the forward pass declares (0, 1 or 2).
    pub buffers: usize,
    /// Int8 values in each buffer.
    pub buffer_width: usize,
}

impl Int8Footprint {
    /// Flash for constants.
    pub fn flash(&self) -> usize {
        self.weights + self.requantisation + self.tables + self.input_quantiser + self.names
    }

    /// RAM (stack) for the activation buffers.
    pub fn ram(&self) -> usize {
        self.buffers * self.buffer_width
    }

    /// The flash figure as a sentence, for the header comment and stderr.
    pub fn flash_text(&self) -> String {
        format!(
            "flash {} bytes of constants (int8 weights: {} bytes; biases, multipliers and shifts: \
             {} bytes; activation tables: {} bytes; input quantiser floats: {} bytes; names: {} \
             bytes), the code comes on top",
            self.flash(),
            self.weights,
            self.requantisation,
            self.tables,
            self.input_quantiser,
            self.names
        )
    }

    /// The RAM figure as a sentence, for the header comment and stderr.
    pub fn ram_text(&self, int8: &Int8Model) -> String {
        let buffers = match self.buffers {
            0 => "no activation buffer".to_string(),
            1 => format!("one activation buffer of {} int8 values", self.buffer_width),
            _ => format!(
                "two activation buffers of {} int8 values",
                self.buffer_width
            ),
        };
        format!(
            "RAM {} bytes on the stack ({buffers}), besides the int8 input ({} bytes) and logits \
             ({} bytes)",
            self.ram(),
            int8.inputs,
            int8.outputs
        )
    }
}

/// The int8 forward pass's vectors live where the float export's do ([`Place`]).
impl Place {
    /// The vector as a slice expression of `width` values.
    fn slice(self, width: usize, mutable: bool) -> String {
        let m = if mutable { "&mut " } else { "&" };
        match self {
            Place::Input => "&q[..]".into(),
            Place::A => format!("{m}a[..{width}]"),
            Place::B => format!("{m}b[..{width}]"),
            Place::Output => format!("{m}out[..]"),
        }
    }
}

/// The forward pass's statements, and which buffers it uses with their width.
fn forward_body(int8: &Int8Model) -> (Vec<String>, [bool; 2], usize) {
    // The last dense layer writes the logits directly when only dropouts follow it.
    let last_dense = int8.ops.iter().rposition(|op| matches!(op, Op::Dense(_)));
    let direct = last_dense.filter(|&k| {
        int8.ops[k + 1..]
            .iter()
            .all(|op| matches!(op, Op::Dropout { .. }))
    });
    let mut lines = Vec::new();
    let (mut at, mut width) = (Place::Input, int8.inputs);
    let (mut used, mut buffer) = ([false; 2], 0);
    for (k, op) in int8.ops.iter().enumerate() {
        match op {
            Op::Dense(d) => {
                let to = if Some(k) == direct {
                    Place::Output
                } else {
                    at.other()
                };
                match to {
                    Place::A => used[0] = true,
                    Place::B => used[1] = true,
                    _ => {}
                }
                if to != Place::Output {
                    buffer = buffer.max(d.outputs);
                }
                lines.push(format!(
                    "dense(&Dense {{ inputs: {}, weight: &W{k}, bias: &B{k}, multiplier: &M{k}, \
                     shift: &S{k}, zero: {}, min: {}, max: 127 }}, {}, {});",
                    d.inputs,
                    d.output.zero,
                    d.min(),
                    at.slice(width, false),
                    to.slice(d.outputs, true)
                ));
                if d.relu {
                    lines.push("// ReLU: fused above, the clamp from the zero point.".into());
                }
                (at, width) = (to, d.outputs);
            }
            Op::Lookup { activation, .. } => {
                let v = at_mut(&mut at, &mut used, &mut buffer, width, &mut lines);
                lines.push(format!("lookup(&T{k}, {v}); // {activation:?}"));
            }
            Op::Relu { zero, .. } => {
                let v = at_mut(&mut at, &mut used, &mut buffer, width, &mut lines);
                lines.push(format!("relu({zero}, {v});"));
            }
            Op::Dropout { p } => lines.push(format!("// Dropout (p = {p:?}): the identity.")),
        }
    }
    if at != Place::Output {
        lines.push(format!("out.copy_from_slice({});", at.slice(width, false)));
    }
    (lines, used, buffer)
}

/// `at` as a mutable slice; the caller's input is first copied into a buffer (an activation
/// straight after the input, which no network of the CLI has, but the steps allow).
fn at_mut(
    at: &mut Place,
    used: &mut [bool; 2],
    buffer: &mut usize,
    width: usize,
    lines: &mut Vec<String>,
) -> String {
    if *at == Place::Input {
        lines.push(format!("a[..{width}].copy_from_slice(&q[..]);"));
        *at = Place::A;
        used[0] = true;
        *buffer = (*buffer).max(width);
    }
    at.slice(width, true)
}

fn ints(values: impl IntoIterator<Item = impl std::fmt::Display>) -> String {
    let items: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    format!("[{}]", items.join(", "))
}

fn floats(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", items.join(", "))
}

fn strings(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// The module's text and footprint; `comparison` (the validation accuracy) and `calibration` (the
/// data file) go into the header comment.
pub fn generate(
    model: &Model,
    int8: &Int8Model,
    comparison: Option<&Comparison>,
    calibration: &str,
) -> (String, Int8Footprint) {
    let (body, used, buffer) = forward_body(int8);
    let dense: Vec<_> = int8
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Dense(d) => Some(d),
            _ => None,
        })
        .collect();
    let footprint = Int8Footprint {
        weights: dense.iter().map(|d| d.weight.len()).sum(),
        requantisation: dense.iter().map(|d| 9 * d.outputs).sum(),
        tables: 256
            * int8
                .ops
                .iter()
                .filter(|op| matches!(op, Op::Lookup { .. }))
                .count(),
        input_quantiser: 4 + int8.standardize.as_ref().map_or(0, |_| 8 * int8.inputs),
        // `&str`s on a 32-bit target: pointer and length, 8 bytes, and the text.
        names: names_bytes(&model.feature_names, 8, 0) + names_bytes(&model.class_names, 8, 0),
        buffers: used.iter().filter(|&&u| u).count(),
        buffer_width: buffer,
    };
    let output = int8.output();
    let mut s = String::new();
    let h = &mut s;
    let _ = writeln!(
        h,
        "// The tinytrain run `{}` quantised to int8, generated by `tinytrain export --int8 --format rust`.",
        model.dir.display()
    );
    let _ = writeln!(h, "//");
    let _ = writeln!(h, "// Network {}: {}.", model.shape(), layers_text(model));
    let _ = writeln!(
        h,
        "// Outputs: {} int8 logits, real = OUTPUT_SCALE * (q - OUTPUT_ZERO); {}.",
        int8.outputs,
        match int8.head {
            Head::SigmoidBinaryCrossEntropy => format!(
                "predict() returns class 1 ('{}') when q >= OUTPUT_ZERO (the logit is at least 0)",
                model.class_names.get(1).map_or("1", String::as_str)
            ),
            _ => "predict() returns the index of the largest, the first on ties".into(),
        }
    );
    let _ = writeln!(
        h,
        "// Input: the {} raw features in the order of FEATURES. quantize_input() {}\n// quantises \
         them, the only floating-point step; forward_int8() and predict_int8() take the int8 row.",
        int8.inputs,
        if int8.standardize.is_some() {
            "standardises them with the run's statistics and"
        } else {
            "(the run did not standardise them)"
        }
    );
    let _ = writeln!(
        h,
        "// Quantisation: weights int8, symmetric per output channel; activations int8 with a zero \
         point,\n// ranges calibrated on the {} training rows of {calibration}; i32 sums; \
         requantisation by a 31-bit\n// multiplier and a shift, rounding halves away from zero; \
         tanh, sigmoid and LeakyReLU by 256-entry tables.",
        int8.calibration_rows
    );
    if let Some(c) = comparison {
        let _ = writeln!(h, "// On the run's validation rows: {}.", c.text());
    }
    let _ = writeln!(h, "//");
    let _ = writeln!(h, "// Footprint: {};", footprint.flash_text());
    let _ = writeln!(h, "// {}.", footprint.ram_text(int8));
    let _ = writeln!(h, "//");
    let _ = writeln!(
        h,
        "// Uses only `core`. No inner attributes, so it can be `include!`d as well as declared \
         with `mod name;`."
    );
    let _ = writeln!(h);

    let _ = writeln!(h, "/// Features per input row.");
    let _ = writeln!(h, "pub const N_IN: usize = {};", int8.inputs);
    let _ = writeln!(h, "/// Logits of [`forward_int8`].");
    let _ = writeln!(h, "pub const N_OUT: usize = {};", int8.outputs);
    let _ = writeln!(h, "/// The feature columns, in input order.");
    let _ = writeln!(
        h,
        "pub static FEATURES: [&str; N_IN] = {};",
        strings(&model.feature_names)
    );
    let _ = writeln!(
        h,
        "/// The class names as the run read them; [`predict`] indexes them."
    );
    let _ = writeln!(
        h,
        "pub static CLASSES: [&str; {}] = {};",
        model.class_names.len(),
        strings(&model.class_names)
    );
    if let Some((mean, scale)) = &int8.standardize {
        let _ = writeln!(h, "/// Per-feature mean of the training rows.");
        let _ = writeln!(
            h,
            "#[allow(clippy::approx_constant, clippy::excessive_precision)]"
        );
        let _ = writeln!(h, "static MEAN: [f32; N_IN] = {};", floats(mean));
        let _ = writeln!(h, "/// Per-feature `1 / sqrt(variance + 1e-5)`.");
        let _ = writeln!(
            h,
            "#[allow(clippy::approx_constant, clippy::excessive_precision)]"
        );
        let _ = writeln!(h, "static SCALE: [f32; N_IN] = {};", floats(scale));
    }
    let _ = writeln!(
        h,
        "/// `1 / s_in`: the standardised input's step is s_in = {:e}.",
        int8.input.scale
    );
    let _ = writeln!(
        h,
        "#[allow(clippy::approx_constant, clippy::excessive_precision)]"
    );
    let _ = writeln!(h, "const INPUT_INV_STEP: f32 = {:?};", int8.input_inv_step);
    let _ = writeln!(h, "/// The int8 value of a standardised 0.");
    let _ = writeln!(h, "pub const INPUT_ZERO: i32 = {};", int8.input.zero);
    let _ = writeln!(
        h,
        "/// The logits' zero point: `real = OUTPUT_SCALE * (q - OUTPUT_ZERO)`."
    );
    let _ = writeln!(h, "pub const OUTPUT_ZERO: i32 = {};", output.zero);
    let _ = writeln!(
        h,
        "/// The logits' step (for dequantising them; the integer path does not use it)."
    );
    let _ = writeln!(
        h,
        "#[allow(clippy::approx_constant, clippy::excessive_precision)]"
    );
    let _ = writeln!(
        h,
        "pub const OUTPUT_SCALE: f32 = {:?};",
        output.scale as f32
    );
    if buffer > 0 {
        let _ = writeln!(h, "/// Width of the activation buffers.");
        let _ = writeln!(h, "const WIDTH: usize = {buffer};");
    }
    for (k, op) in int8.ops.iter().enumerate() {
        match op {
            Op::Dense(d) => {
                let _ = writeln!(
                    h,
                    "/// Step {k}, dense {}→{}: int8 weights `[outputs][inputs]`, row-major.",
                    d.inputs, d.outputs
                );
                let _ = writeln!(h, "static W{k}: [i8; {}] = [", d.inputs * d.outputs);
                for row in d.weight.chunks(d.inputs.max(1)) {
                    let _ = writeln!(h, "    {},", ints(row).trim_matches(['[', ']']));
                }
                let _ = writeln!(h, "];");
                let _ = writeln!(
                    h,
                    "/// Step {k}: biases at scale `s_in * s_w[o]`, the input's zero point folded in."
                );
                let _ = writeln!(h, "static B{k}: [i32; {}] = {};", d.outputs, ints(&d.bias));
                let _ = writeln!(
                    h,
                    "/// Step {k}: requantisation multipliers, `s_in * s_w[o] / s_out = M * 2^-S`."
                );
                let _ = writeln!(
                    h,
                    "static M{k}: [i32; {}] = {};",
                    d.outputs,
                    ints(&d.multiplier)
                );
                let _ = writeln!(h, "/// Step {k}: requantisation shifts.");
                let _ = writeln!(h, "static S{k}: [u8; {}] = {};", d.outputs, ints(&d.shift));
            }
            Op::Lookup {
                activation, table, ..
            } => {
                let _ = writeln!(
                    h,
                    "/// Step {k}: {activation:?} of every int8 input (index q + 128)."
                );
                let _ = writeln!(h, "static T{k}: [i8; 256] = [");
                for chunk in table.chunks(16) {
                    let _ = writeln!(h, "    {},", ints(chunk).trim_matches(['[', ']']));
                }
                let _ = writeln!(h, "];");
            }
            Op::Relu { .. } | Op::Dropout { .. } => {}
        }
    }
    let _ = writeln!(h);

    let _ = writeln!(
        h,
        "/// The int8 row of raw features `x`: the only floating-point step."
    );
    let _ = writeln!(h, "pub fn quantize_input(x: &[f32; N_IN]) -> [i8; N_IN] {{");
    let _ = writeln!(h, "    let mut q = [0i8; N_IN];");
    let standardize = if int8.standardize.is_some() {
        "Some((&MEAN[..], &SCALE[..]))"
    } else {
        "None"
    };
    let _ = writeln!(
        h,
        "    quantize(&x[..], {standardize}, INPUT_INV_STEP, INPUT_ZERO, &mut q);"
    );
    let _ = writeln!(h, "    q");
    let _ = writeln!(h, "}}");
    let _ = writeln!(h);
    let _ = writeln!(
        h,
        "/// The int8 logits of an int8 row: integer arithmetic only."
    );
    let _ = writeln!(h, "pub fn forward_int8(q: &[i8; N_IN]) -> [i8; N_OUT] {{");
    if used[0] {
        let _ = writeln!(h, "    let mut a = [0i8; WIDTH];");
    }
    if used[1] {
        let _ = writeln!(h, "    let mut b = [0i8; WIDTH];");
    }
    let _ = writeln!(h, "    let mut out = [0i8; N_OUT];");
    for line in &body {
        let _ = writeln!(h, "    {line}");
    }
    let _ = writeln!(h, "    out");
    let _ = writeln!(h, "}}");
    let _ = writeln!(h);
    match int8.head {
        Head::SigmoidBinaryCrossEntropy => {
            let _ = writeln!(
                h,
                "/// The class of an int8 row, an index into [`CLASSES`]: 1 when the logit is at least 0."
            );
            let _ = writeln!(h, "pub fn predict_int8(q: &[i8; N_IN]) -> usize {{");
            let _ = writeln!(
                h,
                "    usize::from(i32::from(forward_int8(q)[0]) >= OUTPUT_ZERO)"
            );
        }
        _ => {
            let _ = writeln!(
                h,
                "/// The class of an int8 row, an index into [`CLASSES`]: the largest logit, the first on ties."
            );
            let _ = writeln!(h, "pub fn predict_int8(q: &[i8; N_IN]) -> usize {{");
            let _ = writeln!(h, "    argmax(&forward_int8(q))");
        }
    }
    let _ = writeln!(h, "}}");
    let _ = writeln!(h);
    let _ = writeln!(h, "/// The class of a row of raw features.");
    let _ = writeln!(h, "pub fn predict(x: &[f32; N_IN]) -> usize {{");
    let _ = writeln!(h, "    predict_int8(&quantize_input(x))");
    let _ = writeln!(h, "}}");
    let _ = writeln!(h);
    let _ = writeln!(
        h,
        "// The kernels: tinytrain's host/src/export/int8/kernel.rs, verbatim (the host's int8 \
         predictions use the\n// same file)."
    );
    h.push_str(KERNEL);
    (s, footprint)
}
