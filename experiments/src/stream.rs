//! A run that learns from a stream: the samples arrive one by one over the serial port
//! ([`sample`](crate::wire::sample) frames), not from a dataset in flash — a shipped model adapting
//! to what its own sensor sees.
//!
//! [`Stream`] is the one implementation: the firmware's `stream` program feeds it the frames it
//! receives, and the host feeds it the frames it sends (its replay), so the two give the same
//! records bit for bit. Each sample is standardised with the experiment's fixed
//! [`Statistics`](crate::experiment::Statistics) (a stream has no training split to fit them on)
//! and learned at once ([`Trainer::learn`]; mini-batches by accumulation, frozen layers as the
//! experiment's `freeze` says); an `epoch_end` frame closes an epoch, whose record carries the
//! training metrics of the samples since the last one (each measured before its own update: a
//! prequential, test-then-train score). [`Stream::window`] holds the last [`WINDOW`] samples'.
//!
//! ```
//! use tinytrain::data::Target;
//! use tinytrain_experiments::stream::{Fed, Stream};
//! use tinytrain_experiments::wire::sample::Message;
//! use tinytrain_experiments::{iris, Experiment};
//! use tinytrain_experiments::experiment::Statistics;
//!
//! // Iris with fixed statistics (a shipped model's), learning as samples arrive.
//! let experiment = Experiment {
//!     statistics: Some(Statistics { mean: &[5.8, 3.0, 3.8, 1.2], scale: &[1.2, 2.3, 0.57, 1.3], target: None }),
//!     ..iris::EXPERIMENT
//! };
//! let mut ws = Box::new(iris::workspace());
//! let mut stream = Stream::<tinytrain::train::Runtime>::new(&experiment, ws.memory.buffers(), &mut []).unwrap();
//! let x = [5.1, 3.5, 1.4, 0.2];
//! assert!(matches!(stream.feed(Message::Sample { x: &x, target: Target::Class(0) }), Fed::Learned(_)));
//! let Fed::Epoch(record) = stream.feed(Message::EpochEnd) else { panic!() };
//! assert_eq!((record.epoch, stream.window().len()), (1, 1));
//! ```

use tinytrain::best::BestEpoch;
use tinytrain::data::{Reconstruct, SliceDataset, Target};
use tinytrain::metrics::Window;
use tinytrain::monitor::Monitor;
use tinytrain::network::Buffers;
use tinytrain::normalize::Standardizer;
use tinytrain::record::EpochRecord;
use tinytrain::train::{Learned, Settings, StreamError, Trainer};

use crate::experiment::Experiment;
use crate::run::{
    standardizers, target_scale, trainer, Rows, RunError, Summary, MAX_CLASSES, MAX_FEATURES,
    MAX_TARGETS,
};
use crate::wire::sample::Message;

/// Samples in [`Stream::window`].
pub const WINDOW: usize = 64;

/// What [`Stream::feed`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fed {
    /// A sample was learned.
    Learned(Learned),
    /// An epoch ended: its record.
    Epoch(EpochRecord),
    /// The stream ended.
    End,
    /// The sample was refused (wrong width; the divergence policy stopped the run).
    Refused(StreamError),
    /// An autoencoder scored a sample: its reconstruction error and, once a threshold is set,
    /// whether it is above it (flagged an anomaly).
    Scored {
        /// The reconstruction error (the head's loss in eval mode).
        error: f32,
        /// `error > threshold` (`None`: no threshold yet; the error is kept for one).
        flagged: Option<bool>,
    },
    /// The anomaly threshold was set: that quantile of the errors kept.
    Threshold {
        /// The threshold.
        value: f32,
        /// Errors it was computed from.
        errors: u32,
    },
    /// The frame does not apply to this stream: why.
    Ignored(&'static str),
}

/// An autoencoder stream's anomaly detection: its threshold, and the hits of its flag on the
/// scored samples whose truth the sender gave.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Anomalies {
    /// The quantile the threshold is of the kept errors.
    pub quantile: f32,
    /// The threshold.
    pub threshold: f32,
    /// Its bits (the JSON number is shortest digits; these are exact).
    pub threshold_bits: u32,
    /// Errors the threshold was computed from.
    pub errors: u32,
    /// Flagged anomalies.
    pub true_positives: u32,
    /// Flagged normal samples.
    pub false_positives: u32,
    /// Anomalies not flagged.
    pub false_negatives: u32,
    /// Normal samples not flagged.
    pub true_negatives: u32,
}

