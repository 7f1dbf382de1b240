//! `tinytrain export RUN_DIR --int8`: int8 post-training quantisation of a classification run,
//! with integer-only inference (TFLite's scheme: Jacob et al., CVPR 2018; the maths in
//! [`quant`]).
//!
//! * **Weights**: symmetric, per output channel: `s_w[o] = max|W[o][:]| / 127`, zero point 0,
//!   values `-127..=127`.
//! * **Activations**: int8, asymmetric per tensor, `real = s·(q − zero)`, the range of each
//!   tensor calibrated as the minimum and maximum of the float network's activations
//!   (`f32`, the core's expressions) over the run's **training rows** (widened to hold 0). The
//!   tensors are the standardised input, each dense layer's output (after its ReLU when one
//!   follows: the ReLU is then fused into the layer as the clamp `q ≥ zero`), and each other
//!   activation's output.
//! * **Biases**: `i32` at scale `s_in·s_w[o]`, with `−zero_in·Σᵢ W_q[o][i]` folded in, bounded so
//!   that no `i32` sum can overflow ([`quant::bias_bound`]).
//! * **Dense**: `i32` sums of `i8·i8` products, then `s_in·s_w[o]/s_out` as a 31-bit fixed-point
//!   multiplier and a right shift (one exact 64-bit product, one rounding, halves away from zero:
//!   [`kernel::requantize`]), plus the output's zero point, clamped to int8.
//! * **Batch norm**: folded into the dense layer it follows, ahead of calibration
//!   ([`Model::for_inference`]), so the int8 model has dense layers only.
//! * **tanh, sigmoid, LeakyReLU**: a 256-entry int8 table computed at export time,
//!   `table[q + 128] = quantize_out(f(dequantize_in(q)))`. A ReLU that follows no dense layer is
//!   `max(q, zero)`. Dropout is the identity.
//! * **Output**: the class is the argmax of the int8 logits, the first on ties (the core's rule),
//!   or for the one-logit sigmoid head `q ≥ zero` (the real logit is at least 0).
//! * **The one floating-point step** is the input quantiser: the raw row standardised as the core
//!   does, `z = (x − mean)·scale`, then `q = round(z / s_in) + zero_in` (`f32`, exact rounding,
//!   [`kernel::quantize`]). Everything after it is integer. `forward_int8` / `predict_int8` of the
//!   export take the int8 row directly.
//!
//! The arithmetic lives once, in [`kernel`] (`kernel.rs`): the host computes its int8
//! predictions with it and the Rust export pastes the file verbatim, so a device running the
//! export gives the host's int8 predictions exactly. Regression runs are refused: the task is
//! classification (an int8 output would round the target to 1/255 of its range).

/// The integer kernels, shared verbatim with the Rust export (`kernel.rs`).
pub mod kernel;
pub mod quant;
pub mod rows;
pub mod rust;

use anyhow::{bail, Context};
use tinytrain::layers::Activation;
use tinytrain::loss::Head;
use tinytrain::spec::Layer;

use crate::csv_data::Task;
use crate::model::Model;
use quant::Params;

/// A quantised dense layer (see [`kernel::Dense`] for the meaning of each field).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantDense {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// `[outputs][inputs]` row-major.
    pub weight: Vec<i8>,
    /// Per output, the input's zero point folded in.
    pub bias: Vec<i32>,
    /// Per output.
    pub multiplier: Vec<i32>,
    /// Per output.
    pub shift: Vec<u8>,
    /// The output's quantisation.
    pub output: Params,
    /// `true`: the ReLU after the layer is fused (the clamp starts at the zero point).
    pub relu: bool,
}

impl QuantDense {
    /// The kernel's view of the layer.
    pub fn kernel(&self) -> kernel::Dense<'_> {
        kernel::Dense {
            inputs: self.inputs,
            weight: &self.weight,
            bias: &self.bias,
            multiplier: &self.multiplier,
            shift: &self.shift,
            zero: self.output.zero,
            min: self.min(),
            max: 127,
        }
    }

    /// The smallest output: the zero point with a fused ReLU, else -128.
    pub fn min(&self) -> i8 {
        if self.relu {
            self.output.zero as i8
        } else {
            -128
        }
    }
}

