//! The MLP engine: a list of layers over one flat parameter buffer and one flat gradient buffer.
//!
//! Flat buffers (as in llm.c) make every optimiser a single loop over slices and make weight export,
//! snapshots and checkpoints a copy. Memory layout, all in `f32` unless noted:
//!
//! | buffer        | contents                                                        |
//! |---------------|-----------------------------------------------------------------|
//! | `params`      | for each dense layer: `W` (`outputs × inputs`, row-major) then `b` |
//! | `grads`       | the same layout as `params` less its frozen front ([`Mlp::new_frozen`]); empty for a run that fuses every SGD step |
//! | `activations` | the input, then every layer's output, in order                    |
//! | `deltas`      | two vectors of the widest layer output, used in turn by the backward pass |
//! | `masks`       | `u32` dropout bits, one run per dropout layer                    |
//! | `stats`       | per batch-norm layer: running mean and variance, then scratch     |
//! | `state`       | the optimiser's per-parameter state (momentum, Adam moments)      |
//!
//! `params` also holds each batch norm's `γ` then `β`, in layer order. A network whose frozen layers
//! stay where they are ([`Buffers::front`]: a shipped model's first layers read in place from
//! flash) keeps only the rest in `params`; the layout's offsets run across both.
//!
//! `activations`, `deltas` and `masks` hold one *slot* per sample of a mini-batch
//! ([`Plan::batched`]): a network with batch norm runs its whole mini-batch through each layer in
//! turn, since the layer normalises over the batch; the sample-at-a-time engine is the same code
//! over one slot. Each layer takes the samples in order, so every gradient is accumulated in the
//! same order either way.

use crate::layers::batch_norm::{self, Stats};
use crate::layers::{dense, dropout, Needs};
use crate::rng::{stream, Pcg32};
use core::ops::Range;

use crate::spec::{dense_layers, DenseLayout, Layer, Plan, ShapeError};

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
    /// The parameters, [`Plan::params`] long; with a `front`, the ones after it.
    pub params: &'a mut [f32],
    /// The frozen layers' parameters where they already are, read in place and never written (a
    /// shipped model in flash): exactly the [`frozen_params`](crate::spec::frozen_params) of the
    /// layers [`Mlp::new_frozen`] freezes, or empty (then `params` holds every parameter).
    pub front: &'a [f32],
    /// Gradients, [`Plan::params`] long, or empty: a network without gradients trains only through
    /// [`Mlp::backward_sgd`] (see [`TrainConfig::trains_without_gradients`](crate::train::TrainConfig::trains_without_gradients)).
    pub grads: &'a mut [f32],
    /// Activations, [`Plan::activations`] long.
    pub activations: &'a mut [f32],
    /// Back-propagation scratch, [`Plan::deltas`] long.
    pub deltas: &'a mut [f32],
    /// Dropout masks, [`Plan::mask_words`] long.
    pub masks: &'a mut [u32],
    /// Batch-norm statistics, [`Plan::stats`] long.
    pub stats: &'a mut [f32],
    /// Optimiser state, [`optimizer_state_len`](crate::optim::optimizer_state_len) long.
    pub state: &'a mut [f32],
}

/// [`Buffers`] borrowing the six same-named fields of a memory struct.
macro_rules! lend {
    ($memory:expr) => {
        Buffers {
            params: &mut $memory.params,
            front: &[],
            grads: &mut $memory.grads,
            activations: &mut $memory.activations,
            deltas: &mut $memory.deltas,
            masks: &mut $memory.masks,
            stats: &mut $memory.stats,
            state: &mut $memory.state,
        }
    };
}

/// Every buffer of a network as arrays of exactly the planned sizes (see [`network!`](crate::network!)):
/// `P` parameters, `G` gradients (`P`, or 0 for a run that fuses every SGD step), `A` activations,
/// `D` deltas, `M` mask words (the last three for every sample of a batch), `N` batch-norm
/// statistics and `S` floats of optimiser state.
#[derive(Clone, Debug)]
pub struct StaticMemory<
    const P: usize,
    const G: usize,
    const A: usize,
    const D: usize,
    const M: usize,
    const N: usize,
    const S: usize,
> {
    params: [f32; P],
    grads: [f32; G],
    activations: [f32; A],
    deltas: [f32; D],
    masks: [u32; M],
    stats: [f32; N],
    state: [f32; S],
}

