//! Learning from a stream: one sample at a time as it arrives, with no dataset and no epoch loop.
//!
//! [`Trainer::learn`] is the body of [`Trainer::run_epoch`]'s loop for one sample: forward in
//! train mode, the loss (counted in the training metrics, measured before the update), backward
//! into the gradient sum, and after every `batch_size` samples one optimiser step with the mean
//! gradient. [`Trainer::end_epoch`] is the loop's end: the step of a last, partial mini-batch, the
//! validation pass and the epoch's record. Fed the rows of an epoch in the order `run_epoch` takes
//! them, the two give the same parameters and records, bit for bit (test
//! `learning_a_stream_equals_run_epoch`); a stream with no epochs at all may never call
//! `end_epoch`, and reads [`Learned`] per sample instead (into a
//! [`Window`](crate::metrics::Window), say).
//!
//! A network with batch norm cannot learn one sample at a time (its train mode normalises over the
//! mini-batch): keep recent samples in a [`Ring`](crate::data::Ring) and run epochs over it.
//!
//! ```
//! use tinytrain::prelude::*;
//! use tinytrain::metrics::Window;
//!
//! tinytrain::network! {
//!     net = [Layer::dense(4, 10), Layer::Activation(Activation::Relu), Layer::dense(10, 3)]
//! }
//! // Layers 0 and 1 frozen (a shipped feature extractor): gradients and Adam moments for the head.
//! const TRAINABLE: usize = net::PARAMS - tinytrain::spec::frozen_params(net::LAYERS, 2);
//! let mut memory = net::MemoryOf::<TRAINABLE, { 2 * TRAINABLE }>::new();
//! let config = TrainConfig { batch_size: 4, freeze: 2, ..TrainConfig::DEFAULT };
//! let head = Head::SoftmaxCrossEntropy;
//! let mut trainer = Trainer::<3>::new(net::LAYERS, memory.buffers(), config, head, 1).unwrap();
//! let mut recent = Window::<32>::new();
//! for (x, class) in [([0.5, -1.0, 0.2, 0.1], 0), ([1.0, 0.3, -0.4, 2.0], 2)] {
//!     let learned = trainer.learn(&x, Target::Class(class)).unwrap(); // as it arrives
//!     recent.learned(&learned); // loss and accuracy over the last 32 samples, at any time
//! }
//! // An "epoch" whenever the application wants one (here without validation rows).
//! let record = trainer.end_epoch(&tinytrain::data::Ring::<8, 4>::new(), &[] as &[u16]);
//! assert!(record.train_loss.is_finite() && recent.len() == 2);
//! assert_eq!(trainer.optimizer().steps(), 1); // the partial mini-batch of 2
//! ```

use super::guard::{Action, Health};
use super::{Pass, Settings, Trainer};
use crate::data::{Dataset, RowIndex, Target};
use crate::network::Mode;
use crate::record::EpochRecord;

/// What [`Trainer::learn`] did with one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Learned {
    /// The sample's loss before this update (NaN if the sample was skipped).
    pub loss: f32,
    /// Whether the predicted class was the target's (`None` for regression, or a skipped sample).
    pub correct: Option<bool>,
    /// The sample completed a mini-batch and the optimiser stepped.
    pub stepped: bool,
    /// The divergence guard skipped the sample (a non-finite input or loss; counted in the
    /// trainer's [`DivergenceStats`](super::DivergenceStats)).
    pub skipped: bool,
}

/// Why [`Trainer::learn`] refused a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamError {
    /// The network has a batch norm, which needs a whole mini-batch at once.
    BatchNorm,
    /// The sample's features or target have the wrong number of values.
    Width,
    /// [`DivergencePolicy::Stop`](super::DivergencePolicy::Stop) ended the run.
    Stopped,
}

impl StreamError {
    /// A human-readable description.
    pub const fn message(&self) -> &'static str {
        match self {
            StreamError::BatchNorm => {
                "a network with batch norm learns whole mini-batches: keep samples in a Ring and run epochs over it"
            }
            StreamError::Width => {
                "the sample's features or target do not have the network's input or output width"
            }
            StreamError::Stopped => "the divergence policy stopped the run",
        }
    }
}

impl core::fmt::Display for StreamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for StreamError {}

/// Where a stream is within its current epoch and mini-batch.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamState {
    /// An epoch is open: its rate is set and its metrics count.
    open: bool,
    /// The open epoch's learning rate (the divergence guard may lower it).
    lr: f32,
    /// Samples in the current mini-batch, and those whose gradient it holds.
    in_batch: u32,
    contributing: u32,
    /// Samples learned in the open epoch.
    samples: usize,
}

