//! `tinytrain export RUN_DIR --format rust|c [--out FILE]`: a finished run as an inference-only
//! source file — the weights as constants and a `forward` function of plain loops — for a firmware
//! that only predicts.
//!
//! * [`rust`]: a module that uses only `core` (for a `#![no_std]` crate). It standardises the raw
//!   features as the core does, `(x − mean) · scale`, then runs each dense sum from its bias over the
//!   inputs in increasing order, the order of the core's kernels: its outputs equal `tinytrain
//!   predict`'s bit for bit (on any target, as the core's do).
//! * [`c`]: a header. It folds the standardiser into the first dense layer,
//!   `W' = W · diag(scale)`, `b' = b − W · (mean · scale)` (in `f64`, rounded once), so the device
//!   saves the standardisation's constants and its pass over the input; the folded sums round
//!   differently, so its outputs agree with `predict`'s to about 1e-6 instead of bit for bit.
//!
//! A run with batch norm is exported with every batch norm folded into the dense layer before it
//! ([`Model::for_inference`]: eval mode, the running statistics; in `f64`, rounded once), so the
//! device runs dense layers only; the folded sums round differently, so such an export agrees with
//! `predict` to about 1e-6 relative (the Rust one too) rather than bit for bit.
//!
//! Both state their flash (the constants' bytes; the code comes on top) and RAM (the two activation
//! buffers the forward pass alternates between) in their header comment and on stderr.
//!
//! With `--int8` ([`int8`]) a classification run is quantised to int8 (weights per output channel,
//! activations calibrated on the run's training rows, integer-only inference after the input
//! quantiser) and exported as a Rust module; stderr gets the validation accuracy of the float and
//! the int8 model.

pub mod c;
pub mod int8;
pub mod rust;

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use tinytrain::layers::Activation;
use tinytrain::spec::Layer;

use crate::csv_data::Task;
use crate::model::Model;
use crate::run_dir::write_atomic;

/// The options of `tinytrain export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// A finished run directory (its manifest.json and weights.json)
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// The language of the source file
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write the source to this file (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace --out FILE if it exists
    #[arg(long)]
    pub force: bool,
    /// Prefix of the C names, e.g. iris gives iris_forward [default: from --out's file name, else the run directory's name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Quantise a classification run to int8 (integer-only inference; --format rust), calibrated on
    /// its training rows; prints the float and int8 validation accuracy
    #[arg(long)]
    pub int8: bool,
    /// With --int8: the run's data file, read again for its training and validation rows [default: the manifest's config.data]
    #[arg(long, value_name = "FILE.csv", requires = "int8")]
    pub data: Option<PathBuf>,
}

/// The language of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A Rust module using only `core` (`#![no_std]`), bit-identical to `tinytrain predict`
    Rust,
    /// A C99 header, the standardiser folded into the first layer (agrees with predict to ~1e-6)
    C,
}

/// Where a vector of the forward pass lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The caller's input row.
    Input,
    /// The first activation buffer.
    A,
    /// The second activation buffer.
    B,
    /// The caller's output array.
    Output,
}

impl Place {
    /// The buffer a step reading `self` writes into.
    pub(crate) fn other(self) -> Place {
        match self {
            Place::A => Place::B,
            _ => Place::A,
        }
    }
}

/// One step of the forward pass, in order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// `to[i] = (x[i] − mean[i]) · scale[i]` for the input row.
    Standardize {
        /// Where the standardised row goes.
        to: Place,
    },
    /// `to[o] = b[o] + Σᵢ W[o][i] · from[i]`, dense layer number `index` (0-based among the dense
    /// layers).
    Dense {
        /// Which dense layer.
        index: usize,
        /// Input width.
        inputs: usize,
        /// Output width.
        outputs: usize,
        /// The input vector.
        from: Place,
        /// The output vector.
        to: Place,
    },
    /// An element-wise activation, in place.
    Activation {
        /// The function.
        activation: Activation,
        /// The vector.
        at: Place,
        /// Its width.
        width: usize,
    },
    /// Dropout: the identity at inference (a comment in the code).
    Dropout {
        /// Its training-time drop probability.
        p: f32,
    },
    /// `Output = from` (only when the last layer is not dense).
    Copy {
        /// The vector.
        from: Place,
        /// Its width.
        width: usize,
    },
}

/// The forward pass of `model` (without batch norms: [`Model::for_inference`]) as steps over at
/// most two buffers, and the buffers' width. `standardize`: the first step standardises the input
/// (else the caller's row feeds the first layer).
pub fn steps(model: &Model, standardize: bool) -> anyhow::Result<(Vec<Step>, usize)> {
    let mut steps = Vec::new();
    let mut at = Place::Input;
    let mut width = model.plan.inputs;
    let mut buffer = 0;
    if standardize {
        steps.push(Step::Standardize { to: Place::A });
        at = Place::A;
        buffer = width;
    }
    let last = model.layers.len().saturating_sub(1);
    let mut dense = 0;
    for (k, layer) in model.layers.iter().enumerate() {
        match *layer {
            Layer::Dense { inputs, outputs } => {
                let to = if k == last { Place::Output } else { at.other() };
                steps.push(Step::Dense {
                    index: dense,
                    inputs,
                    outputs,
                    from: at,
                    to,
                });
                dense += 1;
                at = to;
                width = outputs;
                if to != Place::Output {
                    buffer = buffer.max(width);
                }
            }
            Layer::Activation(activation) => steps.push(Step::Activation {
                activation,
                at,
                width,
            }),
            Layer::Dropout { p } => steps.push(Step::Dropout { p }),
            Layer::BatchNorm { .. } => bail!(
                "internal error: layer {k} is a batch norm: exports take the folded model \
                 (Model::for_inference)"
            ),
        }
    }
    if at != Place::Output {
        steps.push(Step::Copy { from: at, width });
    }
    Ok((steps, buffer))
}