impl<
        const P: usize,
        const G: usize,
        const A: usize,
        const D: usize,
        const M: usize,
        const N: usize,
        const S: usize,
    > Default for StaticMemory<P, G, A, D, M, N, S>
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
        const N: usize,
        const S: usize,
    > StaticMemory<P, G, A, D, M, N, S>
{
    /// All zeros; `const` so that it can live in a `static`.
    pub const fn new() -> Self {
        Self {
            params: [0.0; P],
            grads: [0.0; G],
            activations: [0.0; A],
            deltas: [0.0; D],
            masks: [0; M],
            stats: [0.0; N],
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
    /// The plan of one sample (its `batch` is the number of slots the buffers hold).
    plan: Plan,
    /// The parameters after `front` (all of them when `front` is empty).
    params: &'a mut [f32],
    /// The frozen front read in place ([`Buffers::front`]).
    front: &'a [f32],
    grads: &'a mut [f32],
    activations: &'a mut [f32],
    deltas: &'a mut [f32],
    masks: &'a mut [u32],
    stats: &'a mut [f32],
    state: &'a mut [f32],
    mode: Mode,
    /// The mode of the last forward pass: backward must route through the masks it drew (or not).
    forward_mode: Mode,
    /// Samples of the last forward pass: backward goes through as many.
    forward_samples: usize,
    dropout_rng: Pcg32,
    /// Leading parameters that do not train ([`Mlp::new_frozen`]): `grads[i]` is the gradient of
    /// `params[frozen + i]`.
    frozen: usize,
    /// Index of the lowest layer with trainable parameters: backward stops there.
    lowest_trainable: usize,
}

impl<'a> Mlp<'a> {
    /// Checks the layers and the buffers, and initialises the parameters from `seed` (see
    /// [`Mlp::init`]). The buffers hold as many samples at once as the activation, delta and mask
    /// buffers all have room for ([`Plan::batched`]; at least one); longer buffers are shortened to
    /// that. The network starts in train mode.
    pub fn new(layers: &'a [Layer], buffers: Buffers<'a>, seed: u64) -> Result<Self, ShapeError> {
        Self::new_frozen(layers, buffers, seed, 0)
    }

    /// [`Mlp::new`] with `layers[..freeze]` frozen (the "sparse update" of on-device learning: a
    /// shipped feature extractor stays, the head adapts). Frozen layers get no gradient and no
    /// optimiser state: `grads` (when not empty) needs only [`Plan::params`] less
    /// [`frozen_params`](crate::spec::frozen_params) floats, and the backward pass stops at the
    /// lowest layer with trainable parameters (nothing below it computes a gradient). Frozen batch
    /// norms still update their running statistics in train mode, as in PyTorch with
    /// `requires_grad = False`. `freeze = 0` is [`Mlp::new`]; freezing every parametrised layer is
    /// [`ShapeError::NothingToTrain`].
    pub fn new_frozen(
        layers: &'a [Layer],
        buffers: Buffers<'a>,
        seed: u64,
        freeze: usize,
    ) -> Result<Self, ShapeError> {
        let one = Plan::of(layers)?;
        let frozen = crate::spec::frozen_params(layers, freeze);
        let lowest_trainable = layers
            .iter()
            .enumerate()
            .skip(freeze)
            .find(|(_, layer)| layer.params() > 0)
            .map(|(i, _)| i)
            .ok_or(ShapeError::NothingToTrain)?;
        let Buffers {
            params,
            front,
            grads,
            activations,
            deltas,
            masks,
            stats,
            state,
        } = buffers;
        // `one.activations ≥ inputs > 0` (the plan refuses zero widths), and so is `one.deltas`.
        let slots = (activations.len() / one.activations.max(1))
            .min(deltas.len() / one.deltas.max(1))
            .min(
                masks
                    .len()
                    .checked_div(one.mask_words)
                    .unwrap_or(usize::MAX),
            );
        let plan = one
            .batched(slots.max(1))
            .ok_or(ShapeError::BufferTooSmall)?;
        // A front is the frozen layers' parameters, exactly; `params` then holds the rest.
        if !front.is_empty() && front.len() != frozen {
            return Err(ShapeError::FrontMismatch);
        }
        // Gradients: none (a run that fuses every SGD step) or the plan's.
        let grads_len = if grads.is_empty() {
            0
        } else {
            plan.params - frozen
        };
        // A `get` past a buffer's end is a buffer shorter than the plan (and no panic path).
        let (Some(params), Some(grads), Some(activations), Some(deltas), Some(masks), Some(stats)) = (
            params.get_mut(..plan.params.saturating_sub(front.len())),
            grads.get_mut(..grads_len),
            activations.get_mut(..plan.activations),
            deltas.get_mut(..plan.deltas),
            masks.get_mut(..plan.mask_words),
            stats.get_mut(..plan.stats),
        ) else {
            return Err(ShapeError::BufferTooSmall);
        };
        let mut mlp = Self {
            layers,
            plan: Plan {
                batch: plan.batch,
                ..one
            },
            params,
            front,
            grads,
            activations,
            deltas,
            masks,
            stats,
            state,
            mode: Mode::Train,
            forward_mode: Mode::Train,
            forward_samples: 1,
            dropout_rng: Pcg32::new(seed, stream::DROPOUT),
            frozen,
            lowest_trainable,
        };
        mlp.init(seed);
        Ok(mlp)
    }

    /// PyTorch-default initialisation: every dense layer as [`dense::init`], layer by layer from one
    /// PCG32 stream, every batch norm `γ = 1`, `β = 0` with running mean 0 and variance 1; zeroes
    /// gradients and optimiser state and reseeds dropout.
    ///
    /// A front read in place keeps its values: its layers' draws are made all the same, so every
    /// other layer starts as in a network that holds all its parameters.
    pub fn init(&mut self, seed: u64) {
        let mut rng = Pcg32::new(seed, stream::INIT);
        let base = self.front.len();
        for layout in dense_layers(self.layers) {
            if layout.range.start < base {
                dense::skip_init(layout.range.len(), &mut rng);
                continue;
            }
            let (weight, bias) = layout.shifted_down(base).split_mut(self.params);
            dense::init(weight, bias, layout.inputs, &mut rng);
        }
        let mut at: (usize, usize) = (0, 0);
        for layer in self.layers {
            if let Layer::BatchNorm { features } = *layer {
                if let Some(mut stats) = self
                    .stats
                    .get_mut(at.1..)
                    .and_then(|s| Stats::of(s, features))
                {
                    stats.reset();
                }
                // γ and β of a batch norm that is not in the front.
                let start = at.0.checked_sub(base);
                let end = start.and_then(|start| start.checked_add(features.checked_mul(2)?));
                if let Some(params) = start.zip(end).and_then(|(s, e)| self.params.get_mut(s..e)) {
                    batch_norm::init(params);
                }
            }
            at = next_offsets(layer, at);
        }
        self.zero_grad();
        self.state.iter_mut().for_each(|s| *s = 0.0);
        self.dropout_rng = Pcg32::new(seed, stream::DROPOUT);
    }

    /// The layers.
    pub fn layers(&self) -> &'a [Layer] {
        self.layers
    }

    /// The memory plan of one sample; its [`Plan::batch`] is the number of samples the buffers hold.
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
        self.input_mut_at(0)
    }

    /// Where the next batched forward pass reads sample `s`'s input (empty past the batch).
    pub fn input_mut_at(&mut self, s: usize) -> &mut [f32] {
        let (stride, inputs) = (self.plan.activations, self.plan.inputs);
        slot_mut(self.activations, stride, s)
            .get_mut(..inputs)
            .unwrap_or(&mut [])
    }

    /// The last forward pass's output ([`Plan::outputs`] values).
    pub fn output(&self) -> &[f32] {
        self.output_at(0)
    }

    /// Sample `s`'s output of the last batched forward pass.
    pub fn output_at(&self, s: usize) -> &[f32] {
        let stride = self.plan.activations;
        let start = stride.saturating_sub(self.plan.outputs);
        slot(self.activations, stride, s)
            .get(start..)
            .unwrap_or(&[])
    }

    /// The output, and where the loss writes `∂L/∂output` for [`Mlp::backward`].
    pub fn output_and_grad_mut(&mut self) -> (&[f32], &mut [f32]) {
        self.output_and_grad_mut_at(0)
    }

    /// Sample `s`'s output and `∂L/∂output`, for [`Mlp::backward_batch`].
    pub fn output_and_grad_mut_at(&mut self, s: usize) -> (&[f32], &mut [f32]) {
        let (stride, outputs) = (self.plan.activations, self.plan.outputs);
        let start = stride.saturating_sub(outputs);
        (
            slot(self.activations, stride, s)
                .get(start..)
                .unwrap_or(&[]),
            slot_mut(self.deltas, self.plan.deltas, s)
                .get_mut(..outputs)
                .unwrap_or(&mut []),
        )
    }

    /// [`Mlp::output_and_grad_mut_at`] and [`Plan::outputs`] floats of scratch for the sample's
    /// target (the back half of its delta slot, free until the backward pass).
    pub(crate) fn output_grad_and_target_at(
        &mut self,
        s: usize,
    ) -> (&[f32], &mut [f32], &mut [f32]) {
        let (stride, outputs) = (self.plan.activations, self.plan.outputs);
        let start = stride.saturating_sub(outputs);
        let half = self.plan.deltas / 2;
        let (front, back) = slot_mut(self.deltas, self.plan.deltas, s)
            .split_at_mut_checked(half)
            .unwrap_or((&mut [], &mut []));
        (
            slot(self.activations, stride, s)
                .get(start..)
                .unwrap_or(&[]),
            front.get_mut(..outputs).unwrap_or(&mut []),
            back.get_mut(..outputs).unwrap_or(&mut []),
        )
    }

    /// Sample `s`'s delta slot, as scratch of at least [`Plan::inputs`] floats: free between
    /// a forward pass and the loss that writes `∂L/∂output` into it.
    pub(crate) fn delta_scratch(&mut self, s: usize) -> &mut [f32] {
        let inputs = self.plan.inputs;
        slot_mut(self.deltas, self.plan.deltas, s)
            .get_mut(..inputs)
            .unwrap_or(&mut [])
    }

    /// Moves sample `s + 1 …` of the last forward pass down one slot, dropping sample `s` from the
    /// batch its backward pass goes through (the samples keep their order, so the gradients keep
    /// their summation order). For a network without batch norm only: with one, sample `s` is in
    /// the batch's statistics.
    pub fn drop_sample(&mut self, s: usize) {
        let n = self.forward_samples;
        if s >= n {
            return;
        }
        let (a, m) = (self.plan.activations, self.plan.mask_words);
        shift_down(self.activations, s.saturating_mul(a), a);
        shift_down(self.masks, s.saturating_mul(m), m);
        self.forward_samples = n - 1;
    }

    /// The parameters this network holds (flat, see the module docs): all of them, or those
    /// after a front read in place ([`Mlp::front`]).
    pub fn params(&self) -> &[f32] {
        self.params
    }

    /// [`Mlp::params`], writable (to load weights).
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.params
    }

    /// The frozen layers' parameters read in place ([`Buffers::front`]; empty when the network
    /// holds every parameter in [`Mlp::params`]).
    pub fn front(&self) -> &'a [f32] {
        self.front
    }

    /// Accumulated gradients: of the trainable parameters, `params()[frozen()..]`.
    pub fn grads(&self) -> &[f32] {
        self.grads
    }

    /// Leading parameters that do not train ([`Mlp::new_frozen`]; 0 when every layer trains).
    pub fn frozen(&self) -> usize {
        self.frozen
    }

    /// The model: the parameters and the batch-norm statistics (everything eval mode reads but a
    /// [front](Mlp::front), which never changes; what a snapshot or a checkpoint keeps), in that
    /// order.
    pub fn model(&self) -> [&[f32]; 2] {
        [self.params, self.stats]
    }

    /// [`Mlp::model`], writable (to restore a snapshot).
    pub fn model_mut(&mut self) -> [&mut [f32]; 2] {
        [self.params, self.stats]
    }

    /// Floats of [`Mlp::model`].
    pub fn model_len(&self) -> usize {
        self.params.len() + self.stats.len()
    }

    /// Batch-norm statistics (flat: running mean, running variance and scratch per layer).
    pub fn stats(&self) -> &[f32] {
        self.stats
    }

    /// Batch-norm statistics, writable (to restore a checkpoint or a snapshot).
    pub fn stats_mut(&mut self) -> &mut [f32] {
        self.stats
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

    /// The trainable parameters, their gradients and the optimiser state together, for an
    /// optimiser step.
    pub fn optimizer_parts(&mut self) -> (&mut [f32], &mut [f32], &mut [f32]) {
        let trainable = self
            .params
            .get_mut(self.frozen.saturating_sub(self.front.len())..)
            .unwrap_or(&mut []);
        (trainable, self.grads, self.state)
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
        self.forward_in(Needs::ALL, 1);
        self.output()
    }

    /// Forward pass of the first `n` samples (inputs in [`Mlp::input_mut_at`]; at most
    /// [`Plan::batch`]), layer by layer: a batch norm in train mode normalises over them.
    pub fn forward_batch(&mut self, n: usize) {
        self.forward_in(Needs::ALL, n);
    }

    /// [`Mlp::forward_batch`] compiled for a network that reaches only the code in `needs` (a
    /// trainer whose [`Settings`](crate::train::Settings) fix the layers).
    #[inline(always)]
    pub(crate) fn forward_in(&mut self, needs: Needs, n: usize) {
        let n = n.max(1).min(self.plan.batch);
        let (a, m) = (self.plan.activations, self.plan.mask_words);
        self.forward_mode = self.mode;
        self.forward_samples = n;
        // Masks first, sample after sample and layer after layer: the draws of the sample-at-a-time
        // engine, whatever the batch.
        if self.mode == Mode::Train && self.plan.mask_words > 0 {
            for mask in Slots::new(self.masks, m, n) {
                let (mut width, mut words) = (self.plan.inputs, &mut mask[..]);
                for layer in self.layers {
                    if let Layer::Dropout { p } = *layer {
                        let Some((mask, rest)) =
                            core::mem::take(&mut words).split_at_mut_checked(width.div_ceil(32))
                        else {
                            break;
                        };
                        if p > 0.0 {
                            dropout::draw(p, width, mask, &mut self.dropout_rng);
                        }
                        words = rest;
                    }
                    width = output_width(layer, width);
                }
            }
        }
        let (mut x_at, mut width) = (0, self.plan.inputs);
        let mut mask_at = 0;
        let mut dense = dense_layers(self.layers);
        for (index, layer) in self.layers.iter().enumerate() {
            let out_width = output_width(layer, width);
            let io = (x_at, width, out_width);
            match *layer {
                Layer::Dense { .. } => {
                    if let Some(layout) = dense.next() {
                        let (weight, bias) = dense_split(self.front, self.params, &layout);
                        // A kernel that takes several samples at once (x86-64 with AVX), then
                        // one sample at a time.
                        let done = if n > 1 {
                            let geometry = dense::BatchGeometry {
                                n,
                                stride: a,
                                x: (x_at, width),
                                y: (x_at + width, out_width),
                                d_stride: 0,
                                dy_at: 0,
                            };
                            dense::forward_batch(weight, bias, self.activations, geometry)
                        } else {
                            0
                        };
                        for (x, y) in Slots::new(self.activations, a, n)
                            .skip(done)
                            .filter_map(|slot| forward_io(slot, io))
                        {
                            dense::forward(needs, weight, bias, x, y);
                        }
                    }
                }
                Layer::Activation(activation) => {
                    for (x, y) in
                        Slots::new(self.activations, a, n).filter_map(|slot| forward_io(slot, io))
                    {
                        activation.forward_in(needs, x, y);
                    }
                }
                Layer::Dropout { p } => {
                    let words = width.div_ceil(32);
                    let masks = SlotsRef::new(self.masks, m, n);
                    for ((x, y), mask) in Slots::new(self.activations, a, n)
                        .filter_map(|slot| forward_io(slot, io))
                        .zip(masks)
                    {
                        match mask.get(mask_at..mask_at + words) {
                            Some(mask) if self.mode == Mode::Train && p > 0.0 => {
                                dropout::apply(p, x, y, mask)
                            }
                            _ => copy(x, y),
                        }
                    }
                    mask_at += words;
                }
                Layer::BatchNorm { features } => {
                    let at = offsets_before(self.layers, index);
                    let Some((params, mut stats)) =
                        batch_norm_parts(self.front, self.params, self.stats, at, features)
                    else {
                        break;
                    };
                    let Some((gamma, beta)) = params.split_at_checked(features) else {
                        break;
                    };
                    if self.mode == Mode::Train {
                        stats.begin_batch();
                        for (x, _) in Slots::new(self.activations, a, n)
                            .filter_map(|slot| forward_io(slot, io))
                        {
                            stats.add_to_mean(x);
                        }
                        stats.finish_mean(n);
                        for (x, _) in Slots::new(self.activations, a, n)
                            .filter_map(|slot| forward_io(slot, io))
                        {
                            stats.add_to_variance(x);
                        }
                        stats.finish_variance(n);
                        for (x, y) in Slots::new(self.activations, a, n)
                            .filter_map(|slot| forward_io(slot, io))
                        {
                            stats.normalize_train(gamma, beta, x, y);
                        }
                    } else {
                        for (x, y) in Slots::new(self.activations, a, n)
                            .filter_map(|slot| forward_io(slot, io))
                        {
                            stats.normalize_eval(gamma, beta, x, y);
                        }
                    }
                }
            }
            x_at += width;
            width = out_width;
        }
    }

    /// Backward pass from `∂L/∂output` (written through [`Mlp::output_and_grad_mut`]); accumulates
    /// into the gradients (none, on a network built without them: use [`Mlp::backward_sgd`]). Uses
    /// the activations, masks and mode of the last forward pass.
    pub fn backward(&mut self) {
        self.backward_in(Needs::ALL, None);
    }

    /// [`Mlp::backward`] of every sample of the last [`Mlp::forward_batch`] (`∂L/∂output` of each
    /// written through [`Mlp::output_and_grad_mut_at`]), layer by layer; within a layer the samples'
    /// gradients are accumulated in sample order.
    pub fn backward_batch(&mut self) {
        self.backward_in(Needs::ALL, None);
    }

    /// Backward pass with plain SGD (learning rate `lr`, no momentum, no weight decay, batch 1)
    /// fused into it: each dense layer's parameters are updated as soon as its input gradient has
    /// been computed, and the gradient buffer is neither written nor read.
    ///
    /// Gives the same bits as [`Mlp::backward`] on zeroed gradients followed by that SGD step,
    /// provided no parameter is `−0.0` (see [`dense::sgd_fused`]; [`Mlp::has_negative_zero`] checks,
    /// and neither path ever creates one). One pass over the weights instead of three. A network
    /// with batch norm has no such step (its batch is at least 2): this is [`Mlp::backward`] there.
    pub fn backward_sgd(&mut self, lr: f32) {
        self.backward_in(Needs::ALL, Some(lr));
    }

    /// `true` if some parameter is `−0.0`, the one value for which [`Mlp::backward_sgd`] and the
    /// unfused step could differ (in the sign of that zero).
    pub fn has_negative_zero(&self) -> bool {
        self.front
            .iter()
            .chain(self.params.iter())
            .any(|p| p.to_bits() == (-0.0f32).to_bits())
    }

    /// [`Mlp::backward_batch`] (`fused_sgd = None`) or [`Mlp::backward_sgd`] (one sample), compiled
    /// for a network that reaches only the code in `needs`.
    pub(crate) fn backward_in(&mut self, needs: Needs, fused_sgd: Option<f32>) {
        let n = self.forward_samples;
        let fused_sgd = fused_sgd.filter(|_| n == 1 && !self.plan.has_batch_norm());
        let (a, d, m) = (
            self.plan.activations,
            self.plan.deltas,
            self.plan.mask_words,
        );
        let half = d / 2;
        // Each slot's deltas are two halves used in turn: `dy` is the front half at the output.
        let mut dy_front = true;
        let mut y_end = a;
        let mut dense = dense_layers(self.layers).rev();
        let mut mask_end = m;
        let mut out_width = self.plan.outputs;
        let train = self.forward_mode == Mode::Train;
        let (frozen, lowest) = (self.frozen, self.lowest_trainable);
        for (index, layer) in self.layers.iter().enumerate().rev() {
            // Nothing below the lowest trainable layer needs a gradient.
            if index < lowest {
                break;
            }
            let in_width = match *layer {
                Layer::Dense { inputs, .. } => inputs,
                _ => out_width,
            };
            // As in `forward`: the plan makes every slice exist; `get` states it without a panic.
            let Some(y_start) = y_end.checked_sub(out_width) else {
                break;
            };
            let Some(x_start) = y_start.checked_sub(in_width) else {
                break;
            };
            // The network's input (layer 0, dense) gets no gradient: the plan's deltas need not
            // hold it.
            let dx_width = if index == 0 { 0 } else { in_width };
            let geometry = BackwardGeometry {
                x: x_start..y_start,
                y: y_start..y_end,
                half,
                dy_front,
                widths: (dx_width, out_width),
            };
            macro_rules! io {
                () => {
                    backward_io(
                        &*self.activations,
                        &mut *self.deltas,
                        a,
                        d,
                        n,
                        geometry.clone(),
                    )
                };
            }
            match *layer {
                Layer::Dense { .. } => {
                    if let Some(layout) = dense.next() {
                        // The weight gradients of the whole batch by a kernel that takes several
                        // samples (x86-64 with AVX), then each sample's input gradient.
                        let geometry = dense::BatchGeometry {
                            n,
                            stride: a,
                            x: (x_start, in_width),
                            y: (y_start, out_width),
                            d_stride: d,
                            dy_at: if dy_front { 0 } else { half },
                        };
                        let grad_layout = layout.shifted_down(frozen);
                        if fused_sgd.is_none() && n > 1 && {
                            let (weight_grad, bias_grad) = grad_layout.split_mut(self.grads);
                            dense::grad_batch(
                                self.activations,
                                self.deltas,
                                geometry,
                                weight_grad,
                                bias_grad,
                            )
                        } {
                            let (weight, _) = dense_split(self.front, self.params, &layout);
                            if index > lowest {
                                for (_, _, dy, dx) in io!() {
                                    dense::input_grad(needs, weight, dy, dx);
                                }
                            }
                            dy_front = !dy_front;
                            y_end = y_start;
                            out_width = in_width;
                            continue;
                        }
                        for (x, _, dy, dx) in io!() {
                            // The network's input (or a frozen layer's output) needs no gradient.
                            let dx_wanted = if index > lowest { Some(dx) } else { None };
                            if let Some(lr) = fused_sgd {
                                // A trainable layer: never in the front.
                                let (weight, bias) =
                                    layout.shifted_down(self.front.len()).split_mut(self.params);
                                if let Some(dx) = dx_wanted {
                                    dense::input_grad(needs, weight, dy, dx);
                                }
                                dense::sgd_fused(needs, weight, bias, x, dy, lr);
                            } else {
                                let (weight_grad, bias_grad) = grad_layout.split_mut(self.grads);
                                let (weight, _) = dense_split(self.front, self.params, &layout);
                                dense::backward(
                                    needs,
                                    weight,
                                    x,
                                    dy,
                                    weight_grad,
                                    bias_grad,
                                    dx_wanted,
                                );
                            }
                        }
                    }
                }
                Layer::Activation(activation) => {
                    for (x, y, dy, dx) in io!() {
                        activation.backward_in(needs, x, y, dy, dx);
                    }
                }
                Layer::Dropout { p } => {
                    let Some(start) = mask_end.checked_sub(in_width.div_ceil(32)) else {
                        break;
                    };
                    let masks = SlotsRef::new(self.masks, m, n);
                    for ((_, _, dy, dx), mask) in io!().zip(masks) {
                        match mask.get(start..mask_end) {
                            Some(mask) if train && p > 0.0 => dropout::backward(p, dy, dx, mask),
                            _ => copy(dy, dx),
                        }
                    }
                    mask_end = start;
                }
                Layer::BatchNorm { features } => {
                    let at = offsets_before(self.layers, index);
                    let (Some((params, mut stats)), Some(grads)) = (
                        batch_norm_parts(self.front, self.params, self.stats, at, features),
                        self.grads.get_mut(
                            at.0.saturating_sub(frozen)
                                ..(at.0 + 2 * features).saturating_sub(frozen),
                        ),
                    ) else {
                        break;
                    };
                    let (Some((gamma, _)), Some((gamma_grad, beta_grad))) = (
                        params.split_at_checked(features),
                        grads.split_at_mut_checked(features),
                    ) else {
                        break;
                    };
                    if train {
                        stats.begin_backward();
                        for (x, _, dy, _) in io!() {
                            stats.add_to_grad_sums(x, dy);
                        }
                        stats.finish_grad_sums(gamma_grad, beta_grad, n);
                        for (x, _, dy, dx) in io!() {
                            stats.input_grad_train(gamma, x, dy, dx);
                        }
                    } else {
                        for (x, _, dy, dx) in io!() {
                            stats.backward_eval(gamma, (gamma_grad, beta_grad), x, dy, dx);
                        }
                    }
                }
            }
            dy_front = !dy_front;
            y_end = y_start;
            out_width = in_width;
        }
    }

    /// The `k`-th dense layer's `(inputs, outputs, weight, bias)`, weight `[outputs][inputs]`.
    pub fn dense_layer(&self, k: usize) -> Option<(usize, usize, &[f32], &[f32])> {
        let layout = dense_layers(self.layers).nth(k)?;
        let (weight, bias) = dense_split(self.front, self.params, &layout);
        Some((layout.inputs, layout.outputs, weight, bias))
    }

    /// The `k`-th batch norm's `γ`, `β`, running mean and running variance (PyTorch's `weight`,
    /// `bias`, `running_mean`, `running_var`).
    pub fn batch_norm_layer(&self, k: usize) -> Option<BatchNormView<'_>> {
        let (features, at) = self.batch_norm_offsets(k)?;
        let params = layer_params(self.front, self.params, at.0..at.0 + 2 * features)?;
        let stats = self.stats.get(at.1..at.1 + 2 * features)?;
        let (weight, bias) = params.split_at(features);
        let (running_mean, running_var) = stats.split_at(features);
        Some(BatchNormView {
            weight,
            bias,
            running_mean,
            running_var,
        })
    }

    /// The `k`-th batch norm's running mean and running variance, writable (to load a model).
    pub fn batch_norm_running_mut(&mut self, k: usize) -> Option<(&mut [f32], &mut [f32])> {
        let (features, at) = self.batch_norm_offsets(k)?;
        let stats = self.stats.get_mut(at.1..at.1 + 2 * features)?;
        Some(stats.split_at_mut(features))
    }

    /// The `k`-th batch norm's width and its `(params, stats)` offsets.
    fn batch_norm_offsets(&self, k: usize) -> Option<(usize, (usize, usize))> {
        let mut at = (0, 0);
        let mut seen = 0;
        for layer in self.layers {
            if let Layer::BatchNorm { features } = *layer {
                if seen == k {
                    return Some((features, at));
                }
                seen += 1;
            }
            at = next_offsets(layer, at);
        }
        None
    }
}