/// One sample as a dataset of one row: the stream's way into the epoch loop's steps.
struct One<'s> {
    x: &'s [f32],
    target: Target,
    values: &'s [f32],
}

impl Dataset for One<'_> {
    fn len(&self) -> usize {
        1
    }

    fn features(&self) -> usize {
        self.x.len()
    }

    fn load(&self, _index: usize, out: &mut [f32]) {
        out.iter_mut().zip(self.x).for_each(|(o, &x)| *o = x);
    }

    fn target(&self, _index: usize) -> Target {
        self.target
    }

    fn target_width(&self) -> usize {
        self.values.len().max(1)
    }

    fn load_target(&self, _index: usize, out: &mut [f32]) {
        match self.values {
            [] => {
                if let Some(first) = out.first_mut() {
                    *first = self.target.value();
                }
            }
            values => out.iter_mut().zip(values).for_each(|(o, &v)| *o = v),
        }
    }
}

impl<const C: usize, S: Settings> Trainer<'_, C, S> {
    /// Learns one sample with a class or single-value target, as one turn of
    /// [`Trainer::run_epoch`]'s loop (`train/learn.rs` tells how): `x` has the network's input
    /// width.
    pub fn learn(&mut self, x: &[f32], target: Target) -> Result<Learned, StreamError> {
        self.learn_one(&One {
            x,
            target,
            values: &[],
        })
    }

    /// [`Trainer::learn`] for a regression over several outputs: `y` has the output width (an
    /// autoencoder passes `x` again).
    pub fn learn_values(&mut self, x: &[f32], y: &[f32]) -> Result<Learned, StreamError> {
        if y.len() != self.net.plan().outputs {
            return Err(StreamError::Width);
        }
        let target = Target::Value(y.first().copied().unwrap_or(0.0));
        self.learn_one(&One {
            x,
            target,
            values: y,
        })
    }

    fn learn_one(&mut self, one: &One<'_>) -> Result<Learned, StreamError> {
        if self.net.plan().has_batch_norm() {
            return Err(StreamError::BatchNorm);
        }
        if one.x.len() != self.net.plan().inputs {
            return Err(StreamError::Width);
        }
        if self.stopped {
            return Err(StreamError::Stopped);
        }
        if !self.stream.open {
            self.stream = StreamState {
                open: true,
                lr: self.open_epoch(),
                ..StreamState::default()
            };
        }
        // In train mode even after an `evaluate` between two samples.
        self.net.set_mode(Mode::Train);
        let mut lr = self.stream.lr;
        let batch_size = self.config().batch_size.max(1);
        let fused = self.fuses_sgd(lr) || self.net.grads().is_empty();
        let health = self.forward_and_measure(one, 0, Pass::Train);
        let mut learned = Learned {
            loss: f32::NAN,
            correct: None,
            stepped: false,
            skipped: health != Health::Finite,
        };
        let mut action = match health {
            Health::Finite => {
                learned.loss = self.last_loss;
                learned.correct = match (self.head().predict_class(self.net.output()), one.target) {
                    (Some(predicted), Target::Class(truth)) => Some(predicted == truth),
                    _ => None,
                };
                self.net.backward_in(S::NEEDS, fused.then_some(lr));
                if fused {
                    self.optimizer.count_step();
                    learned.stepped = true;
                } else {
                    self.stream.contributing += 1;
                }
                Action::Continue
            }
            Health::BadInput => Action::Continue,
            Health::BadLoss => self.diverged(&mut lr),
        };
        if action == Action::Restart {
            self.stream.contributing = 0;
        }
        self.stream.in_batch += 1;
        if self.stream.in_batch == batch_size && action != Action::Stop {
            if self.stream.contributing > 0 {
                if self.update(lr, self.stream.contributing) {
                    learned.stepped = true;
                } else {
                    action = self.diverged(&mut lr);
                }
            }
            (self.stream.in_batch, self.stream.contributing) = (0, 0);
        }
        if action == Action::Stop {
            self.net.zero_grad();
        }
        self.stream.lr = lr;
        self.stream.samples += 1;
        Ok(learned)
    }

    /// Ends the stream's epoch: steps on a partial mini-batch, evaluates `validation` and returns
    /// the epoch's record (the training metrics are those of the samples learned since the last
    /// `end_epoch`). Without a sample since, this is an epoch of nothing learned: its training
    /// loss is NaN, as [`Trainer::run_epoch`] over no rows gives.
    pub fn end_epoch<I: RowIndex>(&mut self, data: &impl Dataset, validation: &[I]) -> EpochRecord {
        if !self.stream.open {
            self.stream.lr = self.open_epoch();
        }
        let mut lr = self.stream.lr;
        let StreamState {
            in_batch,
            contributing,
            samples,
            ..
        } = self.stream;
        if in_batch > 0 && contributing > 0 && !self.stopped && !self.update(lr, contributing) {
            self.diverged(&mut lr);
        }
        self.stream = StreamState::default();
        self.finish_epoch(data, samples, validation, lr, |_| {})
    }

    /// The epoch's rate, the guard's bookkeeping and train mode: [`Trainer::run_epoch`]'s start
    /// without its shuffle (a stream's order is its arrival).
    fn open_epoch(&mut self) -> f32 {
        let lr = self.epoch_lr();
        self.begin_epoch();
        self.net.set_mode(Mode::Train);
        self.train.reset();
        lr
    }
}

