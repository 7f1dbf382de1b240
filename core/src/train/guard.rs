//! The divergence guard. Nothing non-finite reaches the parameters. Per training sample the input row
//! and the loss are checked (one pass over the input, one comparison): a non-finite input row is bad
//! data — the sample is skipped and counted ([`DivergenceStats::bad_inputs`]); a non-finite loss from a
//! finite input is numeric divergence — the sample's backward pass is skipped
//! ([`DivergenceStats::bad_losses`]). Before each optimiser step the accumulated gradient is checked
//! (one pass over the gradient buffer per step, not per sample); a non-finite gradient skips the step
//! and zeroes the gradients ([`DivergenceStats::skipped_steps`]). Numeric divergence then follows
//! [`TrainConfig::divergence`](super::TrainConfig::divergence): keep going ([`DivergencePolicy::Skip`], the default), stop the run
//! ([`DivergencePolicy::Stop`]) or restore the last good parameters and scale the learning rate down
//! ([`DivergencePolicy::ReduceLr`]). A run without non-finite values computes exactly the bits it
//! computed before the guard existed. Plain SGD fused into the backward pass (batch 1) has no
//! gradient buffer to check: there the per-sample checks are the guard.

use crate::diagnose::Event;

use super::Trainer;

/// What the trainer does when a sample's loss or a step's gradient is not finite. The sample or the
/// step is skipped in every case (and counted in [`DivergenceStats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DivergencePolicy {
    /// Skip the sample or step and carry on.
    #[default]
    Skip,
    /// End the epoch's training pass at once (the epoch is still validated and recorded) and set
    /// [`Trainer::stopped`]; callers stop calling [`Trainer::run_epoch`].
    Stop,
    /// At the first divergence of an epoch: restore the parameters of the start of the last epoch
    /// that began after a clean one (only with a buffer from [`Trainer::keep_last_good`]; without
    /// one the parameters stay as they are, which are finite), drop the gradients of the current
    /// mini-batch, and multiply the learning rate by `factor` for the rest of the run.
    ReduceLr {
        /// Multiplies the learning rate, e.g. 0.5.
        factor: f32,
    },
}

impl DivergencePolicy {
    /// [`DivergencePolicy::ReduceLr`] halving the learning rate.
    pub const REDUCE_LR: Self = Self::ReduceLr { factor: 0.5 };

    /// `true` for the default, [`DivergencePolicy::Skip`].
    pub fn is_skip(&self) -> bool {
        *self == DivergencePolicy::Skip
    }
}

/// Counts of what the divergence guard skipped: bad input rows, non-finite losses and skipped
/// steps (the guard is described in `train/guard.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DivergenceStats {
    /// Training samples skipped because their input row held a NaN or an infinity.
    pub bad_inputs: u32,
    /// Training samples whose backward pass was skipped because their loss was not finite.
    pub bad_losses: u32,
    /// Optimiser steps skipped because the mini-batch gradient was not finite.
    pub skipped_steps: u32,
    /// Restores of the last good parameters ([`DivergencePolicy::ReduceLr`]).
    pub restores: u32,
}

impl DivergenceStats {
    /// Samples that did not train: bad inputs and bad losses.
    pub fn skipped_samples(&self) -> u32 {
        self.bad_inputs + self.bad_losses
    }

    /// `true` when nothing was skipped.
    pub fn is_clean(&self) -> bool {
        *self == Self::default()
    }

    /// Numeric divergence (a bad loss or gradient; bad inputs are bad data, not divergence).
    pub fn diverged(&self) -> bool {
        self.bad_losses > 0 || self.skipped_steps > 0
    }

    fn add(&mut self, other: &Self) {
        self.bad_inputs += other.bad_inputs;
        self.bad_losses += other.bad_losses;
        self.skipped_steps += other.skipped_steps;
        self.restores += other.restores;
    }
}

/// What the guard found in a training sample.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Health {
    Finite,
    BadInput,
    BadLoss,
}

/// What the training loop does after the divergence policy acted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Continue,
    /// The parameters were restored and the gradients dropped: the mini-batch starts over.
    Restart,
    Stop,
}