impl Anomalies {
    /// `TP / (TP + FP)` (`None`: nothing flagged).
    pub fn precision(&self) -> Option<f32> {
        let flagged = self.true_positives + self.false_positives;
        (flagged > 0).then(|| self.true_positives as f32 / flagged as f32)
    }

    /// `TP / (TP + FN)` (`None`: no anomaly scored).
    pub fn recall(&self) -> Option<f32> {
        let anomalies = self.true_positives + self.false_negatives;
        (anomalies > 0).then(|| self.true_positives as f32 / anomalies as f32)
    }
}

/// A shipped model learning from a stream (see the [module documentation](self)).
pub struct Stream<'a, T: Settings> {
    trainer: Trainer<'a, MAX_CLASSES, T>,
    reconstruct: bool,
    /// An autoencoder's errors, kept until the threshold is set (`errors[..kept]`).
    errors: &'a mut [f32],
    kept: usize,
    anomalies: Option<Anomalies>,
    name: &'static str,
    features: usize,
    standardizer: Option<Standardizer<MAX_FEATURES, 0>>,
    target: Option<Standardizer<MAX_TARGETS, 0>>,
    window: Window<WINDOW>,
    best: BestEpoch,
    samples: u32,
    last: Option<EpochRecord>,
}

impl<'a, T: Settings> Stream<'a, T> {
    /// A stream of `experiment` (its network, configuration, seed, `--init` model and fixed
    /// statistics; its data only for the feature count and the classes) over `buffers`; an
    /// autoencoder keeps the errors of the samples it scores before its threshold in `errors`
    /// (empty for any other network).
    pub fn new(
        experiment: &'a Experiment,
        buffers: Buffers<'a>,
        errors: &'a mut [f32],
    ) -> Result<Self, RunError> {
        let (features, classes) = (experiment.data.features(), experiment.classes());
        if features > MAX_FEATURES || classes > MAX_CLASSES {
            return Err(RunError::TooLarge);
        }
        let (standardizer, target) = standardizers(experiment)?;
        if experiment.standardize && !standardizer.is_frozen() {
            return Err(RunError::NoStatistics);
        }
        let regression = classes == 0 && experiment.standardize;
        let mut config = experiment.config;
        if regression {
            config.target_scale = target_scale(&target);
        }
        Ok(Self {
            trainer: trainer(experiment, buffers, config)?,
            reconstruct: experiment.reconstruct,
            errors,
            kept: 0,
            anomalies: None,
            name: experiment.name,
            features,
            standardizer: experiment.standardize.then_some(standardizer),
            target: regression.then_some(target),
            window: Window::new(),
            best: BestEpoch::new(Monitor::ValAcc),
            samples: 0,
            last: None,
        })
    }

    /// Acts on one frame's message: learns a sample, closes an epoch, or says the stream ended.
    pub fn feed(&mut self, message: Message<'_>) -> Fed {
        match message {
            Message::Sample { .. } if self.reconstruct => {
                Fed::Ignored("an autoencoder's samples carry no target")
            }
            Message::Features { .. } | Message::Score { .. } | Message::Threshold { .. }
                if !self.reconstruct =>
            {
                Fed::Ignored("samples without a target, scores and thresholds are an autoencoder's")
            }
            Message::Sample { x, target } => self.learned(x, Some(target)),
            Message::Features { x } => self.learned(x, None),
            Message::Score { x, anomaly } => self.score(x, anomaly),
            Message::Threshold { quantile } => {
                let errors = self.errors.get_mut(..self.kept).unwrap_or_default();
                tinytrain::metrics::quantile::sort(errors);
                let threshold = tinytrain::metrics::quantile(errors, quantile);
                self.anomalies = Some(Anomalies {
                    quantile,
                    threshold,
                    threshold_bits: threshold.to_bits(),
                    errors: self.kept as u32,
                    ..Anomalies::default()
                });
                Fed::Threshold {
                    value: threshold,
                    errors: self.kept as u32,
                }
            }
            Message::EpochEnd => {
                let nothing = SliceDataset::regression(&[], self.features, &[]);
                let record = self.trainer.end_epoch(&nothing, &[] as &[u16]);
                self.best.observe(&record);
                self.last = Some(record);
                Fed::Epoch(record)
            }
            Message::End => Fed::End,
        }
    }