#[cfg(test)]
mod tests {
    use super::super::{TrainConfig, Trainer};
    use super::*;
    use crate::data::{Reconstruct, Ring, SliceDataset};
    use crate::loss::Head;
    use crate::metrics::Window;
    use crate::optim::{OptimizerKind, Schedule};
    use crate::rng::Pcg32;

    crate::network! {
        net = [
            Layer::dense(4, 10),
            Layer::Activation(Activation::Relu),
            Layer::Dropout { p: 0.2 },
            Layer::dense(10, 6),
            Layer::Activation(Activation::Tanh),
            Layer::dense(6, 3),
        ]
    }

    fn uniform(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Pcg32::new(seed, 2);
        (0..n)
            .map(|_| (rng.next_u32() >> 8) as f32 / 8_388_608.0 - 1.0)
            .collect()
    }

    fn record_bits(r: &EpochRecord) -> [u32; 5] {
        let b = |v: Option<f32>| v.unwrap_or(-1.0).to_bits();
        [
            r.train_loss.to_bits(),
            b(r.train_acc),
            b(r.val_loss),
            b(r.val_acc),
            b(r.val_mae),
        ]
    }

    /// Acceptance 1 of "learning after deployment": the rows of every epoch fed through `learn`
    /// in `run_epoch`'s order (unshuffled; 23 rows, so each epoch ends in a partial mini-batch;
    /// one row with a NaN feature) give the same parameters and records, bit for bit, for fused
    /// SGD, SGD with momentum, Adam with clipping and a step schedule, and Adam with the first
    /// layers frozen.
    #[test]
    fn learning_a_stream_equals_run_epoch() {
        let rows = 23;
        let mut features = uniform(rows * 4, 1);
        features[4 * 7 + 2] = f32::NAN;
        let labels: Vec<u16> = (0..rows).map(|r| ((r * 7) % 3) as u16).collect();
        let data = SliceDataset::classification(&features, 4, &labels);
        let validation: Vec<u16> = (0..8).collect();
        let base = TrainConfig {
            shuffle: false,
            ..TrainConfig::DEFAULT
        };
        let configs = [
            TrainConfig {
                optimizer: OptimizerKind::SGD,
                lr: 0.05,
                batch_size: 1,
                ..base
            },
            TrainConfig {
                optimizer: OptimizerKind::Sgd {
                    momentum: 0.9,
                    nesterov: false,
                    weight_decay: 0.0,
                },
                lr: 0.02,
                batch_size: 3,
                ..base
            },
            TrainConfig {
                batch_size: 4,
                clip_norm: Some(0.5),
                schedule: Schedule::Step {
                    step_size: 2,
                    gamma: 0.5,
                },
                ..base
            },
            TrainConfig {
                batch_size: 5,
                freeze: 3,
                ..base
            },
        ];
        for config in configs {
            let mut a_mem = net::Memory::<{ 2 * net::PARAMS }>::new();
            let mut b_mem = net::Memory::<{ 2 * net::PARAMS }>::new();
            let head = Head::SoftmaxCrossEntropy;
            let mut a = Trainer::<3>::new(net::LAYERS, a_mem.buffers(), config, head, 9).unwrap();
            let mut b = Trainer::<3>::new(net::LAYERS, b_mem.buffers(), config, head, 9).unwrap();
            let mut order: Vec<u16> = (0..rows as u16).collect();
            let mut window = Window::<8>::new();
            for epoch in 0..3 {
                let expected = a.run_epoch(&data, &mut order, &validation, |_| {});
                for &row in &order {
                    let mut x = [0.0; 4];
                    data.load(usize::from(row), &mut x);
                    let learned = b.learn(&x, data.target(usize::from(row))).unwrap();
                    assert_eq!(learned.skipped, row == 7, "{config:?}");
                    window.learned(&learned);
                }
                let got = b.end_epoch(&data, &validation);
                assert_eq!(
                    record_bits(&got),
                    record_bits(&expected),
                    "{config:?} {epoch}"
                );
                assert_eq!(
                    a.net()
                        .params()
                        .iter()
                        .map(|p| p.to_bits())
                        .collect::<Vec<_>>(),
                    b.net()
                        .params()
                        .iter()
                        .map(|p| p.to_bits())
                        .collect::<Vec<_>>(),
                    "{config:?} epoch {epoch}"
                );
            }
            assert_eq!(a.optimizer().steps(), b.optimizer().steps());
            assert_eq!(window.len(), 8);
            assert!(window.accuracy().is_some() && window.mean_loss().is_finite());
        }
    }

