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
//! let mut stream = Stream::<tinytrain::train::Runtime>::new(&experiment, ws.memory.buffers()).unwrap();
//! let x = [5.1, 3.5, 1.4, 0.2];
//! assert!(matches!(stream.feed(Message::Sample { x: &x, target: Target::Class(0) }), Fed::Learned(_)));
//! let Fed::Epoch(record) = stream.feed(Message::EpochEnd) else { panic!() };
//! assert_eq!((record.epoch, stream.window().len()), (1, 1));
//! ```

use tinytrain::best::BestEpoch;
use tinytrain::data::{SliceDataset, Target};
use tinytrain::metrics::Window;
use tinytrain::monitor::Monitor;
use tinytrain::network::Buffers;
use tinytrain::normalize::Standardizer;
use tinytrain::record::EpochRecord;
use tinytrain::train::{Learned, Settings, StreamError, Trainer};

use crate::experiment::Experiment;
use crate::run::{standardizers, trainer, Rows, RunError, Summary, MAX_CLASSES, MAX_FEATURES};
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
}

/// A shipped model learning from a stream (see the [module documentation](self)).
pub struct Stream<'a, T: Settings> {
    trainer: Trainer<'a, MAX_CLASSES, T>,
    name: &'static str,
    features: usize,
    standardizer: Option<Standardizer<MAX_FEATURES>>,
    target: Option<Standardizer<1>>,
    window: Window<WINDOW>,
    best: BestEpoch,
    samples: u32,
    last: Option<EpochRecord>,
}

impl<'a, T: Settings> Stream<'a, T> {
    /// A stream of `experiment` (its network, configuration, seed, `--init` model and fixed
    /// statistics; its data only for the feature count and the classes) over `buffers`.
    pub fn new(experiment: &'a Experiment, buffers: Buffers<'a>) -> Result<Self, RunError> {
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
            config.target_scale = (target.mean()[0], 1.0 / target.scale()[0]);
        }
        Ok(Self {
            trainer: trainer(experiment, buffers, config)?,
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
            Message::Sample { x, target } => match self.learn(x, target) {
                Ok(learned) => {
                    self.window.learned(&learned);
                    self.samples += 1;
                    Fed::Learned(learned)
                }
                Err(e) => Fed::Refused(e),
            },
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

    /// Standardises a raw sample as the shipped model's inputs were, and learns it.
    fn learn(&mut self, raw: &[f32], target: Target) -> Result<Learned, StreamError> {
        let mut x = [0.0; MAX_FEATURES];
        let x = x.get_mut(..raw.len()).ok_or(StreamError::Width)?;
        x.copy_from_slice(raw);
        if let Some(standardizer) = &self.standardizer {
            standardizer.apply(x);
        }
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
        }
    }
}
