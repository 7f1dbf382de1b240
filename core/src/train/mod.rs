//! The epoch loop: the one function that host and firmware both call to train and to measure.
//!
//! One epoch: optionally shuffle the training order; for each sample, forward in train mode, loss and
//! its gradient, accumulate metrics (so `train_loss` is measured before each update, like PyTorch's
//! running loss), backward (accumulating gradients), and every `batch_size` samples one optimiser
//! step with the gradient mean; then evaluate the validation rows in eval mode.
//! Memory does not depend on the batch size: a mini-batch is a gradient sum.
//!
//! When the network's buffers hold a whole mini-batch ([`Plan::batched`](crate::spec::Plan::batched);
//! always with a batch norm, which normalises over the batch) the epoch runs batch-major instead:
//! the batch's samples go through each layer together, forward, then the losses, then backward.
//! The parameters do not change inside a mini-batch, and every layer takes the samples in order,
//! so without a batch norm both give the same bits (test
//! `batch_major_equals_sample_at_a_time_for_every_optimiser`). With a batch norm an epoch's last
//! mini-batch of a single sample is skipped (it has no batch variance; PyTorch raises on it).
//!
//! The divergence guard, which keeps NaN and infinities out of the parameters, is in
//! `train/guard.rs`: its policy is [`DivergencePolicy`], its counts [`DivergenceStats`].

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod freeze_tests;
mod fused;
mod guard;
mod learn;
mod settings;
#[cfg(test)]
mod test_memory;
#[cfg(test)]
mod tests;

use fused::{fusable_rate, plain_sgd};
use guard::{all_finite, all_finite_bits, Action, Health};
pub use guard::{DivergencePolicy, DivergenceStats};
use learn::StreamState;
pub use learn::{Learned, StreamError};
pub use settings::{Runtime, Settings};

use core::marker::PhantomData;

use crate::data::Target;
use crate::data::{shuffle, Dataset, RowIndex};
use crate::diagnose::Event;
use crate::loss::Head;
use crate::metrics::classification::Accuracy;
use crate::metrics::{ConfusionMatrix, RegressionMetrics, Welford};
use crate::network::{Buffers, Mlp, Mode};
use crate::optim::plateau::Plateau;
use crate::optim::{clip, Optimizer, OptimizerKind, Schedule};
use crate::record::EpochRecord;
use crate::rng::{stream, Pcg32};
use crate::spec::{Layer, ShapeError};

/// Hyper-parameters of a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrainConfig {
    /// Base learning rate (see `schedule`).
    pub lr: f32,
    /// Optimiser and its hyper-parameters.
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule over epochs.
    pub schedule: Schedule,
    /// Samples per optimiser step (gradient accumulation; the last batch of an epoch may be smaller).
    pub batch_size: u32,
    /// Shuffle the training order at the start of every epoch.
    pub shuffle: bool,
    /// Clip the mini-batch gradient to this global L2 norm (`None`: no clipping).
    pub clip_norm: Option<f32>,
    /// For regression on standardised targets: `(mean, std)` that map the network's output back to
    /// the target's units for MAE/RMSE (`y = out·std + mean`).
    pub target_scale: (f32, f32),
    /// What numeric divergence (a non-finite loss or gradient) does, beyond skipping the sample or
    /// step (see the [module documentation](self)). Left out of the serde form when it is the default.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "DivergencePolicy::is_skip")
    )]
    pub divergence: DivergencePolicy,
    /// Layers `layers[..freeze]` do not train ([`Mlp::new_frozen`]): fine-tuning the head of a
    /// shipped model. 0 trains every layer. Left out of the serde form when 0.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_zero"))]
    pub freeze: u32,
}

