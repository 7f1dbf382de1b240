//! The MLP engine: a list of layers over one flat parameter buffer and one flat gradient buffer.
//!
//! Flat buffers (as in llm.c) make every optimiser a single loop over slices and make weight export,
//! snapshots and checkpoints a copy. Memory layout, all in `f32` unless noted:
//!
//! | buffer        | contents                                                        |
//! |---------------|-----------------------------------------------------------------|
//! | `params`      | for each dense layer: `W` (`outputs × inputs`, row-major) then `b` |
//! | `grads`       | the same layout as `params`; empty for a run that fuses every SGD step |
//! | `activations` | the input, then every layer's output, in order                    |
//! | `deltas`      | two vectors of the widest layer, used in turn by the backward pass |
//! | `masks`       | `u32` dropout bits, one run per dropout layer                    |
//! | `state`       | the optimiser's per-parameter state (momentum, Adam moments)      |

use crate::layers::{dense, dropout, Needs};
use crate::rng::{stream, Pcg32};
use crate::spec::{dense_layers, Layer, Plan, ShapeError};

/// Train mode (dropout active) or eval mode (dropout is the identity), like `model.train()` and
/// `model.eval()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// Dropout draws masks.
    Train,
    /// Dropout passes values through.
    Eval,
}

/// Borrowed memory for a network; lengths must be at least the [`Plan`]'s.
#[derive(Debug)]
pub struct Buffers<'a> {
    /// Trainable parameters, [`Plan::params`] long.
    pub params: &'a mut [f32],
    /// Gradients, [`Plan::params`] long, or empty: a network without gradients trains only through
    /// [`Mlp::backward_sgd`] (see [`TrainConfig::trains_without_gradients`](crate::train::TrainConfig::trains_without_gradients)).
    pub grads: &'a mut [f32],
    /// Activations, [`Plan::activations`] long.
    pub activations: &'a mut [f32],
    /// Back-propagation scratch, [`Plan::deltas`] long.
    pub deltas: &'a mut [f32],
    /// Dropout masks, [`Plan::mask_words`] long.
    pub masks: &'a mut [u32],
    /// Optimiser state, [`optimizer_state_len`](crate::optim::optimizer_state_len) long.
    pub state: &'a mut [f32],
}

/// [`Buffers`] borrowing the six same-named fields of a memory struct.
macro_rules! lend {
    ($memory:expr) => {
        Buffers {
            params: &mut $memory.params,
            grads: &mut $memory.grads,
            activations: &mut $memory.activations,
            deltas: &mut $memory.deltas,
            masks: &mut $memory.masks,
            state: &mut $memory.state,
        }
    };
}

/// Every buffer of a network as arrays of exactly the planned sizes (see [`network!`](crate::network!)):
/// `P` parameters, `G` gradients (`P`, or 0 for a run that fuses every SGD step), `A` activations,
/// `D` deltas, `M` mask words and `S` floats of optimiser state.
#[derive(Clone, Debug)]
pub struct StaticMemory<
    const P: usize,
    const G: usize,
    const A: usize,
    const D: usize,
    const M: usize,
    const S: usize,
> {
    params: [f32; P],
    grads: [f32; G],
    activations: [f32; A],
    deltas: [f32; D],
    masks: [u32; M],
    state: [f32; S],
}

impl<
        const P: usize,
        const G: usize,
        const A: usize,
        const D: usize,
        const M: usize,
        const S: usize,
    > Default for StaticMemory<P, G, A, D, M, S>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<
        const P: usize,
        const G: usize,
        const A: usize,
        const D: usize,
        const M: usize,
        const S: usize,
    > StaticMemory<P, G, A, D, M, S>
{
    /// All zeros; `const` so that it can live in a `static`.
    pub const fn new() -> Self {
        Self {
            params: [0.0; P],
            grads: [0.0; G],
            activations: [0.0; A],
            deltas: [0.0; D],
            masks: [0; M],
            state: [0.0; S],
        }
    }

    /// Borrows every buffer for [`Mlp::new`].
    pub fn buffers(&mut self) -> Buffers<'_> {
        lend!(self)
    }
}