/// One step of the int8 forward pass.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A dense layer.
    Dense(QuantDense),
    /// An activation by table.
    Lookup {
        /// The function tabulated.
        activation: Activation,
        /// Outputs for inputs -128..=127.
        table: Box<[i8; 256]>,
        /// Width.
        width: usize,
        /// The output's quantisation.
        output: Params,
    },
    /// A ReLU that follows no dense layer: `max(q, zero)`.
    Relu {
        /// The zero point of the vector.
        zero: i8,
        /// Width.
        width: usize,
    },
    /// Dropout at inference: nothing (kept for the generated comment).
    Dropout {
        /// The training-time rate.
        p: f32,
    },
}

/// A run quantised to int8.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Model {
    /// Features per row.
    pub inputs: usize,
    /// Int8 outputs (logits).
    pub outputs: usize,
    /// The standardiser's mean and scale (`None`: the run did not standardise).
    pub standardize: Option<(Vec<f32>, Vec<f32>)>,
    /// The input quantiser's `1 / s_in`, as the `f32` the quantiser multiplies by.
    pub input_inv_step: f32,
    /// The input's quantisation (`scale` is `1 / input_inv_step` exactly).
    pub input: Params,
    /// The steps.
    pub ops: Vec<Op>,
    /// The head: softmax (argmax) or one sigmoid logit.
    pub head: Head,
    /// Training rows the ranges were calibrated on.
    pub calibration_rows: usize,
}

impl Int8Model {
    /// Quantises the classification run `model`, its activation ranges calibrated on `train`
    /// (raw feature rows: the run's training rows). Batch norms are folded into the dense layers
    /// first ([`Model::for_inference`]).
    pub fn calibrate(model: &Model, train: &[Vec<f32>]) -> anyhow::Result<Int8Model> {
        if model.has_batch_norm() {
            return Self::calibrate(&model.for_inference()?, train);
        }
        check_classification(model)?;
        if train.is_empty() {
            bail!("no training rows to calibrate the int8 ranges on");
        }
        let standardize = model
            .normalization
            .as_ref()
            .map(|n| (n.feature_mean.clone(), n.feature_scale.clone()));
        // The standardised rows, by the kernel's expression (what the quantiser will see).
        let mut values: Vec<Vec<f32>> = train
            .iter()
            .map(|x| match &standardize {
                Some((mean, scale)) => x
                    .iter()
                    .zip(mean)
                    .zip(scale)
                    .map(|((&x, &m), &s)| (x - m) * s)
                    .collect(),
                None => x.clone(),
            })
            .collect();
        let (min, max) = range(&values);
        let initial = Params::from_range(min, max);
        let input_inv_step = (1.0 / initial.scale) as f32;
        let input = Params {
            scale: 1.0 / f64::from(input_inv_step),
            zero: initial.zero,
        };

        let mut ops = Vec::new();
        let mut current = input;
        let mut dense = model.weights.layers.iter();
        let layers = &model.layers;
        let mut k = 0;
        while k < layers.len() {
            match layers[k] {
                Layer::Dense { inputs, outputs } => {
                    let weights = dense.next().context("weights.json has too few layers")?;
                    // The float layer, in f32 from the bias in increasing order (the core's).
                    values = values
                        .iter()
                        .map(|x| {
                            weights
                                .weight
                                .iter()
                                .zip(&weights.bias)
                                .map(|(row, &b)| {
                                    row.iter().zip(x).fold(b, |sum, (&w, &x)| sum + w * x)
                                })
                                .collect()
                        })
                        .collect();
                    // A ReLU next (dropouts between are the identity) is fused.
                    let next = layers[k + 1..]
                        .iter()
                        .position(|l| !matches!(l, Layer::Dropout { .. }))
                        .map(|j| k + 1 + j);
                    let relu =
                        next.is_some_and(|j| layers[j] == Layer::Activation(Activation::Relu));
                    if relu {
                        relu_in_place(&mut values);
                    }
                    let (min, max) = range(&values);
                    let output = Params::from_range(min, max);
                    ops.push(Op::Dense(quantize_dense(
                        inputs, outputs, weights, current, output, relu,
                    )?));
                    current = output;
                    if let (true, Some(j)) = (relu, next) {
                        // The dropouts before the fused ReLU, then skip the ReLU itself.
                        for layer in &layers[k + 1..j] {
                            if let Layer::Dropout { p } = *layer {
                                ops.push(Op::Dropout { p });
                            }
                        }
                        k = j;
                    }
                }
                Layer::Activation(Activation::Relu) => {
                    relu_in_place(&mut values);
                    ops.push(Op::Relu {
                        zero: current.zero as i8,
                        width: values.first().map_or(0, Vec::len),
                    });
                }
                Layer::Activation(activation) => {
                    let before = current;
                    for v in &mut values {
                        let x = v.clone();
                        activation.forward(&x, v);
                    }
                    let (min, max) = range(&values);
                    let output = Params::from_range(min, max);
                    let table = Box::new(std::array::from_fn(|i| {
                        let real = before.dequantize((i as i32 - 128) as i8) as f32;
                        let mut y = [0.0f32];
                        activation.forward(&[real], &mut y);
                        output.quantize(f64::from(y[0]))
                    }));
                    ops.push(Op::Lookup {
                        activation,
                        table,
                        width: values.first().map_or(0, Vec::len),
                        output,
                    });
                    current = output;
                }
                Layer::Dropout { p } => ops.push(Op::Dropout { p }),
                Layer::BatchNorm { .. } => {
                    bail!("internal error: layer {k} is a batch norm after folding")
                }
            }
            k += 1;
        }
        Ok(Int8Model {
            inputs: model.plan.inputs,
            outputs: model.plan.outputs,
            standardize,
            input_inv_step,
            input,
            ops,
            head: model.head,
            calibration_rows: train.len(),
        })
    }

