//! What a network is made of, and how much memory it needs.
//!
//! A network is a list of [`Layer`]s. Its memory [`Plan`] is computed by a `const fn`, so a firmware
//! that describes its network with [`network!`](crate::network!) gets exactly sized buffers and a
//! compile error, not a runtime one, when two layers do not fit together.

use core::ops::Range;

use crate::layers::Activation;

/// One layer of an MLP.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layer {
    /// Fully connected `y = W x + b`, `W` is `[outputs][inputs]` (PyTorch `nn.Linear` orientation).
    Dense {
        /// Width of the input.
        inputs: usize,
        /// Width of the output.
        outputs: usize,
    },
    /// An element-wise activation; keeps the width.
    Activation(Activation),
    /// Inverted dropout with drop probability `p` in `[0, 1)`; identity in eval mode.
    Dropout {
        /// Probability of zeroing an element in train mode.
        p: f32,
    },
    /// PyTorch's `nn.BatchNorm1d(features)`: normalises each feature over the mini-batch in train
    /// mode and with running statistics in eval mode, then scales by `γ` and shifts by `β`
    /// ([`batch_norm`](crate::layers::batch_norm)); keeps the width.
    BatchNorm {
        /// Width of the input (and output), as PyTorch's `num_features`.
        features: usize,
    },
}

impl Layer {
    /// `Layer::Dense { inputs, outputs }`, shorter.
    pub const fn dense(inputs: usize, outputs: usize) -> Self {
        Layer::Dense { inputs, outputs }
    }

    /// `Layer::BatchNorm { features }`, shorter.
    pub const fn batch_norm(features: usize) -> Self {
        Layer::BatchNorm { features }
    }

    /// Number of trainable parameters (`outputs·inputs` weights and `outputs` biases for dense,
    /// `γ` and `β` for batch norm).
    /// [`Plan::of`] has checked that it fits a `usize` for every layer of a network.
    #[inline(always)]
    pub const fn params(&self) -> usize {
        match self.checked_params() {
            Some(n) => n,
            None => usize::MAX,
        }
    }

    /// [`Layer::params`], `None` if it overflows `usize`.
    #[inline(always)]
    pub const fn checked_params(&self) -> Option<usize> {
        match *self {
            Layer::Dense { inputs, outputs } => match outputs.checked_mul(inputs) {
                Some(weights) => weights.checked_add(outputs),
                None => None,
            },
            Layer::BatchNorm { features } => features.checked_mul(2),
            _ => Some(0),
        }
    }
}

/// Why a list of layers is not a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeError {
    /// No layers, or no dense layer at all.
    NoDenseLayer,
    /// The first layer must be dense: it fixes the input width.
    FirstLayerNotDense,
    /// A dense layer's `inputs` (or a batch norm's `features`) differs from the width its
    /// predecessor produces.
    WidthMismatch {
        /// Index of the offending layer.
        layer: usize,
        /// Width produced by the layers before it.
        expected: usize,
        /// Width it declares.
        found: usize,
    },
    /// A dense layer with zero inputs or outputs, or a batch norm over zero features.
    ZeroWidth {
        /// Index of the offending layer.
        layer: usize,
    },
    /// Dropout probability outside `[0, 1)` (or NaN).
    BadDropout {
        /// Index of the offending layer.
        layer: usize,
    },
    /// A buffer handed to [`Mlp::new`](crate::network::Mlp::new) is shorter than the plan says.
    BufferTooSmall,
    /// The gradient buffer is empty but the configuration needs one (only a run that fuses plain SGD
    /// into every backward pass trains without: `TrainConfig::trains_without_gradients`).
    GradientsNeeded,
    /// A network with batch norm trained at a batch size below 2: train mode normalises over the
    /// mini-batch, and one sample has no variance (PyTorch refuses it too).
    BatchNormNeedsBatch,
    /// The activation, delta or mask buffers hold fewer samples than the mini-batch, which a
    /// network with batch norm processes at once ([`Plan::batched`]).
    BatchBuffersTooSmall,
    /// The output width does not suit the head (softmax needs ≥ 2 outputs, sigmoid exactly 1).
    HeadMismatch,
    /// [`TrainConfig::freeze`](crate::train::TrainConfig::freeze) freezes every parametrised layer
    /// (or counts past the last layer): nothing would train.
    NothingToTrain,
    /// A front of parameters read in place ([`Buffers::front`](crate::network::Buffers::front))
    /// is not exactly the frozen layers' parameters.
    FrontMismatch,
    /// The configuration or head differs from the one the trainer's type fixes
    /// ([`Settings`](crate::train::Settings)).
    SettingsMismatch,
    /// The head has more classes than the trainer's metrics can count (its `C`).
    TooManyClasses,
    /// A buffer size overflows `usize` (or a buffer's bytes do): no memory can hold the network.
    TooLarge {
        /// Index of the layer whose size overflowed.
        layer: usize,
    },
}