/// One batch norm's values, named as in PyTorch's `state_dict`.
#[derive(Clone, Copy, Debug)]
pub struct BatchNormView<'a> {
    /// `γ`.
    pub weight: &'a [f32],
    /// `β`.
    pub bias: &'a [f32],
    /// Running mean.
    pub running_mean: &'a [f32],
    /// Running (unbiased) variance.
    pub running_var: &'a [f32],
}

/// A batch norm of `features` whose parameters (`γ`, `β`: in the `front` read in place or in
/// `params` after it) start at `at.0` and statistics at `at.1`.
fn batch_norm_parts<'p>(
    front: &'p [f32],
    params: &'p [f32],
    stats: &'p mut [f32],
    at: (usize, usize),
    features: usize,
) -> Option<(&'p [f32], Stats<'p>)> {
    let params = layer_params(
        front,
        params,
        at.0..at.0.checked_add(features.checked_mul(2)?)?,
    )?;
    let stats = Stats::of(stats.get_mut(at.1..)?, features)?;
    Some((params, stats))
}

/// The parameters `range` of the flat layout (one layer's): in the `front` read in place, or in
/// `params`, which holds the parameters after it ([`Mlp::front`], [`Mlp::params`]).
///
/// ```
/// let (front, params) = ([1.0, 2.0], [3.0, 4.0, 5.0]);
/// assert_eq!(tinytrain::network::layer_params(&front, &params, 0..2), Some(&[1.0, 2.0][..]));
/// assert_eq!(tinytrain::network::layer_params(&front, &params, 3..5), Some(&[4.0, 5.0][..]));
/// ```
#[inline(always)]
pub fn layer_params<'p>(
    front: &'p [f32],
    params: &'p [f32],
    range: Range<usize>,
) -> Option<&'p [f32]> {
    let base = front.len();
    if range.start < base {
        front.get(range)
    } else {
        params.get(range.start - base..range.end.checked_sub(base)?)
    }
}