/// A multi-layer perceptron over borrowed buffers.
#[derive(Debug)]
pub struct Mlp<'a> {
    layers: &'a [Layer],
    plan: Plan,
    params: &'a mut [f32],
    grads: &'a mut [f32],
    activations: &'a mut [f32],
    deltas: &'a mut [f32],
    masks: &'a mut [u32],
    state: &'a mut [f32],
    mode: Mode,
    /// The mode of the last forward pass: backward must route through the masks it drew (or not).
    forward_mode: Mode,
    dropout_rng: Pcg32,
}

impl<'a> Mlp<'a> {
    /// Checks the layers and the buffers, and initialises the parameters from `seed` (see
    /// [`Mlp::init`]). Buffers longer than needed are shortened to the plan; the network starts in
    /// train mode.
    pub fn new(layers: &'a [Layer], buffers: Buffers<'a>, seed: u64) -> Result<Self, ShapeError> {
        let plan = Plan::of(layers)?;
        let Buffers {
            params,
            grads,
            activations,
            deltas,
            masks,
            state,
        } = buffers;
        let fits = params.len() >= plan.params
            && (grads.is_empty() || grads.len() >= plan.params)
            && activations.len() >= plan.activations
            && deltas.len() >= plan.deltas
            && masks.len() >= plan.mask_words;
        if !fits {
            return Err(ShapeError::BufferTooSmall);
        }
        let grads_len = plan.params.min(grads.len());
        let mut mlp = Self {
            layers,
            plan,
            params: &mut params[..plan.params],
            grads: &mut grads[..grads_len],
            activations: &mut activations[..plan.activations],
            deltas: &mut deltas[..plan.deltas],
            masks: &mut masks[..plan.mask_words],
            state,
            mode: Mode::Train,
            forward_mode: Mode::Train,
            dropout_rng: Pcg32::new(seed, stream::DROPOUT),
        };
        mlp.init(seed);
        Ok(mlp)
    }

    /// PyTorch-default initialisation of every dense layer (see [`dense::init`]), layer by layer
    /// from one PCG32 stream; zeroes gradients and optimiser state and reseeds dropout.
    pub fn init(&mut self, seed: u64) {
        let mut rng = Pcg32::new(seed, stream::INIT);
        for layout in dense_layers(self.layers) {
            let (weight, bias) = layout.split_mut(self.params);
            dense::init(weight, bias, layout.inputs, &mut rng);
        }
        self.zero_grad();
        self.state.iter_mut().for_each(|s| *s = 0.0);
        self.dropout_rng = Pcg32::new(seed, stream::DROPOUT);
    }