/// `true` if every value is finite; no early exit, so the loop vectorises.
pub(super) fn all_finite(values: &[f32]) -> bool {
    values.iter().fold(true, |ok, v| ok & v.is_finite())
}

/// [`all_finite`] in integer arithmetic, for the input row checked per sample: a value is NaN or ±∞
/// exactly when its magnitude bits are at least `0x7F80_0000`, that is when adding `0x0080_0000` to
/// them carries into bit 31 (cheaper than the float compare on a Cortex-M4).
pub(super) fn all_finite_bits(values: &[f32]) -> bool {
    let carries = values.iter().fold(0u32, |acc, v| {
        acc | ((v.to_bits() & 0x7FFF_FFFF) + 0x0080_0000)
    });
    carries & 0x8000_0000 == 0
}

impl<'a, const C: usize, S: super::Settings> Trainer<'a, C, S> {
    /// Lends a buffer of [`Mlp::model_len`](crate::network::Mlp::model_len) floats for the last
    /// good model (parameters and batch-norm statistics): at the start of every epoch that follows
    /// an epoch without numeric divergence, the model is copied into it, and
    /// [`DivergencePolicy::ReduceLr`] restores it. One copy per epoch; without this buffer
    /// `ReduceLr` only scales the learning rate. Returns `false` (and keeps no snapshot) if the
    /// buffer is too short.
    pub fn keep_last_good(&mut self, buffer: &'a mut [f32]) -> bool {
        let params = self.net.model_len();
        match buffer.get_mut(..params) {
            Some(buffer) => {
                self.last_good = Some(buffer);
                self.last_good_valid = false;
                true
            }
            None => false,
        }
    }

    /// The last-good snapshot, when it holds parameters a restore would go back to (for checkpoints).
    pub(crate) fn last_good_snapshot(&self) -> Option<&[f32]> {
        self.last_good.as_deref().filter(|_| self.last_good_valid)
    }

    /// Floats the last-good buffer holds (0 without one).
    pub(crate) fn last_good_capacity(&self) -> usize {
        self.last_good.as_deref().map_or(0, <[f32]>::len)
    }

    /// Whether the last epoch diverged (for checkpoints: the next epoch takes no snapshot then).
    pub(crate) fn last_epoch_diverged(&self) -> bool {
        self.epoch_stats.diverged()
    }

    /// After loading a checkpoint whose last epoch diverged: the next epoch takes no snapshot.
    pub(crate) fn resume_after_divergence(&mut self, diverged: bool) {
        self.resumed_after_divergence = diverged;
    }

    /// Fills the last-good buffer with `fill` and marks it valid (loading a checkpoint).
    pub(crate) fn restore_last_good(&mut self, fill: impl FnOnce(&mut [f32])) {
        if let Some(buffer) = self.last_good.as_deref_mut() {
            fill(buffer);
            self.last_good_valid = true;
        }
    }

    /// What the divergence guard skipped over the whole run, the current epoch included.
    pub fn divergence_stats(&self) -> DivergenceStats {
        let mut total = self.stats;
        total.add(&self.epoch_stats);
        total
    }

    /// What the divergence guard skipped in the last epoch.
    pub fn epoch_divergence_stats(&self) -> DivergenceStats {
        self.epoch_stats
    }

    /// `true` once [`DivergencePolicy::Stop`] has ended the run.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The factor the learning rate is multiplied by (below 1 after [`DivergencePolicy::ReduceLr`]).
    pub fn lr_scale(&self) -> f32 {
        self.lr_scale
    }

    /// The core's divergence signal for the last epoch: `Event::Divergence { non_finite: true }`
    /// (the epoch of the first non-finite loss or gradient) after the epoch in which the run first
    /// diverged, once per run; `None` otherwise (and for bad input rows, which are bad data).
    pub fn divergence_event(&self) -> Option<Event> {
        (self.first_divergence != 0 && self.first_divergence == self.epoch).then_some(
            Event::Divergence {
                epoch: self.first_divergence,
                non_finite: true,
            },
        )
    }

    /// Sets the guard's counters from a checkpoint (`first_divergence`: 0 for none).
    pub(crate) fn restore_divergence_state(
        &mut self,
        stats: DivergenceStats,
        first_divergence: u32,
    ) {
        self.stats = stats;
        self.epoch_stats = DivergenceStats::default();
        self.first_divergence = first_divergence;
        self.last_good_valid = false;
    }