    /// The quantisation of the outputs (the logits).
    pub fn output(&self) -> Params {
        self.ops
            .iter()
            .rev()
            .find_map(|op| match op {
                Op::Dense(d) => Some(d.output),
                Op::Lookup { output, .. } => Some(*output),
                _ => None,
            })
            .unwrap_or(self.input)
    }

    /// The int8 row of the raw features `x` (the one floating-point step).
    pub fn quantize(&self, x: &[f32]) -> Vec<i8> {
        let mut q = vec![0i8; self.inputs];
        let standardize = self
            .standardize
            .as_ref()
            .map(|(m, s)| (m.as_slice(), s.as_slice()));
        kernel::quantize(x, standardize, self.input_inv_step, self.input.zero, &mut q);
        q
    }

    /// The int8 logits of the int8 row `q`: integer arithmetic only, the kernels in order.
    pub fn forward(&self, q: &[i8]) -> Vec<i8> {
        let mut v = q.to_vec();
        for op in &self.ops {
            match op {
                Op::Dense(d) => {
                    let mut y = vec![0i8; d.outputs];
                    kernel::dense(&d.kernel(), &v, &mut y);
                    v = y;
                }
                Op::Lookup { table, .. } => kernel::lookup(table, &mut v),
                Op::Relu { zero, .. } => kernel::relu(*zero, &mut v),
                Op::Dropout { .. } => {}
            }
        }
        v
    }

    /// The class of int8 logits: argmax, or for the sigmoid head `q ≥ zero` (real logit ≥ 0).
    pub fn class_of(&self, logits: &[i8]) -> usize {
        match self.head {
            Head::SigmoidBinaryCrossEntropy => {
                usize::from(i32::from(logits[0]) >= self.output().zero)
            }
            _ => kernel::argmax(logits),
        }
    }

    /// The class of the raw features `x`.
    pub fn predict(&self, x: &[f32]) -> usize {
        self.class_of(&self.forward(&self.quantize(x)))
    }