impl ShapeError {
    /// A human-readable description (usable in `const` panics).
    pub const fn message(&self) -> &'static str {
        match self {
            ShapeError::NoDenseLayer => "a network needs at least one dense layer",
            ShapeError::FirstLayerNotDense => "the first layer must be dense (it fixes the input width)",
            ShapeError::WidthMismatch { .. } => {
                "a layer's input width differs from the width of the layer before it"
            }
            ShapeError::ZeroWidth { .. } => {
                "a dense layer has zero inputs or outputs, or a batch norm zero features"
            }
            ShapeError::BatchNormNeedsBatch => {
                "batch norm normalises over the mini-batch and needs a batch size of at least 2 (PyTorch refuses 1 too)"
            }
            ShapeError::BatchBuffersTooSmall => {
                "the activation buffers hold fewer samples than the batch size (a network with batch norm runs the whole mini-batch at once)"
            }
            ShapeError::BadDropout { .. } => "dropout probability must be in [0, 1)",
            ShapeError::BufferTooSmall => "a buffer is smaller than the network's memory plan",
            ShapeError::GradientsNeeded => {
                "this optimiser configuration needs a gradient buffer (only plain SGD at batch 1, rate <= 1, without clipping, trains without one)"
            }
            ShapeError::TooManyClasses => "more classes than the trainer's class capacity C",
            ShapeError::TooLarge { .. } => {
                "the network's buffers are larger than this machine's address space"
            }
            ShapeError::HeadMismatch => {
                "the output width does not suit the head (softmax needs >= 2 outputs, sigmoid 1)"
            }
            ShapeError::NothingToTrain => {
                "the frozen layers are all of the network's parametrised layers: nothing would train"
            }
            ShapeError::FrontMismatch => {
                "the parameters read in place are not exactly the frozen layers' parameters"
            }
            ShapeError::SettingsMismatch => {
                "the configuration or head differs from the one the trainer's type fixes"
            }
        }
    }
}

impl core::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ShapeError::WidthMismatch {
                layer,
                expected,
                found,
            } => write!(
                f,
                "layer {layer}: takes {found} inputs but the layer before it gives {expected}"
            ),
            ShapeError::ZeroWidth { layer }
            | ShapeError::BadDropout { layer }
            | ShapeError::TooLarge { layer } => {
                write!(f, "layer {layer}: {}", self.message())
            }
            _ => f.write_str(self.message()),
        }
    }
}

/// The same words as `Display`, over defmt (the firmware logs them without `core::fmt`).
#[cfg(feature = "defmt")]
impl defmt::Format for ShapeError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            ShapeError::WidthMismatch {
                layer,
                expected,
                found,
            } => defmt::write!(
                f,
                "layer {=usize}: takes {=usize} inputs but the layer before it gives {=usize}",
                layer,
                found,
                expected
            ),
            ShapeError::ZeroWidth { layer }
            | ShapeError::BadDropout { layer }
            | ShapeError::TooLarge { layer } => {
                defmt::write!(f, "layer {=usize}: {=str}", layer, self.message())
            }
            _ => defmt::write!(f, "{=str}", self.message()),
        }
    }
}

