//! The one runner: split → fit the standardiser → train epoch by epoch → summary.
//!
//! The firmware and the host both call [`run`] with the same [`Experiment`]; only the memory
//! (a zeroed `static` or `Vec`s) and what the [`Observer`] does with each record differ.

use tinytrain::data::split;
use tinytrain::network::{Buffers, StaticMemory};
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::record::EpochRecord;
use tinytrain::spec::ShapeError;
use tinytrain::train::Trainer;

use crate::experiment::Experiment;

/// Most features an experiment may have (the standardiser lives on the stack, sized for this).
pub const MAX_FEATURES: usize = 64;
/// Most classes an experiment may have (the trainer's confusion matrices are sized for this).
pub const MAX_CLASSES: usize = 10;

/// What the caller sees of a run, in order.
///
/// A closure `FnMut(&EpochRecord)` is an observer that only looks at the epoch records.
pub trait Observer {
    /// After the split and the standardiser fit, before the first epoch.
    fn started(&mut self, _rows: &Rows) {}
    /// During epoch `epoch` (1-based): `done` training samples so far (every 64, and at the end of
    /// the training pass, before validation).
    fn progress(&mut self, _epoch: u32, _done: usize) {}
    /// After every epoch.
    fn epoch(&mut self, record: &EpochRecord);
}

impl<F: FnMut(&EpochRecord)> Observer for F {
    fn epoch(&mut self, record: &EpochRecord) {
        self(record)
    }
}

/// How the split came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rows {
    /// Training rows.
    pub train: u32,
    /// Validation rows.
    pub validation: u32,
}

/// The outcome of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Summary {
    /// [`Experiment::name`].
    pub experiment: &'static str,
    /// Epochs trained.
    pub epochs: u32,
    /// The split.
    pub rows: Rows,
    /// Training samples processed over all epochs (forward, backward and their share of an update).
    pub samples_trained: u32,
    /// The best epoch: highest validation accuracy (then lowest validation loss, then lowest training
    /// loss, for runs without those); the earliest wins ties.
    pub best_epoch: u32,
    /// Validation accuracy of the best epoch (classification with validation data).
    pub best_val_acc: Option<f32>,
    /// The last epoch's record.
    pub last: EpochRecord,
}

/// Why a run could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError {
    /// The network, its buffers or its head do not fit together.
    Shape(ShapeError),
    /// The training index buffer is shorter than the dataset.
    TrainIndicesTooShort,
    /// The validation index buffer cannot hold the validation rows.
    ValidationIndicesTooShort,
    /// More features than [`MAX_FEATURES`] or classes than [`MAX_CLASSES`].
    TooLarge,
}

impl From<ShapeError> for RunError {
    fn from(e: ShapeError) -> Self {
        RunError::Shape(e)
    }
}

impl core::fmt::Display for RunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RunError::Shape(e) => e.fmt(f),
            RunError::TrainIndicesTooShort => {
                f.write_str("the training index buffer is shorter than the dataset")
            }
            RunError::ValidationIndicesTooShort => {
                f.write_str("the validation index buffer is too short")
            }
            RunError::TooLarge => f.write_str("the dataset has too many features or classes"),
        }
    }
}