    /// Per-epoch bookkeeping of the guard: the last epoch's counts join the run's, and the last
    /// good parameters are saved if the last epoch did not diverge.
    pub(super) fn begin_epoch(&mut self) {
        let clean =
            !self.epoch_stats.diverged() && !core::mem::take(&mut self.resumed_after_divergence);
        self.stats.add(&self.epoch_stats);
        self.epoch_stats = DivergenceStats::default();
        if clean {
            if let Some(buffer) = self.last_good.as_deref_mut() {
                // `zip`, not `copy_from_slice`: equal lengths (`keep_last_good`), no panic path.
                buffer
                    .iter_mut()
                    .zip(self.net.model().into_iter().flatten())
                    .for_each(|(d, &p)| *d = p);
                self.last_good_valid = true;
            }
        }
    }

    /// Numeric divergence was just detected (and counted): apply the policy.
    pub(super) fn diverged(&mut self, lr: &mut f32) -> Action {
        if self.first_divergence == 0 {
            self.first_divergence = self.epoch + 1;
        }
        match self.config().divergence {
            DivergencePolicy::Skip => Action::Continue,
            DivergencePolicy::Stop => {
                self.stopped = true;
                Action::Stop
            }
            DivergencePolicy::ReduceLr { factor } => {
                if self.epoch_stats.restores > 0 {
                    return Action::Continue;
                }
                self.epoch_stats.restores += 1;
                if let (true, Some(good)) = (self.last_good_valid, self.last_good.as_deref()) {
                    self.net
                        .model_mut()
                        .into_iter()
                        .flat_map(|part| part.iter_mut())
                        .zip(good)
                        .for_each(|(p, &g)| *p = g);
                }
                self.net.zero_grad();
                self.lr_scale *= factor;
                *lr *= factor;
                Action::Restart
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SliceDataset;
    use crate::loss::Head;
    use crate::optim::optimizer_state_len;
    use crate::optim::{OptimizerKind, Schedule};
    use crate::train::TrainConfig;

    crate::network! {
        /// A linear regression on one feature: `out = w·x + b`.
        line = [Layer::dense(1, 1)]
    }
    crate::network! {
        /// A small classifier.
        small = [Layer::dense(2, 6), Layer::Activation(Activation::Relu), Layer::dense(6, 2)]
    }

    const SGD: TrainConfig = TrainConfig {
        lr: 0.01,
        optimizer: OptimizerKind::SGD,
        schedule: Schedule::Constant,
        batch_size: 2,
        shuffle: false,
        clip_norm: None,
        target_scale: (0.0, 1.0),
        divergence: DivergencePolicy::Skip,
        freeze: 0,
    };

    fn finite(values: &[f32]) -> bool {
        values.iter().all(|v| v.is_finite())
    }

    /// Rows 0–3 are tame; row 4 has a feature so large that `(w·x)²` overflows to ∞ (with
    /// `w = 1`); rows 5 and 6 give a finite loss whose gradient `2·w·x·x ≈ 3.4e38` overflows
    /// when two of them are summed into one mini-batch.
    const FEATURES: [f32; 7] = [0.5, -0.25, 1.0, 0.75, 1e30, 1.3e19, 1.3e19];
    const VALUES: [f32; 7] = [1.0, -0.5, 2.0, 1.5, 0.0, 0.0, 0.0];

    fn line_trainer(memory: &mut line::Memory<0>, config: TrainConfig) -> Trainer<'_, 2> {
        let mut trainer =
            Trainer::<2>::new(line::LAYERS, memory.buffers(), config, Head::LinearMse, 1).unwrap();
        trainer.net_mut().params_mut().copy_from_slice(&[1.0, 0.0]);
        trainer
    }

    /// An epoch whose every sample was skipped has no training loss to report: NaN, not 0, and no
    /// accuracy (or MAE); the validation metrics are still measured.
    #[test]
    fn an_epoch_with_every_sample_skipped_reports_no_training_metrics() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        let mut memory = line::Memory::<0>::new();
        let mut trainer = line_trainer(&mut memory, SGD);
        let record = trainer.run_epoch(&data, &mut [4u32], &[0, 1], |_| {});
        assert_eq!(trainer.epoch_divergence_stats().bad_losses, 1);
        assert!(record.train_loss.is_nan(), "{}", record.train_loss);
        assert_eq!(record.train_mae, None);
        assert!(record.val_loss.unwrap().is_finite() && record.val_mae.is_some());

        let features = [f32::NAN; 4];
        let data = SliceDataset::classification(&features, 2, &[0, 1]);
        let mut memory = small::Memory::<0>::new();
        let mut trainer = Trainer::<2>::new(
            small::LAYERS,
            memory.buffers(),
            SGD,
            Head::SoftmaxCrossEntropy,
            1,
        )
        .unwrap();
        let record = trainer.run_epoch(&data, &mut [0u32, 1], &[], |_| {});
        assert_eq!(trainer.epoch_divergence_stats().bad_inputs, 2);
        assert!(record.train_loss.is_nan());
        assert_eq!(record.train_acc, None);
    }

    #[test]
    fn an_infinite_loss_skips_the_sample_and_the_run_goes_on() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        let mut memory = line::Memory::<0>::new();
        let mut trainer = line_trainer(&mut memory, SGD);
        let mut order = [0u32, 1, 4, 2, 3];
        let record = trainer.run_epoch(&data, &mut order, &[0, 1], |_| {});
        let stats = trainer.epoch_divergence_stats();
        assert_eq!((stats.bad_losses, stats.skipped_steps), (1, 0));
        assert!(finite(trainer.net().params()));
        assert!(record.train_loss.is_finite() && record.val_loss.unwrap().is_finite());
        assert_eq!(
            trainer.divergence_event(),
            Some(Event::Divergence {
                epoch: 1,
                non_finite: true
            })
        );
        assert!(!trainer.stopped());
        // Once per run.
        trainer.run_epoch(&data, &mut order, &[0, 1], |_| {});
        assert_eq!(trainer.divergence_event(), None);
        assert_eq!(trainer.divergence_stats().bad_losses, 2);
    }