    /// An autoencoder streamed through `learn_values` (target = input) equals its epochs over
    /// [`Reconstruct`]; a wrong target width is refused.
    #[test]
    fn a_streamed_autoencoder_equals_its_epochs() {
        crate::network! {
            ae = [Layer::dense(4, 2), Layer::Activation(Activation::Tanh), Layer::dense(2, 4)]
        }
        let rows = 13;
        let features = uniform(rows * 4, 3);
        let labels = vec![0u16; rows];
        let raw = SliceDataset::classification(&features, 4, &labels);
        let data = Reconstruct(&raw);
        let config = TrainConfig {
            shuffle: false,
            batch_size: 4,
            ..TrainConfig::DEFAULT
        };
        let mut a_mem = ae::Memory::<{ 2 * ae::PARAMS }>::new();
        let mut b_mem = ae::Memory::<{ 2 * ae::PARAMS }>::new();
        let mut a =
            Trainer::<2>::new(ae::LAYERS, a_mem.buffers(), config, Head::LinearMse, 5).unwrap();
        let mut b =
            Trainer::<2>::new(ae::LAYERS, b_mem.buffers(), config, Head::LinearMse, 5).unwrap();
        let mut order: Vec<u16> = (0..rows as u16).collect();
        let validation: Vec<u16> = (0..4).collect();
        for _ in 0..2 {
            let expected = a.run_epoch(&data, &mut order, &validation, |_| {});
            for &row in &order {
                let mut x = [0.0; 4];
                data.load(usize::from(row), &mut x);
                b.learn_values(&x, &x).unwrap();
            }
            let got = b.end_epoch(&data, &validation);
            assert_eq!(record_bits(&got), record_bits(&expected));
        }
        assert_eq!(a.net().params(), b.net().params());
        assert_eq!(
            b.learn_values(&[0.0; 4], &[0.0; 3]),
            Err(StreamError::Width)
        );
        assert_eq!(
            b.learn(&[0.0; 3], Target::Value(0.0)),
            Err(StreamError::Width)
        );
    }

    /// A network with batch norm refuses single samples; a ring of recent samples trains it.
    #[test]
    fn batch_norm_learns_a_stream_through_a_ring() {
        crate::network! {
            bn = [Layer::dense(3, 4), Layer::batch_norm(4), Layer::dense(4, 2)],
            batch = 4
        }
        let config = TrainConfig {
            batch_size: 4,
            shuffle: false,
            ..TrainConfig::DEFAULT
        };
        let mut mem = bn::Memory::<{ 2 * bn::PARAMS }>::new();
        let head = Head::SoftmaxCrossEntropy;
        let mut trainer = Trainer::<2>::new(bn::LAYERS, mem.buffers(), config, head, 1).unwrap();
        let x = [0.5, -0.5, 1.0];
        assert_eq!(
            trainer.learn(&x, Target::Class(1)),
            Err(StreamError::BatchNorm)
        );
        let mut ring = Ring::<8, 3>::new();
        let xs = uniform(12 * 3, 4);
        for (i, x) in xs.chunks(3).enumerate() {
            ring.push(x, Target::Class((i % 2) as u16));
        }
        let before = trainer.net().params().to_vec();
        let mut order: Vec<u16> = (0..ring.len() as u16).collect();
        let record = trainer.run_epoch(&ring, &mut order, &[] as &[u16], |_| {});
        assert!(record.train_loss.is_finite());
        assert_eq!(trainer.optimizer().steps(), 2);
        assert_ne!(trainer.net().params(), &before[..]);
    }
}