/// Sizes of every buffer a network needs, in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Width of the input.
    pub inputs: usize,
    /// Width of the output.
    pub outputs: usize,
    /// Trainable parameters (also the length of the gradient buffer).
    pub params: usize,
    /// Activations: the input plus every layer's output.
    pub activations: usize,
    /// Back-propagated gradients: two vectors of the widest layer output (ping-pong; the network's
    /// input needs no gradient), and at least `inputs` floats in all (a sample's delta slot is the
    /// scratch its input row is first loaded into).
    pub deltas: usize,
    /// Dropout mask words (one bit per dropped-out element).
    pub mask_words: usize,
    /// Batch-norm statistics: per batch-norm layer of `n` features, the running mean and running
    /// variance (state that eval mode reads and checkpoints keep), then scratch between a train-mode
    /// forward pass and its backward pass: `6·n` floats ([`Stats`](crate::layers::batch_norm::Stats)).
    pub stats: usize,
    /// Samples the activation, delta and mask buffers hold ([`Plan::batched`]); 1 for the
    /// sample-at-a-time engine.
    pub batch: usize,
}

impl Plan {
    /// Checks that `layers` chain and computes the memory plan.
    ///
    /// ```
    /// use tinytrain::spec::{Layer, Plan, ShapeError};
    /// let ok = [Layer::dense(64, 32), Layer::Dropout { p: 0.1 }, Layer::dense(32, 10)];
    /// assert_eq!(Plan::of(&ok).unwrap().params, 64 * 32 + 32 + 32 * 10 + 10);
    /// let bad = [Layer::dense(64, 32), Layer::dense(16, 10)];
    /// assert_eq!(Plan::of(&bad), Err(ShapeError::WidthMismatch { layer: 1, expected: 32, found: 16 }));
    /// ```
    pub const fn of(layers: &[Layer]) -> Result<Plan, ShapeError> {
        let inputs = match layers.first() {
            Some(Layer::Dense { inputs, .. }) => *inputs,
            Some(_) => return Err(ShapeError::FirstLayerNotDense),
            None => return Err(ShapeError::NoDenseLayer),
        };
        let mut width = inputs;
        let mut plan = Plan {
            inputs,
            outputs: 0,
            params: 0,
            activations: inputs,
            deltas: 0,
            mask_words: 0,
            stats: 0,
            batch: 1,
        };
        let mut widest = 0;
        let mut i = 0;
        // Every size is checked arithmetic: a width near `usize::MAX` must be an error, never a
        // wrapped-around small buffer.
        macro_rules! checked {
            ($e:expr) => {
                match $e {
                    Some(v) => v,
                    None => return Err(ShapeError::TooLarge { layer: i }),
                }
            };
        }
        while i < layers.len() {
            match layers[i] {
                Layer::Dense { inputs, outputs } => {
                    if inputs == 0 || outputs == 0 {
                        return Err(ShapeError::ZeroWidth { layer: i });
                    }
                    if inputs != width {
                        return Err(ShapeError::WidthMismatch {
                            layer: i,
                            expected: width,
                            found: inputs,
                        });
                    }
                    width = outputs;
                }
                Layer::Activation(_) => {}
                Layer::BatchNorm { features } => {
                    if features == 0 {
                        return Err(ShapeError::ZeroWidth { layer: i });
                    }
                    if features != width {
                        return Err(ShapeError::WidthMismatch {
                            layer: i,
                            expected: width,
                            found: features,
                        });
                    }
                    plan.stats = checked!(plan.stats.checked_add(checked!(
                        features.checked_mul(crate::layers::batch_norm::STATS_PER_FEATURE)
                    )));
                }
                Layer::Dropout { p } => {
                    // Written so that NaN fails too.
                    if !(p >= 0.0 && p < 1.0) {
                        return Err(ShapeError::BadDropout { layer: i });
                    }
                    plan.mask_words = checked!(plan.mask_words.checked_add(width.div_ceil(32)));
                }
            }
            plan.params = checked!(plan
                .params
                .checked_add(checked!(layers[i].checked_params())));
            plan.activations = checked!(plan.activations.checked_add(width));
            if width > widest {
                widest = width;
            }
            i += 1;
        }
        plan.outputs = width;
        i -= 1; // the sizes below overflow, if at all, because of the last layer
        plan.deltas = checked!(widest.checked_mul(2));
        if plan.deltas < inputs {
            plan.deltas = inputs;
        }
        // The bytes of every buffer, optimiser state included (Adam's two moments), fit a `usize`.
        let floats = checked!(plan.params.checked_mul(4));
        let floats = checked!(floats.checked_add(plan.activations));
        let floats = checked!(floats.checked_add(plan.deltas));
        let floats = checked!(floats.checked_add(plan.mask_words));
        let floats = checked!(floats.checked_add(plan.stats));
        checked!(floats.checked_mul(4));
        Ok(plan)
    }