#[cfg(feature = "serde")]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TrainConfig {
    /// Adam at 1e-3, batch 32, shuffled, constant rate, no clipping, divergence skipped: the
    /// defaults of `tinytrain train`.
    pub const DEFAULT: Self = Self {
        lr: 1e-3,
        optimizer: OptimizerKind::ADAM,
        schedule: Schedule::Constant,
        batch_size: 32,
        shuffle: true,
        clip_norm: None,
        target_scale: (0.0, 1.0),
        divergence: DivergencePolicy::Skip,
        freeze: 0,
    };
}

impl Default for TrainConfig {
    /// [`TrainConfig::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Loss and task metrics over one pass, with a confusion matrix of up to `C` classes (the
/// validation pass's, for its F1; the training pass reports only its accuracy and keeps none,
/// `C = 0`).
#[derive(Clone, Debug)]
pub struct Summary<const C: usize> {
    /// Mean loss and its spread.
    pub loss: Welford,
    /// Accuracy (classification), whatever `C`.
    pub accuracy: Accuracy,
    /// Confusion matrix (classification; empty when `C = 0`).
    pub confusion: ConfusionMatrix<C>,
    /// Errors in the target's units (regression).
    pub regression: RegressionMetrics,
}

impl<const C: usize> Summary<C> {
    fn new(classes: usize) -> Self {
        Self {
            loss: Welford::new(),
            accuracy: Accuracy::new(classes),
            confusion: ConfusionMatrix::new(classes),
            regression: RegressionMetrics::new(),
        }
    }

    fn reset(&mut self) {
        self.loss.reset();
        self.accuracy.reset();
        self.confusion.reset();
        self.regression.reset();
    }

    /// Counts a sample of `loss` whose outputs `out` had the regression targets `target`, both
    /// mapped to the target's units by `unscale`.
    #[inline(always)]
    fn count_values(
        &mut self,
        loss: f32,
        out: &[f32],
        target: &[f32],
        unscale: impl Fn(f32) -> f32,
    ) {
        self.loss.update(loss);
        for (&z, &y) in out.iter().zip(target) {
            self.regression.update(unscale(z), unscale(y));
        }
    }

    /// Counts a sample of `loss`: its `predicted` class against the true one, or (regression) its
    /// first output `out` against the target's value, in the target's units.
    #[inline(always)]
    fn count(
        &mut self,
        loss: f32,
        predicted: Option<u16>,
        target: Target,
        out: f32,
        unscale: impl Fn(f32) -> f32,
    ) {
        self.loss.update(loss);
        match (predicted, target.class()) {
            (Some(predicted), Some(truth)) => {
                self.accuracy.update(truth, predicted);
                if C > 0 {
                    self.confusion.update(truth, predicted);
                }
            }
            _ => self
                .regression
                .update(unscale(out), unscale(target.value())),
        }
    }
}

/// A network, its optimiser and its head, trained one epoch at a time. `C` bounds the number of
/// classes the metrics can count; `S` says whether the configuration and head are fixed at compile
/// time ([`Settings`]).
#[derive(Debug)]
pub struct Trainer<'a, const C: usize, S: Settings = Runtime> {
    pub(crate) net: Mlp<'a>,
    head: Head,
    pub(crate) optimizer: Optimizer,
    pub(crate) config: TrainConfig,
    classes: usize,
    pub(crate) epoch: u32,
    pub(crate) shuffle_rng: Pcg32,
    train: Summary<0>,
    validation: Summary<C>,
    /// Multiplies the scheduled learning rate (1 until [`DivergencePolicy::ReduceLr`] acts).
    pub(crate) lr_scale: f32,
    /// [`Schedule::Plateau`]'s rate and counters (unused by the other schedules).
    pub(crate) plateau: Plateau,
    /// The last epoch's record made [`Schedule::Plateau`] reduce the rate.
    lr_reduced: bool,
    /// Everything skipped before the current epoch.
    pub(crate) stats: DivergenceStats,
    /// What the current (or last) epoch skipped.
    epoch_stats: DivergenceStats,
    /// The epoch (1-based) of the run's first numeric divergence (0: none).
    pub(crate) first_divergence: u32,
    /// [`DivergencePolicy::Stop`] ended the run.
    pub(crate) stopped: bool,
    /// The caller's buffer for the last good parameters ([`Trainer::keep_last_good`]).
    last_good: Option<&'a mut [f32]>,
    /// `last_good` holds parameters.
    last_good_valid: bool,
    /// The epoch before a loaded checkpoint diverged: the next epoch keeps the loaded last-good
    /// snapshot instead of taking one (as the uninterrupted run would).
    resumed_after_divergence: bool,
    /// The last measured sample's loss (what [`Trainer::learn`] reports).
    last_loss: f32,
    /// A stream's place in its epoch and mini-batch ([`Trainer::learn`]).
    stream: StreamState,
    settings: PhantomData<S>,
}

