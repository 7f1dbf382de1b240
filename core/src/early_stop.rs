//! Early stopping, after Keras' [`EarlyStopping`](https://keras.io/api/callbacks/early_stopping/)
//! callback: stop when a monitored quantity has not improved for `patience` epochs, and optionally
//! keep a copy of the best epoch's parameters to go back to.
//!
//! The rule (Keras' `on_epoch_end`, with 1-based epochs): records with `epoch ≤ start_from_epoch`,
//! or without the monitored quantity, are ignored. Otherwise `wait += 1`; if the value improves on
//! the best so far by more than `min_delta` ([`Direction::improves`]) it becomes the best, the
//! parameters are copied into the snapshot and `wait = 0`; else, once `wait ≥ patience`, the
//! decision is [`Decision::Stop`]. The first observed epoch always fills the snapshot, so there is
//! always something to restore.
//!
//! The snapshot lives in a buffer the caller provides, as long as the model
//! ([`Mlp::model_len`](crate::network::Mlp::model_len): the parameters, and the batch-norm
//! statistics eval mode reads): `4 · model_len` bytes ([`EarlyStopping::snapshot_bytes`]), nothing
//! without `restore_best_weights`. The model comes in its two parts ([`Mlp::model`](crate::network::Mlp::model)).
//!
//! ```
//! use tinytrain::early_stop::{Decision, EarlyStopping, EarlyStoppingConfig};
//! use tinytrain::record::EpochRecord;
//! let config = EarlyStoppingConfig { patience: 2, ..EarlyStoppingConfig::default() };
//! let mut snapshot = [0.0f32; 3];
//! let mut stopper = EarlyStopping::new(config, 3, &mut snapshot).unwrap();
//! let mut params = [0.0f32; 3];
//! let mut decisions = Vec::new();
//! for (epoch, val_loss) in [(1, 0.9), (2, 0.5), (3, 0.6), (4, 0.7)] {
//!     params = [epoch as f32; 3]; // stand-in for a training epoch
//!     let record = EpochRecord { epoch, val_loss: Some(val_loss), ..Default::default() };
//!     decisions.push(stopper.observe(&record, [&params, &[]]));
//! }
//! assert_eq!(decisions.last(), Some(&Decision::Stop));
//! assert_eq!(stopper.restore([&mut params, &mut []]), Some(2));
//! assert_eq!(params, [2.0; 3]);
//! ```

use crate::monitor::{Direction, Monitor};
use crate::record::EpochRecord;
use crate::spec::ShapeError;

/// Settings of [`EarlyStopping`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EarlyStoppingConfig {
    /// The quantity watched.
    pub monitor: Monitor,
    /// Which way is better; `None` (Keras' `"auto"`): the monitor's own [`Monitor::direction`].
    pub direction: Option<Direction>,
    /// An improvement must exceed this (absolute, in the quantity's units).
    pub min_delta: f32,
    /// Epochs without improvement before stopping.
    pub patience: u32,
    /// Epochs `1..=start_from_epoch` are not watched (a warm-up).
    pub start_from_epoch: u32,
    /// Keep the best epoch's parameters in the snapshot buffer, for [`EarlyStopping::restore`].
    pub restore_best_weights: bool,
}

impl Default for EarlyStoppingConfig {
    /// `val_loss`, direction from the monitor, `min_delta` 0, `patience` 5, no warm-up, restoring
    /// the best weights. (Keras defaults to `patience` 0 and no restoring; on a small device a
    /// stop on the first noisy epoch and a lost best model are rarely what anyone wants.)
    fn default() -> Self {
        Self {
            monitor: Monitor::ValLoss,
            direction: None,
            min_delta: 0.0,
            patience: 5,
            start_from_epoch: 0,
            restore_best_weights: true,
        }
    }
}

impl EarlyStoppingConfig {
    /// The `patience` of [`EarlyStoppingConfig::best_only`]: no run is that long, so it never stops.
    pub const NEVER: u32 = u32::MAX;

    /// Keep the best epoch's parameters of `monitor` and never stop: Keras'
    /// `ModelCheckpoint(save_best_only=True)`, which saves on every strict improvement (no
    /// `min_delta`, no warm-up) and so ends with the epoch [`EarlyStopping`] would restore.
    pub const fn best_only(monitor: Monitor) -> Self {
        Self {
            monitor,
            direction: None,
            min_delta: 0.0,
            patience: Self::NEVER,
            start_from_epoch: 0,
            restore_best_weights: true,
        }
    }