    /// The plan for a batch-major engine holding `batch` samples at once: activations, deltas and
    /// masks once per sample (a network with batch norm needs the whole mini-batch; without one, the
    /// samples of a mini-batch then go through each layer together). `None` if a size overflows.
    ///
    /// ```
    /// use tinytrain::spec::{Layer, Plan};
    /// let plan = Plan::of(&[Layer::dense(4, 8), Layer::batch_norm(8), Layer::dense(8, 2)]).unwrap();
    /// let batched = plan.batched(16).unwrap();
    /// assert_eq!((batched.activations, batched.params, batched.stats), (16 * 22, plan.params, 48));
    /// ```
    pub const fn batched(&self, batch: usize) -> Option<Plan> {
        let (Some(activations), Some(deltas), Some(mask_words)) = (
            self.activations.checked_mul(batch),
            self.deltas.checked_mul(batch),
            self.mask_words.checked_mul(batch),
        ) else {
            return None;
        };
        if batch == 0 {
            return None;
        }
        Some(Plan {
            activations,
            deltas,
            mask_words,
            batch,
            ..*self
        })
    }

    /// [`Plan::batched`] for constants: fails compilation if the sizes overflow.
    pub const fn batched_const(&self, batch: usize) -> Plan {
        match self.batched(batch) {
            Some(plan) => plan,
            None => panic!("the batch's buffers overflow usize"),
        }
    }

    /// `true` if some layer is a batch norm (training then runs whole mini-batches at once).
    pub const fn has_batch_norm(&self) -> bool {
        self.stats > 0
    }

    /// [`Plan::of`] for constants: fails compilation with the error's message.
    pub const fn of_const(layers: &[Layer]) -> Plan {
        match Plan::of(layers) {
            Ok(plan) => plan,
            Err(e) => panic!("{}", e.message()),
        }
    }

    /// RAM for the network's own buffers (parameters, gradients, activations, deltas, masks,
    /// batch-norm statistics) in bytes, without optimiser state.
    pub const fn bytes(&self) -> usize {
        4 * self.params + self.fused_sgd_bytes()
    }

    /// RAM for a run that fuses every SGD step into the backward pass, in bytes: parameters,
    /// activations, deltas, masks and batch-norm statistics, with no gradients and no optimiser state
    /// ([`TrainConfig::trains_without_gradients`](crate::train::TrainConfig::trains_without_gradients)).
    pub const fn fused_sgd_bytes(&self) -> usize {
        4 * (self.params + self.activations + self.deltas + self.mask_words + self.stats)
    }
}