/// `(W, b)` of the dense layer `layout`, wherever its parameters are ([`layer_params`]).
#[inline(always)]
fn dense_split<'p>(
    front: &'p [f32],
    params: &'p [f32],
    layout: &DenseLayout,
) -> (&'p [f32], &'p [f32]) {
    match layout.range.start < front.len() {
        true => layout.split(front),
        false => layout.shifted_down(front.len()).split(params),
    }
}

/// Floats of batch-norm statistics `layer` owns.
const fn layer_stats(layer: &Layer) -> usize {
    match *layer {
        Layer::BatchNorm { features } => features * batch_norm::STATS_PER_FEATURE,
        _ => 0,
    }
}

/// The `(params, stats)` offsets of layer `index` (where its parameters and statistics start).
fn offsets_before(layers: &[Layer], index: usize) -> (usize, usize) {
    layers
        .iter()
        .take(index)
        .fold((0, 0), |at, layer| next_offsets(layer, at))
}

/// The `(params, stats)` offsets after `layer`, from those before it.
const fn next_offsets(layer: &Layer, (params, stats): (usize, usize)) -> (usize, usize) {
    (params + layer.params(), stats + layer_stats(layer))
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

/// A layer's input `x` and output `y` in one sample's activation slot.
#[inline(always)]
fn forward_io(
    slot: &mut [f32],
    (x_at, width, out_width): (usize, usize, usize),
) -> Option<(&[f32], &mut [f32])> {
    let (x, after) = slot.get_mut(x_at..)?.split_at_mut_checked(width)?;
    Some((&*x, after.get_mut(..out_width)?))
}

/// Where a layer's backward pass finds its values in a sample's slots.
#[derive(Clone)]
struct BackwardGeometry {
    /// The input in the activation slot.
    x: core::ops::Range<usize>,
    /// The output in the activation slot.
    y: core::ops::Range<usize>,
    /// Half a delta slot.
    half: usize,
    /// `dy` is the front half of the delta slot (`dx` the back), or the other way round.
    dy_front: bool,
    /// `(in_width, out_width)`.
    widths: (usize, usize),
}

/// `(x, y, dy, dx)` of each of the first `n` samples, in sample order.
#[inline(always)]
fn backward_io<'b>(
    activations: &'b [f32],
    deltas: &'b mut [f32],
    a: usize,
    d: usize,
    n: usize,
    g: BackwardGeometry,
) -> BackwardIo<'b> {
    BackwardIo {
        activations: SlotsRef::new(activations, a, n),
        deltas: Slots::new(deltas, d, n),
        g,
    }
}