    /// The direction in force: the configured one, or the monitor's.
    pub fn direction(&self) -> Direction {
        self.direction.unwrap_or(self.monitor.direction())
    }

    /// Floats of snapshot a network of `params` parameters needs (0 without restoring).
    pub const fn snapshot_len(&self, params: usize) -> usize {
        if self.restore_best_weights {
            params
        } else {
            0
        }
    }
}

/// Whether to go on training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decision {
    /// Train another epoch.
    Continue,
    /// Stop: no improvement for `patience` epochs.
    Stop,
}

/// Early stopping over a caller-provided snapshot buffer.
#[derive(Debug)]
pub struct EarlyStopping<'a> {
    config: EarlyStoppingConfig,
    snapshot: &'a mut [f32],
    best: f32,
    best_epoch: u32,
    snapshot_epoch: u32,
    wait: u32,
    stopped_epoch: Option<u32>,
}

impl<'a> EarlyStopping<'a> {
    /// Early stopping for a network of `params` parameters. With `restore_best_weights`, `snapshot`
    /// must hold at least `params` floats (it is shortened to `params`); without, it may be empty.
    pub fn new(
        config: EarlyStoppingConfig,
        params: usize,
        snapshot: &'a mut [f32],
    ) -> Result<Self, ShapeError> {
        let len = config.snapshot_len(params);
        if snapshot.len() < len {
            return Err(ShapeError::BufferTooSmall);
        }
        Ok(Self {
            config,
            snapshot: &mut snapshot[..len],
            best: f32::NAN,
            best_epoch: 0,
            snapshot_epoch: 0,
            wait: 0,
            stopped_epoch: None,
        })
    }

    /// The settings.
    pub fn config(&self) -> &EarlyStoppingConfig {
        &self.config
    }

    /// Bytes of the best-parameter snapshot: `4 · params` when restoring, else 0.
    pub fn snapshot_bytes(&self) -> usize {
        core::mem::size_of_val(self.snapshot)
    }

    /// The best value of the monitored quantity so far (NaN before any).
    pub fn best(&self) -> f32 {
        self.best
    }

    /// The epoch of the best value (0 before any).
    pub fn best_epoch(&self) -> u32 {
        self.best_epoch
    }

    /// Epochs since the last improvement (Keras' `wait`).
    pub fn wait(&self) -> u32 {
        self.wait
    }

    /// The epoch that decided to stop, if one did.
    pub fn stopped_epoch(&self) -> Option<u32> {
        self.stopped_epoch
    }

    /// Reads an epoch's record, with the model it ended with; snapshots it on improvement.
    pub fn observe(&mut self, record: &EpochRecord, model: [&[f32]; 2]) -> Decision {
        if self.stopped_epoch.is_some() {
            return Decision::Stop;
        }
        let Some(current) = self.config.monitor.value(record) else {
            return Decision::Continue;
        };
        if record.epoch <= self.config.start_from_epoch {
            return Decision::Continue;
        }
        if self.snapshot_epoch == 0 {
            self.take_snapshot(record.epoch, model);
        }
        self.wait = self.wait.saturating_add(1);
        let direction = self.config.direction();
        if direction.improves(current, self.best, self.config.min_delta) {
            self.best = current;
            self.best_epoch = record.epoch;
            self.take_snapshot(record.epoch, model);
            self.wait = 0;
            return Decision::Continue;
        }
        if self.wait >= self.config.patience {
            self.stopped_epoch = Some(record.epoch);
            return Decision::Stop;
        }
        Decision::Continue
    }

    /// Copies the snapshot into `params` and returns the epoch it was taken after; `None` (and
    /// `params` untouched) without `restore_best_weights` or before any observed epoch.
    pub fn restore(&self, model: [&mut [f32]; 2]) -> Option<u32> {
        if !self.config.restore_best_weights || self.snapshot_epoch == 0 {
            return None;
        }
        model
            .into_iter()
            .flat_map(|part| part.iter_mut())
            .zip(self.snapshot.iter())
            .for_each(|(p, s)| *p = *s);
        Some(self.snapshot_epoch)
    }

    /// Restores the best parameters into `params` (see [`EarlyStopping::restore`]) and says what
    /// early stopping did over the run.
    pub fn finish(&self, model: [&mut [f32]; 2]) -> Outcome {
        Outcome {
            monitor: self.config.monitor,
            patience: self.config.patience,
            stopped_epoch: self.stopped_epoch,
            best_epoch: self.best_epoch,
            best: self.best,
            restored_epoch: self.restore(model),
            snapshot_bytes: self.snapshot_bytes() as u32,
        }
    }