/// `true` if some step writes into `place`: the buffer must exist.
pub fn writes(steps: &[Step], place: Place) -> bool {
    steps.iter().any(|step| match *step {
        Step::Standardize { to } | Step::Dense { to, .. } => to == place,
        _ => false,
    })
}

/// What an export takes on the device, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// The weights' and biases' constants (`f32`).
    pub weights: usize,
    /// Other `f32` constants: the standardiser's statistics, the target's mean and scale.
    pub other: usize,
    /// The class and feature names: their text and, on a 32-bit target, a 4-byte pointer and
    /// (Rust) a 4-byte length each.
    pub names: usize,
    /// Activation buffers the forward pass declares (0, 1 or 2).
    pub buffers: usize,
    /// Floats in each buffer.
    pub buffer_floats: usize,
}

impl Footprint {
    /// The footprint of `steps` over buffers of `width` floats, with these constants.
    pub fn of(steps: &[Step], width: usize, weights: usize, other: usize, names: usize) -> Self {
        Footprint {
            weights,
            other,
            names,
            buffers: [Place::A, Place::B]
                .into_iter()
                .filter(|&p| writes(steps, p))
                .count(),
            buffer_floats: width,
        }
    }

    /// Flash for constants.
    pub fn flash(&self) -> usize {
        self.weights + self.other + self.names
    }

    /// RAM (stack) for the activation buffers.
    pub fn ram(&self) -> usize {
        self.buffers * 4 * self.buffer_floats
    }

    /// The flash figure as a sentence, for the header comment and stderr.
    pub fn flash_text(&self, model: &Model) -> String {
        format!(
            "flash {} bytes of constants ({} parameters: {} bytes; other floats: {} bytes; names: \
             {} bytes), the code comes on top",
            self.flash(),
            model.plan.params,
            self.weights,
            self.other,
            self.names,
        )
    }

    /// The RAM figure as a sentence, for the header comment and stderr.
    pub fn ram_text(&self, model: &Model) -> String {
        let buffers = match self.buffers {
            0 => "no activation buffer".to_string(),
            1 => format!("one activation buffer of {} floats", self.buffer_floats),
            _ => format!("two activation buffers of {} floats", self.buffer_floats),
        };
        format!(
            "RAM {} bytes on the stack ({buffers}), besides the caller's input ({} floats) and \
             output ({} floats)",
            self.ram(),
            model.plan.inputs,
            model.plan.outputs,
        )
    }
}

/// The bytes of `names` on a 32-bit target: text, plus `per_name` bytes of pointer (and length).
pub fn names_bytes(names: &[String], per_name: usize, terminator: usize) -> usize {
    names.iter().map(|n| n.len() + terminator + per_name).sum()
}

/// Runs `tinytrain export`.
pub fn execute(args: &ExportArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        crate::run_dir::check_output_file(out, args.force)?;
    }
    let trained = Model::load(&args.run)?;
    check_finite(&trained)?;
    if args.int8 {
        return execute_int8(args, &trained);
    }
    let model = trained.for_inference()?;
    let (code, footprint) = match args.format {
        Format::Rust => rust::generate(&model)?,
        Format::C => {
            let name = args
                .name
                .clone()
                .or_else(|| {
                    args.out
                        .as_ref()
                        .and_then(|o| o.file_stem())
                        .map(|s| s.to_string_lossy().into_owned())
                })
                .or_else(|| {
                    model
                        .dir
                        .canonicalize()
                        .ok()?
                        .file_name()
                        .map(|s| s.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "model".into());
            c::generate(&model, &c::identifier(&name))?
        }
    };
    let target = write_out(args, &code)?;
    eprintln!(
        "exported {} ({}, {}) to {target}: {}; {}",
        model.dir.display(),
        model.shape(),
        match args.format {
            Format::Rust => "Rust",
            Format::C => "C",
        },
        footprint.flash_text(&model),
        footprint.ram_text(&model)
    );
    Ok(())
}

/// Writes `code` to `--out` (atomically) or stdout; returns where it went, for the message.
fn write_out(args: &ExportArgs, code: &str) -> anyhow::Result<String> {
    match &args.out {
        Some(out) => write_atomic(out, code.as_bytes())?,
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(code.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write the export to stdout")?;
        }
    }
    Ok(args
        .out
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |o| o.display().to_string()))
}