/// The iterator of [`backward_io`].
struct BackwardIo<'b> {
    activations: SlotsRef<'b, f32>,
    deltas: Slots<'b, f32>,
    g: BackwardGeometry,
}

impl<'b> Iterator for BackwardIo<'b> {
    type Item = (&'b [f32], &'b [f32], &'b [f32], &'b mut [f32]);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let (acts, slot) = (self.activations.next()?, self.deltas.next()?);
        let g = &self.g;
        let (front, back) = slot.split_at_mut_checked(g.half)?;
        let (dy, dx) = if g.dy_front {
            (front, back)
        } else {
            (back, front)
        };
        Some((
            acts.get(g.x.clone())?,
            acts.get(g.y.clone())?,
            &*dy.get_mut(..g.widths.1)?,
            dx.get_mut(..g.widths.0)?,
        ))
    }
}

/// `buffer[k] = buffer[k + by]` for every `k ≥ at` that has a source (no panic path).
fn shift_down<T: Copy>(buffer: &mut [T], at: usize, by: usize) {
    let Some(tail) = buffer.get_mut(at..) else {
        return;
    };
    for k in 0..tail.len().saturating_sub(by) {
        if let Some(&v) = tail.get(k + by) {
            if let Some(d) = tail.get_mut(k) {
                *d = v;
            }
        }
    }
}