impl<'a, const C: usize, S: Settings> Trainer<'a, C, S> {
    /// Builds the network over `buffers` (parameters initialised from `seed`) and checks that the
    /// head fits its output width and the optimiser state fits its buffer.
    pub fn new(
        layers: &'a [Layer],
        buffers: Buffers<'a>,
        config: TrainConfig,
        head: Head,
        seed: u64,
    ) -> Result<Self, ShapeError> {
        let fixed = |c: TrainConfig| TrainConfig {
            target_scale: config.target_scale,
            ..c
        };
        if S::CONFIG.is_some_and(|c| fixed(c) != config)
            || S::HEAD.is_some_and(|h| h != head)
            || S::LAYERS.is_some_and(|l| l != layers)
        {
            return Err(ShapeError::SettingsMismatch);
        }
        // An empty gradient buffer is a plan without gradients: only for a run that fuses every step.
        if buffers.grads.is_empty() && !config.trains_without_gradients() {
            return Err(ShapeError::GradientsNeeded);
        }
        let plan = crate::spec::Plan::of(layers)?;
        if plan.has_batch_norm() && config.batch_size < 2 {
            return Err(ShapeError::BatchNormNeedsBatch);
        }
        let trainable = plan.params - crate::spec::frozen_params(layers, config.freeze as usize);
        let state_len = crate::optim::optimizer_state_len(config.optimizer, trainable);
        if buffers.state.len() < state_len {
            return Err(ShapeError::BufferTooSmall);
        }
        let net = Mlp::new_frozen(layers, buffers, seed, config.freeze as usize)?;
        if plan.has_batch_norm() && net.plan().batch < config.batch_size as usize {
            return Err(ShapeError::BatchBuffersTooSmall);
        }
        let outputs = net.plan().outputs;
        let classes = match head {
            Head::SoftmaxCrossEntropy if outputs >= 2 => outputs,
            Head::SigmoidBinaryCrossEntropy if outputs == 1 => 2,
            Head::LinearMse | Head::LinearL1 | Head::LinearHuber => 0,
            _ => return Err(ShapeError::HeadMismatch),
        };
        if classes > C {
            return Err(ShapeError::TooManyClasses);
        }
        Ok(Self {
            net,
            head,
            optimizer: Optimizer::new(config.optimizer),
            config,
            classes,
            epoch: 0,
            shuffle_rng: Pcg32::new(seed, stream::SHUFFLE),
            train: Summary::new(classes),
            validation: Summary::new(classes),
            lr_scale: 1.0,
            plateau: Plateau::new(config.lr),
            lr_reduced: false,
            stats: DivergenceStats::default(),
            epoch_stats: DivergenceStats::default(),
            first_divergence: 0,
            stopped: false,
            last_good: None,
            last_good_valid: false,
            resumed_after_divergence: false,
            last_loss: f32::NAN,
            stream: StreamState::default(),
            settings: PhantomData,
        })
    }

    /// The hyper-parameters: [`Settings::CONFIG`] when the type fixes them (a constant the compiler
    /// folds into every branch), else the ones given to [`Trainer::new`]. Equal either way. The
    /// target scale comes from the training rows, so it is always the trainer's own.
    #[inline(always)]
    pub(crate) fn config(&self) -> TrainConfig {
        match S::CONFIG {
            Some(fixed) => TrainConfig {
                target_scale: self.config.target_scale,
                ..fixed
            },
            None => self.config,
        }
    }