    /// The widest vector between two steps (the activation buffers' width).
    pub fn buffer_width(&self) -> usize {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Dense(d) => Some(d.outputs),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// `--int8` quantises classification runs only.
pub fn check_classification(model: &Model) -> anyhow::Result<()> {
    if model.task != Task::Classification || !model.head.is_classification() {
        bail!(
            "{} is a regression run: --int8 quantises classification runs (an int8 output would \
             round the target to 1/255 of its range); export it without --int8",
            model.dir.display()
        );
    }
    Ok(())
}

/// `[min, max]` over every value of every row.
fn range(values: &[Vec<f32>]) -> (f64, f64) {
    values
        .iter()
        .flatten()
        .fold((0.0f64, 0.0f64), |(lo, hi), &v| {
            let v = f64::from(v);
            (lo.min(v), hi.max(v))
        })
}

fn relu_in_place(values: &mut [Vec<f32>]) {
    for v in values.iter_mut().flatten() {
        *v = if *v > 0.0 { *v } else { 0.0 };
    }
}

/// The dense layer `weights` with its input quantised by `input` and its output by `output`.
fn quantize_dense(
    inputs: usize,
    outputs: usize,
    weights: &crate::weights::DenseWeights,
    input: Params,
    output: Params,
    relu: bool,
) -> anyhow::Result<QuantDense> {
    let bound = quant::bias_bound(inputs);
    if bound <= 0 {
        bail!("a dense layer of {inputs} inputs could overflow the int8 kernel's i32 sums");
    }
    let mut layer = QuantDense {
        inputs,
        outputs,
        weight: Vec::with_capacity(inputs * outputs),
        bias: Vec::with_capacity(outputs),
        multiplier: Vec::with_capacity(outputs),
        shift: Vec::with_capacity(outputs),
        output,
        relu,
    };
    for (row, &b) in weights.weight.iter().zip(&weights.bias) {
        let scale = quant::weight_scale(row);
        let q: Vec<i8> = row
            .iter()
            .map(|&w| quant::quantize_weight(w, scale))
            .collect();
        let sum: i64 = q.iter().map(|&w| i64::from(w)).sum();
        let accumulator_scale = input.scale * scale;
        let bias = (f64::from(b) / accumulator_scale).round() as i64 - i64::from(input.zero) * sum;
        layer.bias.push(bias.clamp(-bound, bound) as i32);
        let (m, shift) = quant::quantize_multiplier(accumulator_scale / output.scale)
            .with_context(|| {
                format!(
                    "cannot requantise a dense layer: its rescaling {} is out of range",
                    accumulator_scale / output.scale
                )
            })?;
        layer.multiplier.push(m);
        layer.shift.push(shift);
        layer.weight.extend_from_slice(&q);
    }
    Ok(layer)
}

/// Validation accuracy of the float network and of its int8 quantisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Validation rows.
    pub rows: usize,
    /// Rows the float network classifies correctly.
    pub float_correct: usize,
    /// Rows the int8 model classifies correctly.
    pub int8_correct: usize,
    /// Rows on which the two predict the same class.
    pub agree: usize,
    /// The int8 model's class of each row.
    pub int8_classes: Vec<usize>,
}

impl Comparison {
    /// Both models on `rows` (raw features) of the classes `truth`.
    pub fn measure(
        model: &Model,
        int8: &Int8Model,
        rows: &[Vec<f32>],
        truth: &[u16],
    ) -> anyhow::Result<Comparison> {
        let float = rows::float_classes(model, rows)?;
        let int8_classes: Vec<usize> = rows.iter().map(|x| int8.predict(x)).collect();
        let count = |f: &dyn Fn(usize) -> bool| (0..rows.len()).filter(|&r| f(r)).count();
        Ok(Comparison {
            rows: rows.len(),
            float_correct: count(&|r| float[r] == truth[r]),
            int8_correct: count(&|r| int8_classes[r] == usize::from(truth[r])),
            agree: count(&|r| int8_classes[r] == usize::from(float[r])),
            int8_classes,
        })
    }

    /// Float accuracy, 0 to 1.
    pub fn float_accuracy(&self) -> f64 {
        self.float_correct as f64 / self.rows.max(1) as f64
    }

    /// Int8 accuracy, 0 to 1.
    pub fn int8_accuracy(&self) -> f64 {
        self.int8_correct as f64 / self.rows.max(1) as f64
    }

    /// E.g. `validation accuracy float 96.67% (29/30), int8 96.67% (29/30); the classes agree on 30 of 30 rows`.
    pub fn text(&self) -> String {
        format!(
            "validation accuracy float {:.2}% ({}/{}), int8 {:.2}% ({}/{}); the classes agree on \
             {} of {} rows",
            100.0 * self.float_accuracy(),
            self.float_correct,
            self.rows,
            100.0 * self.int8_accuracy(),
            self.int8_correct,
            self.rows,
            self.agree,
            self.rows
        )
    }
}