    /// Found by hostile input: `--lr 3e38 --batch 1` made every parameter infinite from finite
    /// gradients (weights.json full of `null`). A step that would leave a parameter non-finite is
    /// skipped like a non-finite gradient, with every optimiser, fused SGD included.
    #[test]
    fn a_step_that_would_overflow_a_parameter_is_skipped() {
        let data = SliceDataset::regression(&FEATURES[..4], 1, &VALUES[..4]);
        let optimizers = [
            OptimizerKind::SGD,
            OptimizerKind::Sgd {
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.0,
            },
            OptimizerKind::ADAM,
            OptimizerKind::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.01,
            },
        ];
        for optimizer in optimizers {
            for batch_size in [1, 2] {
                let config = TrainConfig {
                    lr: 3e38,
                    optimizer,
                    batch_size,
                    ..SGD
                };
                let mut memory = [0.0f32; 2];
                let mut state = [0.0f32; 4];
                let (mut grads, mut activations, mut deltas) = ([0.0; 2], [0.0; 2], [0.0; 2]);
                let buffers = crate::network::Buffers {
                    params: &mut memory,
                    front: &[],
                    grads: &mut grads,
                    activations: &mut activations,
                    deltas: &mut deltas,
                    masks: &mut [],
                    stats: &mut [],
                    state: &mut state[..crate::optim::optimizer_state_len(optimizer, 2)],
                };
                let mut trainer =
                    Trainer::<2>::new(line::LAYERS, buffers, config, Head::LinearMse, 1).unwrap();
                trainer.net_mut().params_mut().copy_from_slice(&[1.0, 0.0]);
                let mut order = [0u32, 1, 2, 3];
                for _ in 0..3 {
                    trainer.run_epoch(&data, &mut order, &[0, 1], |_| {});
                    assert!(
                        finite(trainer.net().params()),
                        "{optimizer:?} batch {batch_size}: {:?}",
                        trainer.net().params()
                    );
                }
                // The guard acted: steps skipped, or samples whose loss the huge weights overflowed.
                let stats = trainer.divergence_stats();
                assert!(
                    stats.skipped_steps + stats.skipped_samples() > 0,
                    "{optimizer:?}"
                );
            }
        }
    }

    #[test]
    fn a_non_finite_gradient_skips_the_step() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        for clip_norm in [None, Some(1.0)] {
            let mut memory = line::Memory::<0>::new();
            let config = TrainConfig { clip_norm, ..SGD };
            let mut trainer = line_trainer(&mut memory, config);
            // One mini-batch of the two overflowing rows, then a tame one.
            let mut order = [5u32, 6, 0, 1];
            trainer.run_epoch(&data, &mut order, &[], |_| {});
            let stats = trainer.divergence_stats();
            assert_eq!(
                (stats.bad_losses, stats.skipped_steps),
                (0, 1),
                "{clip_norm:?}"
            );
            assert_eq!(trainer.optimizer().steps(), 1);
            assert!(finite(trainer.net().params()));
            assert!(finite(trainer.net().grads()));
            assert!(trainer.divergence_event().is_some());
        }
    }

    #[test]
    fn the_stop_policy_ends_the_training_pass() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        let mut memory = line::Memory::<0>::new();
        let config = TrainConfig {
            divergence: DivergencePolicy::Stop,
            batch_size: 1,
            ..SGD
        };
        let mut trainer = line_trainer(&mut memory, config);
        let mut order = [0u32, 4, 1, 2];
        let record = trainer.run_epoch(&data, &mut order, &[0], |_| {});
        assert!(trainer.stopped());
        // Only row 0 trained (fused SGD at batch 1): one step.
        assert_eq!(trainer.optimizer().steps(), 1);
        assert_eq!(record.epoch, 1);
        assert!(finite(trainer.net().params()));
    }

    #[test]
    fn reduce_lr_restores_the_last_good_parameters() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        let mut memory = line::Memory::<0>::new();
        let mut snapshot = [0.0f32; line::PARAMS];
        let config = TrainConfig {
            divergence: DivergencePolicy::ReduceLr { factor: 0.5 },
            ..SGD
        };
        let mut trainer = line_trainer(&mut memory, config);
        assert!(trainer.keep_last_good(&mut snapshot));
        let mut order = [0u32, 1, 2, 3];
        trainer.run_epoch(&data, &mut order, &[], |_| {});
        let good = trainer.net().params().to_vec();
        // Epoch 2: two tame steps, then the overflow: back to the start of epoch 2.
        let mut order = [0u32, 1, 2, 3, 5, 6];
        let record = trainer.run_epoch(&data, &mut order, &[], |_| {});
        assert_eq!(trainer.net().params(), &good[..]);
        assert_eq!(trainer.lr_scale(), 0.5);
        assert_eq!(record.lr, 0.005);
        let stats = trainer.divergence_stats();
        assert_eq!((stats.skipped_steps, stats.restores), (1, 1));
        // The next epoch trains at the reduced rate.
        let record = trainer.run_epoch(&data, &mut order[..4], &[], |_| {});
        assert_eq!(record.lr, 0.005);
    }

    /// A checkpoint carries the guard's whole state: the learning-rate scale, every counter, the
    /// first divergence and the stopped flag; a trainer loaded from it continues identically.
    #[test]
    fn the_guard_state_survives_a_checkpoint() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        for policy in [
            DivergencePolicy::ReduceLr { factor: 0.5 },
            DivergencePolicy::Stop,
        ] {
            let config = TrainConfig {
                divergence: policy,
                ..SGD
            };
            let mut memory = line::Memory::<0>::new();
            let mut snapshot = [0.0f32; line::PARAMS];
            let mut trainer = line_trainer(&mut memory, config);
            assert!(trainer.keep_last_good(&mut snapshot));
            trainer.run_epoch(&data, &mut [0u32, 1, 2, 3], &[], |_| {});
            // Epoch 2: an infinite loss (row 4) and an overflowing step (rows 5, 6).
            trainer.run_epoch(&data, &mut [0u32, 4, 1, 2, 3, 5, 6], &[], |_| {});
            let order = [3u32, 2, 1, 0];
            let mut bytes = vec![0u8; trainer.checkpoint_len(order.len(), 0)];
            trainer.save_checkpoint(1, &order, &[], &mut bytes).unwrap();

            let mut memory = line::Memory::<0>::new();
            let mut snapshot = [0.0f32; line::PARAMS];
            let mut loaded = line_trainer(&mut memory, config);
            assert!(loaded.keep_last_good(&mut snapshot));
            let mut order_back = [0u32; 4];
            loaded
                .load_checkpoint(&bytes, &mut order_back, &mut [])
                .unwrap();
            assert_eq!(order_back, order);
            assert_eq!(
                loaded.lr_scale().to_bits(),
                trainer.lr_scale().to_bits(),
                "{policy:?}"
            );
            assert_eq!(
                loaded.divergence_stats(),
                trainer.divergence_stats(),
                "{policy:?}"
            );
            assert_eq!(
                loaded.divergence_event(),
                trainer.divergence_event(),
                "{policy:?}"
            );
            assert_eq!(loaded.stopped(), trainer.stopped(), "{policy:?}");
            // The state is not the fresh one, so the comparison above means something.
            let stats = trainer.divergence_stats();
            assert!(stats.bad_losses > 0, "{policy:?}: {stats:?}");
            match policy {
                // Stop ends the epoch at the infinite loss.
                DivergencePolicy::Stop => assert!(trainer.stopped()),
                _ => assert!(
                    trainer.lr_scale() < 1.0 && stats.restores > 0 && stats.skipped_steps > 0,
                    "{stats:?}"
                ),
            }
            assert!(trainer.divergence_event().is_some());
            // And both continue with the same bits.
            let next =
                |t: &mut Trainer<'_, 2>| t.run_epoch(&data, &mut [0u32, 1, 2, 3], &[0], |_| {});
            let (a, b) = (next(&mut trainer), next(&mut loaded));
            assert_eq!(a.train_loss.to_bits(), b.train_loss.to_bits());
            assert_eq!(trainer.net().params(), loaded.net().params());
        }
    }

    #[test]
    fn the_bit_test_agrees_with_is_finite() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7F80_0001),
            f32::from_bits(0xFFFF_FFFF),
        ];
        for v in specials {
            assert_eq!(all_finite_bits(&[0.5, v, 2.0]), v.is_finite(), "{v:e}");
        }
        assert!(all_finite_bits(&[]));
    }

    #[test]
    fn nan_inputs_are_skipped_as_bad_data() {
        let features = [
            0.5,
            1.0,
            f32::NAN,
            0.0,
            -1.0,
            0.5,
            0.25,
            -0.75,
            f32::INFINITY,
            1.0,
        ];
        let labels = [0, 1, 0, 1, 0];
        let data = SliceDataset::classification(&features, 2, &labels);
        let config = TrainConfig {
            divergence: DivergencePolicy::Stop,
            optimizer: OptimizerKind::ADAM,
            ..SGD
        };
        let mut memory =
            small::Memory::<{ optimizer_state_len(OptimizerKind::ADAM, small::PARAMS) }>::new();
        let mut trainer = Trainer::<2>::new(
            small::LAYERS,
            memory.buffers(),
            config,
            Head::SoftmaxCrossEntropy,
            3,
        )
        .unwrap();
        let mut order = [0u32, 1, 2, 3, 4];
        for _ in 0..3 {
            let record = trainer.run_epoch(&data, &mut order, &[0, 2], |_| {});
            assert!(record.train_loss.is_finite());
        }
        let stats = trainer.divergence_stats();
        assert_eq!(stats.bad_inputs, 6);
        assert_eq!(stats.skipped_samples(), 6);
        assert!(!stats.diverged() && !trainer.stopped());
        assert_eq!(trainer.divergence_event(), None);
        assert!(finite(trainer.net().params()));
        // Batches [0, 1] and [2(bad), 3] and [4(bad)]: two steps an epoch.
        assert_eq!(trainer.optimizer().steps(), 6);
    }

    #[test]
    fn the_policy_and_the_counts_say_what_they_are() {
        assert!(DivergencePolicy::Skip.is_skip());
        assert!(!DivergencePolicy::Stop.is_skip() && !DivergencePolicy::REDUCE_LR.is_skip());
        let none = DivergenceStats::default();
        assert!(none.is_clean() && !none.diverged());
        let count = |field: usize| {
            let mut stats = DivergenceStats::default();
            *[
                &mut stats.bad_inputs,
                &mut stats.bad_losses,
                &mut stats.skipped_steps,
                &mut stats.restores,
            ][field] = 1;
            stats
        };
        // Bad inputs are bad data, not divergence; every count makes the run unclean.
        assert_eq!(
            [0, 1, 2, 3].map(|f| (count(f).is_clean(), count(f).diverged())),
            [(false, false), (false, true), (false, true), (false, false)]
        );
        assert!(all_finite(&[]) && all_finite(&[1.0, -3e38]));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(!all_finite(&[1.0, bad, 2.0]) && !all_finite(&[bad, bad]));
        }
    }

    /// `ReduceLr`'s last-good snapshot across a checkpoint: epochs clean, diverged, diverged, clean
    /// (the bad row 4 in the middle two), interrupted after epoch 1 or 2 and resumed, equal the
    /// uninterrupted run bit for bit; and the restore in epoch 3 goes back to the start of epoch 2,
    /// the last epoch that began after a clean one.
    #[test]
    fn the_last_good_snapshot_survives_a_checkpoint() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        let config = TrainConfig {
            divergence: DivergencePolicy::REDUCE_LR,
            ..SGD
        };
        let orders: [&[u32]; 4] = [
            &[0, 1, 2, 3],
            &[0, 4, 1, 2, 3],
            &[1, 4, 0, 3, 2],
            &[3, 2, 1, 0],
        ];
        let bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let run = |trainer: &mut Trainer<'_, 2>, epochs: core::ops::Range<usize>| {
            epochs
                .map(|e| {
                    let mut order = orders[e].to_vec();
                    let r = trainer.run_epoch(&data, &mut order, &[0, 1], |_| {});
                    (
                        r.train_loss.to_bits(),
                        r.lr.to_bits(),
                        bits(trainer.net().params()),
                    )
                })
                .collect::<Vec<_>>()
        };
        let (mut memory, mut good) = (line::Memory::<0>::new(), [0.0f32; 2]);
        let mut full = line_trainer(&mut memory, config);
        assert!(full.keep_last_good(&mut good));
        let mut expected = run(&mut full, 0..2);
        let start_of_epoch_2 = expected[0].2.clone();
        expected.extend(run(&mut full, 2..3));
        assert_eq!(full.last_good_snapshot().map(bits), Some(start_of_epoch_2));
        expected.extend(run(&mut full, 3..4));
        assert_eq!(full.divergence_stats().restores, 2);

        for stop in [1, 2] {
            let (mut memory, mut good) = (line::Memory::<0>::new(), [0.0f32; 2]);
            let mut first = line_trainer(&mut memory, config);
            assert!(first.keep_last_good(&mut good));
            let mut got = run(&mut first, 0..stop);
            let mut bytes = vec![0u8; first.checkpoint_len(0, 0)];
            first
                .save_checkpoint::<u32>(1, &[], &[], &mut bytes)
                .unwrap();
            let (mut memory, mut good) = (line::Memory::<0>::new(), [0.0f32; 2]);
            let mut resumed = line_trainer(&mut memory, config);
            assert!(resumed.keep_last_good(&mut good));
            resumed
                .load_checkpoint::<u32>(&bytes, &mut [], &mut [])
                .unwrap();
            got.extend(run(&mut resumed, stop..4));
            assert_eq!(got, expected, "resumed after epoch {stop}");
        }
    }

    /// `ReduceLr` acts once per epoch: a second divergence in the same epoch is skipped like any
    /// other, without a second restore or a second cut of the rate.
    #[test]
    fn reduce_lr_acts_once_an_epoch() {
        let data = SliceDataset::regression(&FEATURES, 1, &VALUES);
        let config = TrainConfig {
            divergence: DivergencePolicy::REDUCE_LR,
            ..SGD
        };
        let mut memory = line::Memory::<0>::new();
        let mut trainer = line_trainer(&mut memory, config);
        let record = trainer.run_epoch(&data, &mut [0u32, 4, 1, 4, 2], &[], |_| {});
        let stats = trainer.epoch_divergence_stats();
        assert_eq!((stats.bad_losses, stats.restores), (2, 1));
        assert_eq!((trainer.lr_scale(), record.lr), (0.5, 0.005));
    }
}