/// Runs `experiment` over `buffers` and the index buffers `train` (at least
/// [`Experiment::train_capacity`] long) and `validation` (at least
/// [`Experiment::validation_capacity`]), telling `observer` about every epoch.
///
/// ```
/// use tinytrain_experiments::{iris, run};
/// let mut ws = Box::new(iris::workspace());
/// let (buffers, train, validation) = ws.parts();
/// let mut losses = Vec::new();
/// let summary = run(&iris::EXPERIMENT, buffers, train, validation, &mut |r: &_| losses.push(*r)).unwrap();
/// assert_eq!(losses.len(), 20);
/// assert!(summary.best_val_acc.unwrap() > 0.8);
/// ```
pub fn run(
    experiment: &Experiment,
    buffers: Buffers<'_>,
    train: &mut [u32],
    validation: &mut [u32],
    observer: &mut impl Observer,
) -> Result<Summary, RunError> {
    let data = experiment.data;
    let (features, classes) = (data.features(), experiment.classes());
    if features > MAX_FEATURES || classes > MAX_CLASSES {
        return Err(RunError::TooLarge);
    }
    if train.len() < data.rows() {
        return Err(RunError::TrainIndicesTooShort);
    }
    let (n_train, n_val) = split(
        &data,
        classes,
        experiment.validation_fraction,
        experiment.seed,
        train,
        validation,
    )
    .ok_or(RunError::ValidationIndicesTooShort)?;
    let (train, validation) = (&mut train[..n_train], &validation[..n_val]);

    // Statistics of the training rows only: validation must not leak into the inputs.
    let mut standardizer = Standardizer::<MAX_FEATURES>::new(features);
    if experiment.standardize {
        let mut scratch = [0.0; MAX_FEATURES];
        standardizer.fit(&data, train, &mut scratch[..features]);
    }
    let inputs = Standardized::new(&data, experiment.standardize.then_some(&standardizer), None);

    let mut trainer = Trainer::<MAX_CLASSES>::new(
        experiment.layers,
        buffers,
        experiment.config,
        experiment.head,
        experiment.seed,
    )?;
    let rows = Rows {
        train: n_train as u32,
        validation: n_val as u32,
    };
    observer.started(&rows);

    let mut best: Option<(f32, u32, Option<f32>)> = None;
    let mut last = EpochRecord::default();
    for epoch in 1..=experiment.epochs {
        last = trainer.run_epoch(&inputs, train, validation, |done| {
            observer.progress(epoch, done)
        });
        observer.epoch(&last);
        // Higher is better; a NaN (a diverged epoch) loses to any number.
        let score = match (last.val_acc, last.val_loss) {
            (Some(acc), _) => acc,
            (None, Some(loss)) => -loss,
            (None, None) => -last.train_loss,
        };
        if best.is_none_or(|(top, _, _)| score > top || (top.is_nan() && !score.is_nan())) {
            best = Some((score, last.epoch, last.val_acc));
        }
    }
    let (best_epoch, best_val_acc) = best.map_or((0, None), |(_, epoch, acc)| (epoch, acc));
    Ok(Summary {
        experiment: experiment.name,
        epochs: experiment.epochs,
        rows,
        samples_trained: experiment.epochs * rows.train,
        best_epoch,
        best_val_acc,
        last,
    })
}

/// The network's memory, whatever its sizes ([`StaticMemory`] from [`tinytrain::network!`]).
pub trait NetworkMemory {
    /// Borrows every buffer.
    fn buffers(&mut self) -> Buffers<'_>;
}

impl<const P: usize, const A: usize, const D: usize, const M: usize, const S: usize> NetworkMemory
    for StaticMemory<P, A, D, M, S>
{
    fn buffers(&mut self) -> Buffers<'_> {
        StaticMemory::buffers(self)
    }
}

/// Everything [`run`] needs, as arrays: the network's memory and the two index buffers.
///
/// All zeros when new, so a `static` of it lands in `.bss` and costs no flash.
#[derive(Clone, Debug)]
pub struct Workspace<M, const N: usize, const V: usize> {
    /// The network's buffers.
    pub memory: M,
    /// Training indices (the dataset's length).
    pub train: [u32; N],
    /// Validation indices.
    pub validation: [u32; V],
}

impl<M, const N: usize, const V: usize> Workspace<M, N, V> {
    /// Wraps `memory` with zeroed index buffers.
    pub const fn new(memory: M) -> Self {
        Self {
            memory,
            train: [0; N],
            validation: [0; V],
        }
    }
}

impl<M: NetworkMemory, const N: usize, const V: usize> Workspace<M, N, V> {
    /// The arguments of [`run`] after the experiment.
    pub fn parts(&mut self) -> (Buffers<'_>, &mut [u32], &mut [u32]) {
        (self.memory.buffers(), &mut self.train, &mut self.validation)
    }
}