/// Parameters of `layers[..freeze]`: the leading part of the flat parameter buffer that a network
/// frozen below layer `freeze` does not train (and keeps no gradient or optimiser state for).
///
/// ```
/// use tinytrain::layers::Activation;
/// use tinytrain::spec::{frozen_params, Layer};
/// let layers = [Layer::dense(64, 32), Layer::Activation(Activation::Relu), Layer::dense(32, 10)];
/// assert_eq!(frozen_params(&layers, 2), 64 * 32 + 32);
/// assert_eq!(frozen_params(&layers, 0), 0);
/// ```
pub const fn frozen_params(layers: &[Layer], freeze: usize) -> usize {
    let mut params = 0;
    let mut i = 0;
    while i < layers.len() && i < freeze {
        params += layers[i].params();
        i += 1;
    }
    params
}

/// Where one dense layer's parameters live in the flat parameter buffer (and, the same, in the
/// gradient buffer): `W` (`outputs × inputs`, row-major), then `b` (`outputs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenseLayout {
    /// Width of the input.
    pub inputs: usize,
    /// Width of the output.
    pub outputs: usize,
    /// `W` then `b`: `params[range]`.
    pub range: Range<usize>,
}

impl DenseLayout {
    /// A `inputs → outputs` layer whose parameters start at `start`.
    pub const fn at(inputs: usize, outputs: usize, start: usize) -> Self {
        DenseLayout {
            inputs,
            outputs,
            range: start..start + inputs * outputs + outputs,
        }
    }

    /// The same layer in a buffer that starts `by` floats later: the gradient buffer of a network
    /// whose first `by` parameters are frozen ([`frozen_params`]).
    pub const fn shifted_down(&self, by: usize) -> Self {
        DenseLayout {
            inputs: self.inputs,
            outputs: self.outputs,
            range: self.range.start.saturating_sub(by)..self.range.end.saturating_sub(by),
        }
    }

    /// `(W, b)` of this layer in the flat buffer `params` (empty slices past its end).
    pub fn split<'p>(&self, params: &'p [f32]) -> (&'p [f32], &'p [f32]) {
        params
            .get(self.range.clone())
            .unwrap_or(&[])
            .split_at_checked(self.inputs * self.outputs)
            .unwrap_or((&[], &[]))
    }

    /// [`DenseLayout::split`], mutable.
    pub fn split_mut<'p>(&self, params: &'p mut [f32]) -> (&'p mut [f32], &'p mut [f32]) {
        let weights = self.inputs * self.outputs;
        match params.get_mut(self.range.clone()) {
            Some(layer) if layer.len() >= weights => layer.split_at_mut(weights),
            _ => (&mut [], &mut []),
        }
    }
}

/// The dense layers of `layers`, in order (also from the back), each with its place in the flat
/// parameter buffer: the one statement of the parameter layout.
///
/// ```
/// use tinytrain::layers::Activation;
/// use tinytrain::spec::{dense_layers, DenseLayout, Layer};
/// let layers = [Layer::dense(4, 8), Layer::Activation(Activation::Relu), Layer::dense(8, 3)];
/// let layout: Vec<DenseLayout> = dense_layers(&layers).collect();
/// assert_eq!(layout, [DenseLayout::at(4, 8, 0), DenseLayout::at(8, 3, 40)]);
/// assert_eq!(layout[1].range, 40..67);
/// ```
pub const fn dense_layers(layers: &[Layer]) -> DenseLayers<'_> {
    let mut params = 0;
    let mut i = 0;
    while i < layers.len() {
        params += layers[i].params();
        i += 1;
    }
    DenseLayers {
        layers,
        front: (0, 0),
        back: (layers.len(), params),
    }
}

/// The iterator of [`dense_layers`].
#[derive(Clone, Debug)]
pub struct DenseLayers<'l> {
    layers: &'l [Layer],
    /// The next layer index and parameter offset from the front.
    front: (usize, usize),
    /// One past the last layer index not yet yielded from the back, and its parameters' end.
    back: (usize, usize),
}