/// `export --int8`: calibrate on the training rows, compare on the validation rows (the float
/// accuracy is `trained`'s, batch norms and all), write Rust.
fn execute_int8(args: &ExportArgs, trained: &Model) -> anyhow::Result<()> {
    if args.format != Format::Rust {
        bail!("--int8 exports Rust only (--format rust): the C export has no integer kernels yet");
    }
    // Refused before the data is read again.
    int8::check_classification(trained)?;
    let rows = int8::rows::RunRows::load(trained, args.data.as_deref())?;
    let model = &trained.for_inference()?;
    let int8 = int8::Int8Model::calibrate(model, &rows.train)?;
    let comparison = int8::Comparison::measure(trained, &int8, &rows.val, &rows.val_classes)?;
    let (code, footprint) = int8::rust::generate(model, &int8, Some(&comparison), &rows.path);
    let target = write_out(args, &code)?;
    eprintln!(
        "exported {} ({}, Rust, int8) to {target}, calibrated on {} training rows of {}\n{}\n{};\n{}",
        model.dir.display(),
        model.shape(),
        int8.calibration_rows,
        rows.path,
        comparison.text(),
        footprint.flash_text(),
        footprint.ram_text(&int8)
    );
    Ok(())
}

/// Constants must be finite numbers to be written as literals.
fn check_finite(model: &Model) -> anyhow::Result<()> {
    let mut stats = model
        .normalization
        .iter()
        .flat_map(|n| n.feature_mean.iter().chain(&n.feature_scale));
    if !(model.weights.is_finite() && stats.all(|v| v.is_finite())) {
        bail!(
            "{} holds a non-finite parameter or statistic (a diverged run?): nothing to export",
            model.dir.display()
        );
    }
    Ok(())
}

/// A line for the header comment: the layers in words, e.g. `dense 4→64, ReLU, dropout 0.1
/// (identity at inference), dense 64→3`, or `dense 64→32 (batch norm folded in), ReLU, …`.
pub fn layers_text(model: &Model) -> String {
    let mut dense = 0;
    let words: Vec<String> = model
        .layers
        .iter()
        .map(|layer| match *layer {
            Layer::Dense { inputs, outputs } => {
                dense += 1;
                if model.folded.contains(&(dense - 1)) {
                    format!("dense {inputs}→{outputs} (batch norm folded in)")
                } else {
                    format!("dense {inputs}→{outputs}")
                }
            }
            Layer::Activation(a) => activation_text(a),
            Layer::Dropout { p } => format!("dropout {p} (the identity at inference)"),
            Layer::BatchNorm { features } => format!("batch norm {features} (eval mode)"),
        })
        .collect();
    words.join(", ")
}

fn activation_text(a: Activation) -> String {
    match a {
        Activation::Relu => "ReLU".into(),
        Activation::LeakyRelu { slope } => format!("LeakyReLU (slope {slope})"),
        Activation::Sigmoid => "sigmoid".into(),
        Activation::Tanh => "tanh".into(),
    }
}

/// Each regression output's `(mean, std)`: `y = output * std + mean` gives it in its target's
/// units, as `tinytrain predict` computes it (one target: the core's
/// [`TrainConfig::target_scale`](tinytrain::train::TrainConfig::target_scale); several, `--targets`:
/// `std = 1 / scale` of each, as [`crate::targets::to_units`]). Empty for classification.
pub fn target_units(model: &Model) -> Vec<(f32, f32)> {
    match model.target_names() {
        _ if model.task != Task::Regression => Vec::new(),
        [_] => vec![model.train_config.target_scale],
        names => {
            let target = model.target_standardizer();
            (0..names.len())
                .map(|j| match target.as_ref() {
                    Some(t) => (t.mean()[j], 1.0 / t.scale()[j]),
                    None => (0.0, 1.0),
                })
                .collect()
        }
    }
}

/// A line for the header comment: what the outputs mean and what `predict` (the function of
/// that name in the export) returns.
pub fn outputs_text(model: &Model, predict: &str) -> String {
    if let names @ [_, _, ..] = model.target_names() {
        return format!(
            "{} outputs, the standardised targets {}; {predict}() gives each in its target's units \
             (output * std + mean)",
            names.len(),
            names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
        );
    }
    match (model.task, model.head) {
        (Task::Regression, _) => format!(
            "one output, the standardised target '{}'; {predict}() returns it in the target's units \
             (output * std + mean)",
            model.label.name
        ),
        (_, tinytrain::loss::Head::SigmoidBinaryCrossEntropy) => format!(
            "one logit z (P(class '{}') = sigmoid(z)); {predict}() returns the class index, 1 when z >= 0",
            model.class_names.get(1).map_or("1", String::as_str)
        ),
        _ => format!(
            "{} logits (softmax gives the class probabilities); {predict}() returns the index of \
             the largest, the first on ties",
            model.plan.outputs
        ),
    }
}

/// `true` if some layer is an activation that needs `exp` or `tanh`.
pub fn needs_math(model: &Model) -> bool {
    model
        .layers
        .iter()
        .any(|l| matches!(l, Layer::Activation(Activation::Sigmoid | Activation::Tanh)))
}