    fn take_snapshot(&mut self, epoch: u32, model: [&[f32]; 2]) {
        if self.config.restore_best_weights {
            self.snapshot
                .iter_mut()
                .zip(model.into_iter().flatten())
                .for_each(|(s, p)| *s = *p);
            self.snapshot_epoch = epoch;
        }
    }
}

/// What early stopping did over a run: one type for the host's files, the device's frames and every
/// message.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Outcome {
    /// The quantity watched.
    pub monitor: Monitor,
    /// Epochs without improvement it waited for.
    pub patience: u32,
    /// The epoch that stopped the run (`None`: every epoch ran).
    pub stopped_epoch: Option<u32>,
    /// The epoch of the best monitored value (0: the quantity never appeared).
    pub best_epoch: u32,
    /// The best monitored value (NaN before any).
    pub best: f32,
    /// The epoch whose weights were restored (`None`: the last epoch's weights are kept).
    pub restored_epoch: Option<u32>,
    /// Bytes of the best-weights snapshot (`4 · params`; 0 without restoring).
    pub snapshot_bytes: u32,
}

impl core::fmt::Display for Outcome {
    /// One line, e.g. `early stopping at epoch 33: val_loss has not improved on 0.0846 (epoch 23)
    /// for 10 epochs; restored the weights of epoch 23`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let monitor = self.monitor.name();
        if self.patience == EarlyStoppingConfig::NEVER {
            // `best_only`: nothing stops, only the best weights are kept.
            write!(
                f,
                "best {monitor} {:.4} at epoch {}",
                self.best, self.best_epoch
            )?;
            return match self.restored_epoch {
                Some(epoch) => write!(f, "; kept the weights of epoch {epoch}"),
                None => Ok(()),
            };
        }
        match self.stopped_epoch {
            Some(epoch) => write!(
                f,
                "early stopping at epoch {epoch}: {monitor} has not improved on {:.4} (epoch {}) for {} epochs",
                self.best, self.best_epoch, self.patience
            )?,
            None => write!(
                f,
                "early stopping did not stop the run; best {monitor} {:.4} at epoch {}",
                self.best, self.best_epoch
            )?,
        }
        match self.restored_epoch {
            Some(epoch) => write!(f, "; restored the weights of epoch {epoch}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::rng::Pcg32;

    fn record(epoch: u32, val_loss: f32, val_acc: f32) -> EpochRecord {
        EpochRecord {
            epoch,
            val_loss: Some(val_loss),
            val_acc: Some(val_acc),
            ..Default::default()
        }
    }

    #[test]
    fn stops_after_patience_epochs_without_improvement() {
        let config = EarlyStoppingConfig {
            patience: 3,
            min_delta: 0.01,
            restore_best_weights: false,
            ..EarlyStoppingConfig::default()
        };
        let mut stopper = EarlyStopping::new(config, 10, &mut []).unwrap();
        assert_eq!(stopper.snapshot_bytes(), 0);
        // 0.495 is not better than 0.5 by more than 0.01.
        let losses = [0.9, 0.5, 0.495, 0.6, 0.7];
        let decisions: Vec<_> = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| stopper.observe(&record(i as u32 + 1, l, 0.0), [&[], &[]]))
            .collect();
        use Decision::{Continue, Stop};
        assert_eq!(decisions, [Continue, Continue, Continue, Continue, Stop]);
        assert_eq!(
            (stopper.best_epoch(), stopper.stopped_epoch()),
            (2, Some(5))
        );
        assert_eq!(stopper.restore([&mut [0.0; 10], &mut []]), None);
    }

    #[test]
    fn accuracy_is_maximised_and_warm_up_ignored() {
        let config = EarlyStoppingConfig {
            monitor: Monitor::ValAcc,
            patience: 1,
            start_from_epoch: 2,
            ..EarlyStoppingConfig::default()
        };
        let mut snapshot = [0.0; 1];
        let mut stopper = EarlyStopping::new(config, 1, &mut snapshot).unwrap();
        assert_eq!(stopper.snapshot_bytes(), 4);
        let accs = [0.99, 0.1, 0.5, 0.7, 0.6];
        let mut decisions = Vec::new();
        for (i, &acc) in accs.iter().enumerate() {
            decisions.push(stopper.observe(&record(i as u32 + 1, 1.0, acc), [&[acc], &[]]));
        }
        assert_eq!(decisions[4], Decision::Stop);
        assert_eq!(stopper.best_epoch(), 4);
        let mut params = [0.0];
        assert_eq!(stopper.restore([&mut params, &mut []]), Some(4));
        assert_eq!(params, [0.7]);
    }

    /// `best_only` (ModelCheckpoint's save_best_only): no stop however long the run stalls, the
    /// snapshot follows every strict improvement (a tie keeps the earlier epoch).
    #[test]
    fn best_only_never_stops_and_keeps_the_first_best_epoch() {
        let config = EarlyStoppingConfig::best_only(Monitor::ValLoss);
        let mut snapshot = [0.0; 1];
        let mut stopper = EarlyStopping::new(config, 1, &mut snapshot).unwrap();
        let mut losses = vec![0.9, 0.5, 0.7, 0.5];
        losses.extend(core::iter::repeat_n(0.8, 500));
        for (i, &loss) in losses.iter().enumerate() {
            let epoch = i as u32 + 1;
            let decision = stopper.observe(&record(epoch, loss, 0.0), [&[epoch as f32], &[]]);
            assert_eq!(decision, Decision::Continue, "epoch {epoch}");
        }
        let mut params = [0.0];
        let outcome = stopper.finish([&mut params, &mut []]);
        assert_eq!((outcome.best_epoch, outcome.restored_epoch), (2, Some(2)));
        assert_eq!(params, [2.0]);
        assert_eq!(
            outcome.to_string(),
            "best val_loss 0.5000 at epoch 2; kept the weights of epoch 2"
        );
    }

    #[test]
    fn a_short_snapshot_buffer_is_an_error() {
        let config = EarlyStoppingConfig::default();
        assert_eq!(
            EarlyStopping::new(config, 4, &mut [0.0; 3]).err(),
            Some(ShapeError::BufferTooSmall)
        );
    }

    crate::network! {
        /// 2 → 32 → 2: big enough to memorise label noise.
        noisy_net = [Layer::dense(2, 32), Layer::Activation(Activation::Tanh), Layer::dense(32, 2)]
    }

    #[test]
    fn restoring_gives_back_the_best_epochs_validation_loss_bit_for_bit() {
        // Class = the sign of x0, with a quarter of the training labels flipped: the network first
        // learns the boundary, then memorises the flips and the validation loss climbs.
        let mut rng = Pcg32::new(3, 0);
        let rows = 80;
        let features: Vec<f32> = (0..2 * rows).map(|_| rng.symmetric(1.0)).collect();
        let labels: Vec<u16> = (0..rows)
            .map(|i| {
                let class = u16::from(features[2 * i] > 0.0);
                if i < 24 && rng.below(4) == 0 {
                    1 - class
                } else {
                    class
                }
            })
            .collect();
        let data = SliceDataset::classification(&features, 2, &labels);
        let mut train: Vec<u32> = (0..24).collect();
        let val: Vec<u32> = (24..rows as u32).collect();

        let mut memory = noisy_net::Memory::<
            { optimizer_state_len(OptimizerKind::ADAM, noisy_net::PARAMS) },
        >::new();
        let config = TrainConfig {
            lr: 0.05,
            batch_size: 4,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::<2>::new(
            noisy_net::LAYERS,
            memory.buffers(),
            config,
            Head::SoftmaxCrossEntropy,
            5,
        )
        .unwrap();
        let mut snapshot = [0.0; noisy_net::PARAMS];
        let stop_config = EarlyStoppingConfig {
            patience: 5,
            ..EarlyStoppingConfig::default()
        };
        let mut stopper =
            EarlyStopping::new(stop_config, noisy_net::PARAMS, &mut snapshot).unwrap();
        assert_eq!(stopper.snapshot_bytes(), 4 * noisy_net::PARAMS);
        let mut history = Vec::new();
        for _ in 0..300 {
            let record = trainer.run_epoch(&data, &mut train, &val, |_| {});
            history.push(record);
            if stopper.observe(&record, trainer.net().model()) == Decision::Stop {
                break;
            }
        }
        let stopped = stopper
            .stopped_epoch()
            .expect("the run should overfit and stop");
        let best = stopper.best_epoch();
        assert!(
            best > 1 && stopped == best + 5,
            "best {best}, stopped {stopped}"
        );
        let best_loss = history[best as usize - 1].val_loss.unwrap();
        let last_loss = history.last().unwrap().val_loss.unwrap();
        assert!(last_loss > best_loss);
        assert_eq!(stopper.restore(trainer.net_mut().model_mut()), Some(best));
        let restored = trainer.evaluate(&data, &val).loss.mean();
        assert_eq!(restored.to_bits(), best_loss.to_bits());
    }
}