    /// Learns a sample (`None`: an autoencoder's, its target its input) and counts it.
    fn learned(&mut self, raw: &[f32], target: Option<Target>) -> Fed {
        match self.learn(raw, target) {
            Ok(learned) => {
                self.window.learned(&learned);
                self.samples += 1;
                Fed::Learned(learned)
            }
            Err(e) => Fed::Refused(e),
        }
    }

    /// An autoencoder's score of a sample: its reconstruction error in eval mode, kept for the
    /// threshold until there is one, then flagged against it (and counted, with the truth).
    fn score(&mut self, raw: &[f32], truth: Option<bool>) -> Fed {
        let mut x = [0.0; MAX_FEATURES];
        let Some(x) = standardized(&mut x, raw, self.standardizer.as_ref()) else {
            return Fed::Refused(StreamError::Width);
        };
        let one = SliceDataset::regression(x, x.len(), &[0.0]);
        let error = self
            .trainer
            .evaluate(&Reconstruct(&one), &[0u16])
            .loss
            .mean();
        let Some(anomalies) = &mut self.anomalies else {
            let Some(slot) = self.errors.get_mut(self.kept) else {
                return Fed::Ignored("no room left for the errors the threshold is taken from");
            };
            *slot = error;
            self.kept += 1;
            return Fed::Scored {
                error,
                flagged: None,
            };
        };
        let flagged = error > anomalies.threshold;
        match (truth, flagged) {
            (Some(true), true) => anomalies.true_positives += 1,
            (Some(false), true) => anomalies.false_positives += 1,
            (Some(true), false) => anomalies.false_negatives += 1,
            (Some(false), false) => anomalies.true_negatives += 1,
            (None, _) => {}
        }
        Fed::Scored {
            error,
            flagged: Some(flagged),
        }
    }

    /// Standardises a raw sample as the shipped model's inputs were, and learns it (`None`: an
    /// autoencoder's sample, its own target).
    fn learn(&mut self, raw: &[f32], target: Option<Target>) -> Result<Learned, StreamError> {
        let mut x = [0.0; MAX_FEATURES];
        let x = standardized(&mut x, raw, self.standardizer.as_ref()).ok_or(StreamError::Width)?;
        let Some(target) = target else {
            return self.trainer.learn_values(x, x);
        };
        let target = match (target, &self.target) {
            (Target::Value(raw), Some(standardizer)) => {
                let mut y = [raw];
                standardizer.apply(&mut y);
                Target::Value(y[0])
            }
            (target, _) => target,
        };
        self.trainer.learn(x, target)
    }

    /// Loss and accuracy of the last [`WINDOW`] samples learned.
    pub fn window(&self) -> &Window<WINDOW> {
        &self.window
    }

    /// Samples learned so far.
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// The trainer (its network holds the model learned so far).
    pub fn trainer(&self) -> &Trainer<'a, MAX_CLASSES, T> {
        &self.trainer
    }

    /// The trainer, writable (to evaluate the model on rows of a dataset).
    pub fn trainer_mut(&mut self) -> &mut Trainer<'a, MAX_CLASSES, T> {
        &mut self.trainer
    }

    /// The run so far, as [`run`](crate::run())'s summary: every sample learned counts as a
    /// training row, and there is no validation split.
    pub fn summary(&self) -> Summary {
        let last = self.last.unwrap_or_default();
        let divergence = self.trainer.divergence_stats();
        Summary {
            experiment: self.name,
            epochs: last.epoch,
            rows: Rows {
                train: self.samples,
                validation: 0,
            },
            samples_trained: self.samples,
            best_epoch: self.best.epoch().unwrap_or(0),
            best_val_acc: None,
            last,
            divergence,
            skipped_samples: divergence.skipped_samples(),
            skipped_steps: divergence.skipped_steps,
            stopped_epoch: None,
            restored_epoch: None,
            anomalies: self.anomalies,
        }
    }
}

/// `raw` copied into `x` and standardised (`None`: wider than `x`).
fn standardized<'x>(
    x: &'x mut [f32; MAX_FEATURES],
    raw: &[f32],
    standardizer: Option<&Standardizer<MAX_FEATURES, 0>>,
) -> Option<&'x mut [f32]> {
    let x = x.get_mut(..raw.len())?;
    x.copy_from_slice(raw);
    if let Some(standardizer) = standardizer {
        standardizer.apply(x);
    }
    Some(x)
}