impl DenseLayers<'_> {
    /// [`Iterator::next`], for `const` code.
    pub const fn next_const(&mut self) -> Option<DenseLayout> {
        // `back.0 ≤ layers.len()`; the second test says so to the compiler (no bounds check).
        while self.front.0 < self.back.0 && self.front.0 < self.layers.len() {
            let (i, start) = self.front;
            self.front = (i + 1, start + self.layers[i].params());
            if let Layer::Dense { inputs, outputs } = self.layers[i] {
                return Some(DenseLayout::at(inputs, outputs, start));
            }
        }
        None
    }
}

impl Iterator for DenseLayers<'_> {
    type Item = DenseLayout;

    fn next(&mut self) -> Option<DenseLayout> {
        self.next_const()
    }
}

impl DoubleEndedIterator for DenseLayers<'_> {
    fn next_back(&mut self) -> Option<DenseLayout> {
        while self.front.0 < self.back.0 {
            let (end, params_end) = self.back;
            let layer = self.layers.get(end - 1)?;
            self.back = (end - 1, params_end - layer.params());
            if let Layer::Dense { inputs, outputs } = *layer {
                return Some(DenseLayout::at(inputs, outputs, self.back.1));
            }
        }
        None
    }
}

/// Defines a network whose shapes are checked at compile time and whose memory is exactly sized.
///
/// Expands to a module with `LAYERS`, its `PLAN`, `PARAMS`, `BATCH` (samples the buffers hold at
/// once: 1, or the `batch = N` given after the layers, which a network with batch norm needs for its
/// mini-batch), and a `Memory<STATE>` type holding every buffer as an array (`STATE` = optimiser
/// state length, see [`optimizer_state_len`](crate::optim::optimizer_state_len)).
///
/// ```
/// use tinytrain::prelude::*;
/// tinytrain::network! {
///     /// 64 pixels → 32 hidden → 10 digits.
///     pub digits_net = [
///         Layer::dense(64, 32),
///         Layer::Activation(Activation::Relu),
///         Layer::Dropout { p: 0.1 },
///         Layer::dense(32, 10),
///     ]
/// }
/// assert_eq!(digits_net::PARAMS, 2410);
/// let memory = digits_net::Memory::<{ 2 * digits_net::PARAMS }>::new();
/// // params, grads, Adam moments; 170 activations; 2 × 32 deltas (the widest layer output; the
/// // input needs no gradient); 1 mask word.
/// assert_eq!(core::mem::size_of_val(&memory), 4 * (2410 * 4 + 170 + 64 + 1));
/// // Plain SGD at batch 1: parameters, activations, deltas, masks.
/// let fused = digits_net::FusedSgdMemory::new();
/// assert_eq!(core::mem::size_of_val(&fused), digits_net::PLAN.fused_sgd_bytes());
/// assert_eq!(digits_net::PLAN.fused_sgd_bytes(), 4 * (2410 + 170 + 64 + 1));
///
/// // With batch norm, the buffers hold a whole mini-batch of 16.
/// tinytrain::network! {
///     bn_net = [
///         Layer::dense(64, 32),
///         Layer::batch_norm(32),
///         Layer::Activation(Activation::Relu),
///         Layer::dense(32, 10),
///     ],
///     batch = 16
/// }
/// assert_eq!(bn_net::PARAMS, 2410 + 64);
/// let memory = bn_net::Memory::<0>::new();
/// // params and grads; 16 × (64 + 3·32 + 10) activations; 16 × 2 × 32 deltas; 6 × 32 statistics.
/// assert_eq!(core::mem::size_of_val(&memory), 4 * (2 * 2474 + 16 * 170 + 16 * 64 + 192));
/// ```
///
/// A width mismatch does not compile:
///
/// ```compile_fail
/// use tinytrain::prelude::*;
/// tinytrain::network! { bad = [Layer::dense(64, 32), Layer::dense(16, 10)] }
/// let _ = bad::PARAMS;
/// ```
#[macro_export]
macro_rules! network {
    (@batch) => { 1 };
    (@batch $batch:expr) => { $batch };
    ($(#[$meta:meta])* $vis:vis $name:ident = [$($layer:expr),+ $(,)?] $(, batch = $batch:expr)? $(,)?) => {
        $(#[$meta])*
        #[allow(non_snake_case, dead_code)]
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::{layers::Activation, spec::Layer};
            /// The layers, in order.
            pub const LAYERS: &[$crate::spec::Layer] = &[$($layer),+];
            /// The memory plan of one sample; evaluating it checks the shapes at compile time.
            pub const PLAN: $crate::spec::Plan = $crate::spec::Plan::of_const(LAYERS);
            /// Samples the activation, delta and mask buffers hold at once.
            pub const BATCH: usize = $crate::network!(@batch $($batch)?);
            /// The plan of the buffers: [`PLAN`] for [`BATCH`] samples.
            pub const BATCH_PLAN: $crate::spec::Plan = PLAN.batched_const(BATCH);
            /// Number of trainable parameters.
            pub const PARAMS: usize = PLAN.params;
            /// Every buffer of this network as arrays: `HELD` parameters (`PARAMS`, or fewer when the
            /// frozen layers' are read in place: `Buffers::front`), `GRADS` gradient floats (the
            /// trainable parameters, or 0 for a run that fuses every SGD step) and `STATE` floats of
            /// optimiser state.
            pub type HeldMemoryOf<const HELD: usize, const GRADS: usize, const STATE: usize> =
                $crate::network::StaticMemory<
                HELD,
                GRADS,
                { BATCH_PLAN.activations },
                { BATCH_PLAN.deltas },
                { BATCH_PLAN.mask_words },
                { PLAN.stats },
                STATE,
            >;
            /// [`HeldMemoryOf`] holding every parameter.
            pub type MemoryOf<const GRADS: usize, const STATE: usize> =
                HeldMemoryOf<{ PLAN.params }, GRADS, STATE>;
            /// Every buffer of this network (and `STATE` floats of optimiser state) as arrays.
            pub type Memory<const STATE: usize> = MemoryOf<{ PLAN.params }, STATE>;
            /// The buffers of a run that fuses every SGD step
            /// ([`TrainConfig::trains_without_gradients`]($crate::train::TrainConfig::trains_without_gradients)):
            /// no gradients, no optimiser state ([`Plan::fused_sgd_bytes`]($crate::spec::Plan::fused_sgd_bytes)).
            pub type FusedSgdMemory = MemoryOf<0, 0>;
            // Force the shape check even if nothing else uses the plan.
            const _: () = assert!(PLAN.params > 0 && BATCH_PLAN.batch > 0);
        }
    };
}

impl core::error::Error for ShapeError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by hostile input: `--hidden 9223372036854775808` wrapped the plan's sums around to tiny
    /// buffers, and `Mlp::init` panicked. Every overflowing size is a `ShapeError`, on every target.
    #[test]
    fn sizes_that_overflow_are_shape_errors() {
        let huge = usize::MAX / 2 + 1;
        let cases: [(&[Layer], usize); 4] = [
            (&[Layer::dense(4, huge), Layer::dense(huge, 3)], 0),
            (&[Layer::dense(huge, 2)], 0),
            (
                &[Layer::dense(4, 1 << 40), Layer::dense(1 << 40, 1 << 40)],
                1,
            ),
            (
                &[
                    Layer::dense(4, usize::MAX / 8),
                    Layer::Activation(Activation::Relu),
                    Layer::Dropout { p: 0.1 },
                    Layer::Dropout { p: 0.1 },
                ],
                3,
            ),
        ];
        for (layers, layer) in cases {
            assert_eq!(
                Plan::of(layers),
                Err(ShapeError::TooLarge { layer }),
                "{layers:?}"
            );
        }
        assert_eq!(Layer::dense(huge, 2).checked_params(), None);
        assert_eq!(
            ShapeError::TooLarge { layer: 2 }.to_string(),
            "layer 2: the network's buffers are larger than this machine's address space"
        );
        // The largest sizes that fit still plan.
        assert!(Plan::of(&[Layer::dense(1 << 20, 1 << 10)]).is_ok());
    }
}