    /// The head, as [`Trainer::config`].
    #[inline(always)]
    fn head(&self) -> Head {
        S::HEAD.unwrap_or(self.head)
    }

    /// The network (to read or load parameters).
    pub fn net(&self) -> &Mlp<'a> {
        &self.net
    }

    /// The network, writable.
    pub fn net_mut(&mut self) -> &mut Mlp<'a> {
        &mut self.net
    }

    /// Epochs completed.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The optimiser (its step count).
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// Number of classes (0 for regression).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Metrics of the last training pass (no confusion matrix: its accuracy is what it reports).
    pub fn train_summary(&self) -> &Summary<0> {
        &self.train
    }

    /// Metrics of the last validation pass.
    pub fn validation_summary(&self) -> &Summary<C> {
        &self.validation
    }

    /// Trains one epoch over `train` (shuffled in place when configured), evaluates `validation`, and
    /// returns the epoch's record. `progress(done)` is called every 64 training samples and at the end.
    pub fn run_epoch<I: RowIndex>(
        &mut self,
        data: &impl Dataset,
        train: &mut [I],
        validation: &[I],
        mut progress: impl FnMut(usize),
    ) -> EpochRecord {
        let mut lr = self.start_epoch(train);
        if self.batch_major() {
            return self.run_batch_major(data, train, validation, lr, progress);
        }
        let batch_size = self.config().batch_size.max(1);
        // Without a gradient buffer (`TrainConfig::trains_without_gradients`, checked in `new`) every
        // step is fused, even over a `−0.0` parameter (whose sign is then the fused pass's).
        let fused = self.fuses_sgd(lr) || self.net.grads().is_empty();
        // `in_batch` counts the samples of the mini-batch, `contributing` those whose gradient it
        // holds (equal unless the guard skipped a sample; always 0 when the update is fused).
        let (mut in_batch, mut contributing) = (0, 0);
        let mut stopping = false;
        for (done, &row) in train.iter().enumerate() {
            // forward (and the loss, measured before this sample's update) ...
            let mut action = match self.forward_and_measure(data, row.row(), Pass::Train) {
                // ... backward: plain SGD at batch 1 updates the weights inside the backward pass
                // (one pass over them, no gradient buffer; the same bits as backward + step +
                // zero_grad), everything else accumulates into the gradient buffer ...
                Health::Finite => {
                    // One call site: the whole backward pass is inlined here.
                    self.net.backward_in(S::NEEDS, fused.then_some(lr));
                    if fused {
                        self.optimizer.count_step();
                    } else {
                        contributing += 1;
                    }
                    Action::Continue
                }
                Health::BadInput => Action::Continue,
                Health::BadLoss => self.diverged(&mut lr),
            };
            if action == Action::Restart {
                contributing = 0;
            }
            // ... and at the end of a mini-batch the update, which zeroes the gradients.
            in_batch += 1;
            if in_batch == batch_size && action != Action::Stop {
                if contributing > 0 && !self.update(lr, contributing) {
                    action = self.diverged(&mut lr);
                }
                (in_batch, contributing) = (0, 0);
            }
            if action == Action::Stop {
                self.net.zero_grad();
                stopping = true;
                break;
            }
            if done % 64 == 63 {
                progress(done + 1);
            }
        }
        if in_batch > 0 && contributing > 0 && !stopping && !self.update(lr, contributing) {
            self.diverged(&mut lr);
        }
        self.finish_epoch(data, train.len(), validation, lr, progress)
    }

    /// The epoch's learning rate; the guard's bookkeeping, the shuffle, train mode.
    fn start_epoch<I: RowIndex>(&mut self, train: &mut [I]) -> f32 {
        let lr = self.epoch_lr();
        self.begin_epoch();
        if self.config().shuffle {
            shuffle(train, &mut self.shuffle_rng);
        }
        self.net.set_mode(Mode::Train);
        self.train.reset();
        lr
    }

    /// The current epoch's learning rate: the schedule's (or the plateau's), times what the
    /// divergence guard took off.
    fn epoch_lr(&self) -> f32 {
        let mut lr = match self.config().schedule {
            Schedule::Plateau(_) => self.plateau.lr(),
            schedule => schedule.lr(self.config().lr, self.epoch),
        };
        if self.lr_scale != 1.0 {
            lr *= self.lr_scale;
        }
        lr
    }

    /// Whether epochs run batch-major: mini-batches of at least 2 samples that the network's
    /// buffers hold (always, with a batch norm: [`Trainer::new`] checked the buffers).
    pub fn batch_major(&self) -> bool {
        let batch = self.config().batch_size as usize;
        batch >= 2 && self.net.plan().batch >= batch
    }

    /// [`Trainer::run_epoch`], batch-major (see the [module documentation](self)). A mini-batch is
    /// `batch_size` rows of the order, as in the sample-at-a-time loop; rows with a non-finite
    /// input are left out of it, and so is (without a batch norm) a sample whose loss is not finite.
    /// With a batch norm such a sample was in the batch's statistics: the whole mini-batch skips its
    /// backward pass. After [`DivergencePolicy::ReduceLr`] restored the parameters the mini-batch
    /// skips its backward pass too (it ran on the parameters the restore replaced).
    fn run_batch_major<I: RowIndex>(
        &mut self,
        data: &impl Dataset,
        train: &mut [I],
        validation: &[I],
        mut lr: f32,
        mut progress: impl FnMut(usize),
    ) -> EpochRecord {
        let batch = self.config().batch_size as usize;
        let batch_norm = self.net.plan().has_batch_norm();
        let mut stopping = false;
        let mut done = 0;
        for rows in train.chunks(batch.max(1)) {
            // Load the batch: every finite row into the next slot.
            let mut n = 0;
            for &row in rows {
                if self.load_train(data, row.row(), n) {
                    n += 1;
                }
            }
            done += rows.len();
            if n == 0 || (batch_norm && n == 1) {
                continue;
            }
            self.net.forward_in(S::NEEDS, n);
            // The losses, in sample order (a row's slot is found again by its finiteness).
            let (mut s, mut skip_backward) = (0, false);
            for &row in rows {
                if !self.row_is_finite(data, row.row(), s) {
                    continue;
                }
                match self.measure(data, row.row(), s, Pass::Train) {
                    Health::Finite => s += 1,
                    _ => {
                        if batch_norm {
                            skip_backward = true;
                            s += 1;
                        } else {
                            self.net.drop_sample(s);
                        }
                        match self.diverged(&mut lr) {
                            Action::Continue => {}
                            Action::Restart => skip_backward = true,
                            Action::Stop => stopping = true,
                        }
                    }
                }
                if stopping {
                    break;
                }
            }
            if stopping {
                self.net.zero_grad();
                break;
            }
            if !skip_backward && s > 0 {
                self.net.backward_in(S::NEEDS, None);
                if !self.update(lr, s as u32) && self.diverged(&mut lr) == Action::Stop {
                    break;
                }
            }
            if done % 64 < rows.len() || done == train.len() {
                progress(done);
            }
        }
        self.finish_epoch(data, train.len(), validation, lr, progress)
    }

    fn finish_epoch<I: RowIndex>(
        &mut self,
        data: &impl Dataset,
        trained: usize,
        validation: &[I],
        lr: f32,
        mut progress: impl FnMut(usize),
    ) -> EpochRecord {
        progress(trained);
        self.epoch += 1;
        self.evaluate(data, validation);
        let record = self.record(lr, !validation.is_empty());
        // ReduceLROnPlateau reads the finished record, like Keras' `on_epoch_end`: a reduction
        // applies from the next epoch on.
        self.lr_reduced = match self.config().schedule {
            Schedule::Plateau(config) => self.plateau.observe(&config, &record).is_some(),
            _ => false,
        };
        record
    }

    /// [`Event::LrReduced`] after an epoch whose record made [`Schedule::Plateau`] reduce the
    /// rate (the next record's `lr` is the new rate); `None` otherwise.
    pub fn lr_event(&self) -> Option<Event> {
        self.lr_reduced
            .then_some(Event::LrReduced { epoch: self.epoch })
    }

    /// Whether an epoch at rate `lr` fuses plain SGD into the backward pass ([`Mlp::backward_sgd`]):
    /// no momentum, no weight decay, batch 1, a rate of at most 1, no clipping (its norm needs the
    /// whole gradient first), and no `−0.0` parameter. Public so that tests can check that the fast
    /// path they compare is the one taken.
    pub fn fuses_sgd(&self, lr: f32) -> bool {
        plain_sgd(self.config().optimizer)
            && fusable_rate(lr)
            && self.config().batch_size <= 1
            && self.config().clip_norm.is_none()
            && !self.net.has_negative_zero()
    }

    /// Evaluates `rows` in eval mode into [`Trainer::validation_summary`]; parameters are untouched.
    pub fn evaluate<I: RowIndex>(&mut self, data: &impl Dataset, rows: &[I]) -> &Summary<C> {
        self.net.set_mode(Mode::Eval);
        self.validation.reset();
        for &row in rows {
            self.forward_and_measure(data, row.row(), Pass::Validation);
        }
        &self.validation
    }

    /// Loads a sample, runs the forward pass and the loss (leaving `∂L/∂output` for backward) and
    /// counts the sample in the pass's metrics. In a training pass a sample with a non-finite input
    /// row or loss is not counted and is reported (and counted in the epoch's [`DivergenceStats`]).
    fn forward_and_measure(&mut self, data: &impl Dataset, row: usize, pass: Pass) -> Health {
        if pass == Pass::Train {
            if !self.load_train(data, row, 0) {
                return Health::BadInput;
            }
        } else {
            data.load(row, self.net.input_mut());
        }
        self.net.forward_in(S::NEEDS, 1);
        self.measure(data, row, 0, pass)
    }

    /// Loads a training row into sample slot `slot`; `false` (and counted) if it is not finite.
    #[inline(always)]
    fn load_train(&mut self, data: &impl Dataset, row: usize, slot: usize) -> bool {
        let input = self.net.input_mut_at(slot);
        data.load(row, input);
        let finite = all_finite_bits(input);
        if !finite {
            self.epoch_stats.bad_inputs += 1;
        }
        finite
    }

    /// Whether a training row's input is finite, loaded into slot `slot`'s deltas (scratch until the
    /// loss writes them): the batch-major loop's second look at a row, which counts nothing.
    fn row_is_finite(&mut self, data: &impl Dataset, row: usize, slot: usize) -> bool {
        let scratch = self.net.delta_scratch(slot);
        data.load(row, scratch);
        all_finite_bits(scratch)
    }

    /// The loss of sample slot `slot` after a forward pass (leaving `∂L/∂output` for backward),
    /// counted in the pass's metrics; in a training pass a non-finite loss is not counted, and
    /// reported.
    #[inline(always)]
    fn measure(&mut self, data: &impl Dataset, row: usize, slot: usize, pass: Pass) -> Health {
        let (head, (mean, std)) = (self.head(), self.config().target_scale);
        let unscale = |v: f32| v * std + mean;
        // Several regression targets (an autoencoder's are its inputs) load into scratch; the
        // metrics then count every output against its target.
        if !head.is_classification() && self.net.plan().outputs > 1 {
            let (out, grad, target) = self.net.output_grad_and_target_at(slot);
            data.load_target(row, target);
            let loss = head.regression_loss_and_grad(out, target, grad);
            self.last_loss = loss;
            if !Self::admit(&mut self.epoch_stats, pass, loss) {
                return Health::BadLoss;
            }
            match pass {
                Pass::Train => self.train.count_values(loss, out, target, unscale),
                Pass::Validation => self.validation.count_values(loss, out, target, unscale),
            }
            return Health::Finite;
        }
        let target = data.target(row);
        let (out, grad) = self.net.output_and_grad_mut_at(slot);
        let loss = head.loss_and_grad(out, target, grad);
        self.last_loss = loss;
        if !Self::admit(&mut self.epoch_stats, pass, loss) {
            return Health::BadLoss;
        }
        let (predicted, first) = (head.predict_class(out), out.first().copied().unwrap_or(0.0));
        match pass {
            Pass::Train => self.train.count(loss, predicted, target, first, unscale),
            Pass::Validation => self
                .validation
                .count(loss, predicted, target, first, unscale),
        }
        Health::Finite
    }

    /// Whether a sample of loss `loss` is counted in the pass's metrics: not (and counted in the
    /// epoch's [`DivergenceStats`]) a training sample whose loss is not finite.
    #[inline(always)]
    fn admit(stats: &mut DivergenceStats, pass: Pass, loss: f32) -> bool {
        if pass == Pass::Train && !loss.is_finite() {
            stats.bad_losses += 1;
            return false;
        }
        true
    }

    /// One optimiser step with the mean gradient of `batch` samples (clipped if configured), unless
    /// the gradient holds a NaN or an infinity: then the gradients are zeroed, the step is counted
    /// as skipped, and `false` is returned.
    fn update(&mut self, lr: f32, batch: u32) -> bool {
        let config = self.config();
        // With fixed settings the optimiser's kind is a constant as well (the value it holds).
        let optimizer = &mut self.optimizer;
        *optimizer = optimizer.with_kind(config.optimizer);
        let (params, grads, state) = self.net.optimizer_parts();
        let mut scale = 1.0 / batch as f32;
        let finite = match config.clip_norm {
            Some(max_norm) => {
                let norm = clip::global_norm(grads, scale);
                // A finite norm means finite gradients; an infinite one may be an overflow of the
                // sum of squares, which clipping handles (factor 0) as it always did.
                if norm.is_finite() || all_finite(grads) {
                    scale *= clip::clip_factor(norm, max_norm);
                    true
                } else {
                    false
                }
            }
            None => all_finite(grads),
        };
        // A finite gradient can still carry a parameter past f32 (a learning rate of 3e38): the
        // step is checked on copies first, so nothing non-finite reaches the parameters.
        if !finite || !optimizer.step_stays_finite(params, grads, state, lr, scale) {
            grads.iter_mut().for_each(|g| *g = 0.0);
            self.epoch_stats.skipped_steps += 1;
            return false;
        }
        optimizer.step_and_zero_grad(params, grads, state, lr, scale);
        true
    }

    fn record(&self, lr: f32, has_validation: bool) -> EpochRecord {
        let (train, val) = (&self.train, &self.validation);
        let classification = self.head().is_classification();
        let when = |flag: bool, v: f32| if flag { Some(v) } else { None };
        // An epoch whose every training sample was skipped (non-finite) has no training metrics:
        // its loss is NaN (never a made-up 0) and its accuracy or MAE absent.
        let trained = train.loss.count() > 0;
        EpochRecord {
            epoch: self.epoch,
            train_loss: if trained { train.loss.mean() } else { f32::NAN },
            train_acc: when(classification && trained, train.accuracy.value()),
            val_loss: when(has_validation, val.loss.mean()),
            val_acc: when(classification && has_validation, val.confusion.accuracy()),
            lr,
            val_f1: when(classification && has_validation, val.confusion.macro_f1()),
            train_mae: when(!classification && trained, train.regression.mae()),
            val_mae: when(!classification && has_validation, val.regression.mae()),
            val_rmse: when(!classification && has_validation, val.regression.rmse()),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Train,
    Validation,
}