/// Sample `s`'s slot of a per-sample buffer (empty past its end).
fn slot(buffer: &[f32], stride: usize, s: usize) -> &[f32] {
    s.checked_mul(stride)
        .and_then(|start| buffer.get(start..start.checked_add(stride)?))
        .unwrap_or(&[])
}

/// [`slot`], mutable.
fn slot_mut(buffer: &mut [f32], stride: usize, s: usize) -> &mut [f32] {
    s.checked_mul(stride)
        .and_then(|start| buffer.get_mut(start..start.checked_add(stride)?))
        .unwrap_or(&mut [])
}

/// The first `n` slots of `stride` elements of a buffer, mutable (no panic for any stride).
struct Slots<'b, T> {
    rest: &'b mut [T],
    stride: usize,
    left: usize,
}

impl<'b, T> Slots<'b, T> {
    fn new(buffer: &'b mut [T], stride: usize, n: usize) -> Self {
        Self {
            rest: buffer,
            stride,
            left: n,
        }
    }
}

impl<'b, T> Iterator for Slots<'b, T> {
    type Item = &'b mut [T];

    #[inline(always)]
    fn next(&mut self) -> Option<&'b mut [T]> {
        self.left = self.left.checked_sub(1)?;
        let (slot, rest) = core::mem::take(&mut self.rest).split_at_mut_checked(self.stride)?;
        self.rest = rest;
        Some(slot)
    }
}

/// [`Slots`], shared.
struct SlotsRef<'b, T> {
    rest: &'b [T],
    stride: usize,
    left: usize,
}

impl<'b, T> SlotsRef<'b, T> {
    fn new(buffer: &'b [T], stride: usize, n: usize) -> Self {
        Self {
            rest: buffer,
            stride,
            left: n,
        }
    }
}

impl<'b, T> Iterator for SlotsRef<'b, T> {
    type Item = &'b [T];

    #[inline(always)]
    fn next(&mut self) -> Option<&'b [T]> {
        self.left = self.left.checked_sub(1)?;
        let (slot, rest) = self.rest.split_at_checked(self.stride)?;
        self.rest = rest;
        Some(slot)
    }
}