    /// The layers.
    pub fn layers(&self) -> &'a [Layer] {
        self.layers
    }

    /// The memory plan.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// Current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches between train and eval mode.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// Where the next forward pass reads its input ([`Plan::inputs`] values).
    pub fn input_mut(&mut self) -> &mut [f32] {
        self.activations
            .get_mut(..self.plan.inputs)
            .unwrap_or(&mut [])
    }

    /// The last forward pass's output ([`Plan::outputs`] values).
    pub fn output(&self) -> &[f32] {
        let start = self.activations.len().saturating_sub(self.plan.outputs);
        self.activations.get(start..).unwrap_or(&[])
    }

    /// The output, and where the loss writes `∂L/∂output` for [`Mlp::backward`].
    pub fn output_and_grad_mut(&mut self) -> (&[f32], &mut [f32]) {
        let start = self.activations.len().saturating_sub(self.plan.outputs);
        (
            self.activations.get(start..).unwrap_or(&[]),
            self.deltas.get_mut(..self.plan.outputs).unwrap_or(&mut []),
        )
    }

    /// Parameters (flat, see the module docs).
    pub fn params(&self) -> &[f32] {
        self.params
    }

    /// Parameters, writable (to load weights).
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.params
    }

    /// Accumulated gradients.
    pub fn grads(&self) -> &[f32] {
        self.grads
    }

    /// The optimiser's per-parameter state (momentum, Adam moments), for checkpoints.
    pub fn state(&self) -> &[f32] {
        self.state
    }

    /// The optimiser's state, writable (to restore a checkpoint).
    pub fn state_mut(&mut self) -> &mut [f32] {
        self.state
    }

    /// The dropout generator (its position in the stream), for checkpoints.
    pub fn dropout_rng(&self) -> Pcg32 {
        self.dropout_rng
    }

    /// Moves the dropout generator to a saved position (to restore a checkpoint).
    pub fn set_dropout_rng(&mut self, rng: Pcg32) {
        self.dropout_rng = rng;
    }

    /// Parameters, gradients and optimiser state together, for an optimiser step.
    pub fn optimizer_parts(&mut self) -> (&mut [f32], &mut [f32], &mut [f32]) {
        (self.params, self.grads, self.state)
    }

    /// Sets every gradient to zero (the explicit step between mini-batches).
    pub fn zero_grad(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = 0.0);
    }

    /// Forward pass over the input in [`Mlp::input_mut`]; returns the output.
    ///
    /// Every slice is taken with `get`: the plan checked in [`Mlp::new`] makes each exist, and
    /// saying so costs no panic path (the strict no-panic link, `firmware/src/bin/no_panic.rs`).
    pub fn forward(&mut self) -> &[f32] {
        self.forward_in(Needs::ALL)
    }

    /// [`Mlp::forward`] compiled for a network that reaches only the code in `needs` (a trainer
    /// whose [`Settings`](crate::train::Settings) fix the layers).
    #[inline(always)]
    pub(crate) fn forward_in(&mut self, needs: Needs) -> &[f32] {
        self.forward_mode = self.mode;
        let (mut x_start, mut width) = (0, self.plan.inputs);
        let mut dense = dense_layers(self.layers);
        let mut masks = &mut self.masks[..];
        for layer in self.layers {
            let out_width = output_width(layer, width);
            let Some((x, y)) = self
                .activations
                .get_mut(x_start..)
                .and_then(|a| a.split_at_mut_checked(width))
                .and_then(|(x, after)| Some((&*x, after.get_mut(..out_width)?)))
            else {
                break;
            };
            match *layer {
                Layer::Dense { .. } => {
                    if let Some(layout) = dense.next() {
                        let (weight, bias) = layout.split(self.params);
                        dense::forward(needs, weight, bias, x, y);
                    }
                }
                Layer::Activation(activation) => activation.forward_in(needs, x, y),
                Layer::Dropout { p } => {
                    let Some((mask, rest)) =
                        core::mem::take(&mut masks).split_at_mut_checked(width.div_ceil(32))
                    else {
                        break;
                    };
                    masks = rest;
                    if self.mode == Mode::Train && p > 0.0 {
                        dropout::forward(p, x, y, mask, &mut self.dropout_rng);
                    } else {
                        copy(x, y);
                    }
                }
            }
            x_start += width;
            width = out_width;
        }
        self.output()
    }

    /// Backward pass from `∂L/∂output` (written through [`Mlp::output_and_grad_mut`]); accumulates
    /// into the gradients (none, on a network built without them: use [`Mlp::backward_sgd`]). Uses
    /// the activations, masks and mode of the last forward pass.
    pub fn backward(&mut self) {
        self.backward_in(Needs::ALL, None);
    }

    /// Backward pass with plain SGD (learning rate `lr`, no momentum, no weight decay, batch 1)
    /// fused into it: each dense layer's parameters are updated as soon as its input gradient has
    /// been computed, and the gradient buffer is neither written nor read.
    ///
    /// Gives the same bits as [`Mlp::backward`] on zeroed gradients followed by that SGD step,
    /// provided no parameter is `−0.0` (see [`dense::sgd_fused`]; [`Mlp::has_negative_zero`] checks,
    /// and neither path ever creates one). One pass over the weights instead of three.
    pub fn backward_sgd(&mut self, lr: f32) {
        self.backward_in(Needs::ALL, Some(lr));
    }

    /// `true` if some parameter is `−0.0`, the one value for which [`Mlp::backward_sgd`] and the
    /// unfused step could differ (in the sign of that zero).
    pub fn has_negative_zero(&self) -> bool {
        self.params
            .iter()
            .any(|p| p.to_bits() == (-0.0f32).to_bits())
    }

    /// [`Mlp::backward`] (`fused_sgd = None`) or [`Mlp::backward_sgd`], compiled for a network that
    /// reaches only the code in `needs`.
    pub(crate) fn backward_in(&mut self, needs: Needs, fused_sgd: Option<f32>) {
        let half = self.deltas.len() / 2;
        let (front, back) = self.deltas.split_at_mut(half);
        let (mut dy, mut dx) = (front, back);
        let mut y_end = self.activations.len();
        let mut dense = dense_layers(self.layers).rev();
        let mut mask_end = self.masks.len();
        let mut out_width = self.plan.outputs;
        for (index, layer) in self.layers.iter().enumerate().rev() {
            let in_width = match *layer {
                Layer::Dense { inputs, .. } => inputs,
                _ => out_width,
            };
            // As in `forward`: the plan makes every slice exist; `get` states it without a panic.
            let Some(y_start) = y_end.checked_sub(out_width) else {
                break;
            };
            let (Some(x), Some(y), Some(dy_now), Some(dx_now)) = (
                y_start
                    .checked_sub(in_width)
                    .and_then(|x_start| self.activations.get(x_start..y_start)),
                self.activations.get(y_start..y_end),
                dy.get(..out_width),
                dx.get_mut(..in_width),
            ) else {
                break;
            };
            match *layer {
                Layer::Dense { .. } => {
                    if let Some(layout) = dense.next() {
                        // The network's input needs no gradient.
                        let dx_wanted = if index == 0 { None } else { Some(dx_now) };
                        if let Some(lr) = fused_sgd {
                            let (weight, bias) = layout.split_mut(self.params);
                            if let Some(dx) = dx_wanted {
                                dense::input_grad(needs, weight, dy_now, dx);
                            }
                            dense::sgd_fused(needs, weight, bias, x, dy_now, lr);
                        } else {
                            let (weight_grad, bias_grad) = layout.split_mut(self.grads);
                            let (weight, _) = layout.split(self.params);
                            dense::backward(
                                needs,
                                weight,
                                x,
                                dy_now,
                                weight_grad,
                                bias_grad,
                                dx_wanted,
                            );
                        }
                    }
                }
                Layer::Activation(activation) => {
                    activation.backward_in(needs, x, y, dy_now, dx_now)
                }
                Layer::Dropout { p } => {
                    let Some((start, mask)) = mask_end
                        .checked_sub(in_width.div_ceil(32))
                        .and_then(|start| Some((start, self.masks.get(start..mask_end)?)))
                    else {
                        break;
                    };
                    if self.forward_mode == Mode::Train && p > 0.0 {
                        dropout::backward(p, dy_now, dx_now, mask);
                    } else {
                        copy(dy_now, dx_now);
                    }
                    mask_end = start;
                }
            }
            core::mem::swap(&mut dy, &mut dx);
            y_end = y_start;
            out_width = in_width;
        }
    }

    /// The `k`-th dense layer's `(inputs, outputs, weight, bias)`, weight `[outputs][inputs]`.
    pub fn dense_layer(&self, k: usize) -> Option<(usize, usize, &[f32], &[f32])> {
        let layout = dense_layers(self.layers).nth(k)?;
        let (weight, bias) = layout.split(self.params);
        Some((layout.inputs, layout.outputs, weight, bias))
    }
}

/// `to = from`, element by element (a dropout layer in eval mode): equal lengths, by the plan.
fn copy(from: &[f32], to: &mut [f32]) {
    to.iter_mut().zip(from).for_each(|(t, &f)| *t = f);
}

fn output_width(layer: &Layer, width: usize) -> usize {
    match *layer {
        Layer::Dense { outputs, .. } => outputs,
        _ => width,
    }
}
