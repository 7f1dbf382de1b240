//! The one runner: split → fit the standardiser → train epoch by epoch → summary.
//!
//! The firmware and the host both call [`run`] with the same [`Experiment`]; only the memory
//! (a zeroed `static` or `Vec`s) and what the [`Observer`] does with each record differ.

use tinytrain::data::{split, Dataset, Target};
use tinytrain::early_stop::EarlyStopping;
use tinytrain::network::{Buffers, StaticMemory};
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::record::EpochRecord;
use tinytrain::spec::ShapeError;
use tinytrain::train::{DivergenceStats, Trainer};

use crate::driver::{Driver, Observer};
use crate::experiment::Experiment;

/// Most features an experiment may have (the standardiser lives on the stack, sized for this).
pub const MAX_FEATURES: usize = 64;
/// Most classes an experiment may have (the trainer's confusion matrices are sized for this).
pub const MAX_CLASSES: usize = 10;

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
    /// The best epoch ([`tinytrain::best`]; 0: no epoch had a finite loss).
    pub best_epoch: u32,
    /// Validation accuracy of the best epoch (classification with validation data).
    pub best_val_acc: Option<f32>,
    /// The last epoch's record.
    pub last: EpochRecord,
    /// What the core's divergence guard skipped, in full (the serde form carries the two counts
    /// below).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub divergence: DivergenceStats,
    /// Training samples the core's divergence guard skipped (non-finite input or loss); left out of
    /// the serde form when 0.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_zero"))]
    pub skipped_samples: u32,
    /// Optimiser steps the guard skipped (non-finite gradient); left out of the serde form when 0.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_zero"))]
    pub skipped_steps: u32,
    /// The epoch early stopping stopped the run at; left out of the serde form when `None` (no early
    /// stopping, or every epoch ran).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub stopped_epoch: Option<u32>,
    /// Early stopping's best epoch, whose weights the run ended with (restored); left out of the
    /// serde form when `None` (no early stopping, or no restoring).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub restored_epoch: Option<u32>,
}

#[cfg(feature = "serde")]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A fault injected into the data a run trains on, after the standardiser was fitted (so only the
/// training and validation passes see it): how the divergence guard is tested on a device.
pub trait Fault: Copy {
    /// Alters the (standardised) features of row `row` as they are loaded.
    fn apply(&self, _row: usize, _features: &mut [f32]) {}
}

/// No fault: what [`run`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoFault;

impl Fault for NoFault {}

/// Row `row`'s first feature becomes NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NanInput {
    /// The data row (0-based).
    pub row: u32,
}

impl Fault for NanInput {
    fn apply(&self, row: usize, features: &mut [f32]) {
        if row == self.row as usize {
            if let Some(x) = features.first_mut() {
                *x = f32::NAN;
            }
        }
    }
}

/// A dataset whose rows pass through a [`Fault`] as they are loaded.
#[derive(Clone, Copy, Debug)]
struct Faulty<'a, D, F> {
    data: &'a D,
    fault: F,
}

impl<D: Dataset, F: Fault> Dataset for Faulty<'_, D, F> {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn features(&self) -> usize {
        self.data.features()
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        self.data.load(index, out);
        self.fault.apply(index, out);
    }

    fn target(&self, index: usize) -> Target {
        self.data.target(index)
    }
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
    /// The experiment restores its best weights and the snapshot buffer is shorter than
    /// [`Experiment::snapshot_len`].
    SnapshotTooShort,
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
            RunError::SnapshotTooShort => {
                f.write_str("the early-stopping snapshot buffer is too short")
            }
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
    run_with_fault(experiment, NoFault, buffers, train, validation, observer)
}

/// [`run`] with a [`Fault`] injected into the data (after the standardiser is fitted). A run stops
/// early when the experiment's [`DivergencePolicy`](tinytrain::train::DivergencePolicy) says so.
pub fn run_with_fault(
    experiment: &Experiment,
    fault: impl Fault,
    buffers: Buffers<'_>,
    train: &mut [u32],
    validation: &mut [u32],
    observer: &mut impl Observer,
) -> Result<Summary, RunError> {
    run_full(
        experiment,
        fault,
        buffers,
        train,
        validation,
        &mut [],
        observer,
    )
}

/// [`run_with_fault`] with the best-weights `snapshot` early stopping needs (at least
/// [`Experiment::snapshot_len`] floats; may be empty for an experiment without early stopping or
/// without restoring). With [`Experiment::early_stopping`] set, the run stops when the monitored
/// quantity has not improved for `patience` epochs, copies the best epoch's weights back into
/// `buffers.params`, and tells [`Observer::early_stop`]. The epochs run in [`Driver::run`].
pub fn run_full(
    experiment: &Experiment,
    fault: impl Fault,
    buffers: Buffers<'_>,
    train: &mut [u32],
    validation: &mut [u32],
    snapshot: &mut [f32],
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
    let standardized =
        Standardized::new(&data, experiment.standardize.then_some(&standardizer), None);
    let inputs = Faulty {
        data: &standardized,
        fault,
    };

    let mut trainer = Trainer::<MAX_CLASSES>::new(
        experiment.layers,
        buffers,
        experiment.config,
        experiment.head,
        experiment.seed,
    )?;
    if let Some(params) = crate::init::params_for(experiment.name) {
        // Built in with `TINYTRAIN_INIT_WEIGHTS` (see `crate::init`); the shape was checked at
        // compile time.
        trainer
            .net_mut()
            .params_mut()
            .iter_mut()
            .zip(params)
            .for_each(|(p, &v)| *p = v);
    }
    let params = trainer.net().params().len();
    let stopper = match experiment.early_stopping {
        Some(config) => Some(
            EarlyStopping::new(config, params, snapshot).map_err(|_| RunError::SnapshotTooShort)?,
        ),
        None => None,
    };
    let rows = Rows {
        train: n_train as u32,
        validation: n_val as u32,
    };
    let Ok(()) = observer.started(&rows);
    let mut driver = Driver::new(classes, stopper);
    let Ok(outcome) = driver.run(
        &mut trainer,
        &inputs,
        train,
        validation,
        experiment.epochs,
        observer,
    );
    let last = outcome.last.unwrap_or_default();
    let early_stop = outcome.early_stop;
    Ok(Summary {
        experiment: experiment.name,
        // The epochs that ran (fewer than the experiment's when the divergence policy or early
        // stopping ended it).
        epochs: last.epoch,
        rows,
        samples_trained: last.epoch * rows.train,
        best_epoch: outcome.best.map_or(0, |best| best.epoch),
        best_val_acc: outcome.best.and_then(|best| best.val_acc),
        last,
        divergence: outcome.divergence,
        skipped_samples: outcome.divergence.skipped_samples(),
        skipped_steps: outcome.divergence.skipped_steps,
        stopped_epoch: early_stop.and_then(|o| o.stopped_epoch),
        restored_epoch: early_stop.and_then(|o| o.restored_epoch),
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

/// Everything [`run`] needs, as arrays: the network's memory, the two index buffers, and the
/// best-weights snapshot of early stopping (`S` floats: 0, costing nothing, for an experiment
/// without it).
///
/// All zeros when new, so a `static` of it lands in `.bss` and costs no flash.
#[derive(Clone, Debug)]
pub struct Workspace<M, const N: usize, const V: usize, const S: usize = 0> {
    /// The network's buffers.
    pub memory: M,
    /// Training indices (the dataset's length).
    pub train: [u32; N],
    /// Validation indices.
    pub validation: [u32; V],
    /// Early stopping's snapshot of the best parameters.
    pub snapshot: [f32; S],
}

impl<M, const N: usize, const V: usize, const S: usize> Workspace<M, N, V, S> {
    /// Wraps `memory` with zeroed index buffers and snapshot.
    pub const fn new(memory: M) -> Self {
        Self {
            memory,
            train: [0; N],
            validation: [0; V],
            snapshot: [0.0; S],
        }
    }
}

impl<M: NetworkMemory, const N: usize, const V: usize, const S: usize> Workspace<M, N, V, S> {
    /// The arguments of [`run`] after the experiment.
    pub fn parts(&mut self) -> (Buffers<'_>, &mut [u32], &mut [u32]) {
        (self.memory.buffers(), &mut self.train, &mut self.validation)
    }

    /// The arguments of [`run_full`] after the experiment and the fault.
    pub fn parts_with_snapshot(&mut self) -> (Buffers<'_>, &mut [u32], &mut [u32], &mut [f32]) {
        (
            self.memory.buffers(),
            &mut self.train,
            &mut self.validation,
            &mut self.snapshot,
        )
    }
}

#[cfg(test)]
mod fault_tests {
    use super::*;
    use crate::iris;

    /// The row `train_iris_nan` (firmware) poisons: a training row of the iris split.
    pub const NAN_ROW: u32 = 0;

    #[test]
    fn a_nan_input_row_is_skipped_every_epoch_and_the_run_stays_finite() {
        let mut ws = Box::new(iris::workspace());
        let (buffers, train, validation) = ws.parts();
        let mut records = Vec::new();
        let summary = run_with_fault(
            &iris::EXPERIMENT,
            NanInput { row: NAN_ROW },
            buffers,
            train,
            validation,
            &mut |r: &EpochRecord| records.push(*r),
        )
        .unwrap();
        assert_eq!(summary.skipped_samples, iris::EXPERIMENT.epochs);
        assert_eq!(summary.skipped_steps, 0);
        assert!(records
            .iter()
            .all(|r| r.train_loss.is_finite() && r.val_loss.is_some_and(f32::is_finite)));
        assert!(summary.best_val_acc.unwrap() > 0.8);
        assert!(ws.memory.buffers().params.iter().all(|p| p.is_finite()));
        // The serde form carries the counts only when they are not zero.
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&summary).unwrap();
            assert!(json.contains("\"skipped_samples\":20"), "{json}");
            assert!(!json.contains("skipped_steps"), "{json}");
        }
    }
}

#[cfg(test)]
mod early_stop_tests {
    use super::*;
    use crate::{iris, iris_es};
    use core::convert::Infallible;
    use tinytrain::diagnose::Event;
    use tinytrain::early_stop::Outcome;

    #[derive(Default)]
    struct Seen {
        records: Vec<EpochRecord>,
        events: Vec<(u32, Event)>,
        outcome: Option<Outcome>,
    }

    impl Observer for Seen {
        fn epoch(&mut self, record: &EpochRecord) -> Result<(), Infallible> {
            self.records.push(*record);
            Ok(())
        }
        fn event(&mut self, detected: u32, event: &Event) -> Result<(), Infallible> {
            self.events.push((detected, *event));
            Ok(())
        }
        fn early_stop(&mut self, outcome: &Outcome) -> Result<(), Infallible> {
            self.outcome = Some(*outcome);
            Ok(())
        }
    }

    #[test]
    fn iris_es_stops_early_and_restores_the_best_epoch() {
        let mut ws = Box::new(iris_es::workspace());
        let (buffers, train, validation, snapshot) = ws.parts_with_snapshot();
        let mut seen = Seen::default();
        let summary = run_full(
            &iris_es::EXPERIMENT,
            NoFault,
            buffers,
            train,
            validation,
            snapshot,
            &mut seen,
        )
        .unwrap();
        let outcome = seen.outcome.unwrap();
        eprintln!("{outcome:?} {:?}", seen.events);
        let stopped = outcome.stopped_epoch.expect("iris_es stops early");
        assert!(stopped < iris_es::EXPERIMENT.epochs);
        assert_eq!(summary.stopped_epoch, Some(stopped));
        assert_eq!(summary.epochs, stopped);
        assert_eq!(seen.records.len() as u32, stopped);
        assert_eq!(stopped - outcome.best_epoch, 10);
        assert_eq!(summary.restored_epoch, Some(outcome.best_epoch));
        let best = seen.records[outcome.best_epoch as usize - 1];
        assert_eq!(
            best.val_loss.map(f32::to_bits),
            Some(outcome.best.to_bits())
        );
        // The first 20 epochs are iris's.
        let mut ws = Box::new(iris::workspace());
        let (buffers, train, validation) = ws.parts();
        let mut plain = Vec::new();
        run(
            &iris::EXPERIMENT,
            buffers,
            train,
            validation,
            &mut |r: &EpochRecord| plain.push(*r),
        )
        .unwrap();
        assert_eq!(plain[..], seen.records[..20]);
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&summary).unwrap();
            assert!(
                json.contains(&format!("\"stopped_epoch\":{stopped}")),
                "{json}"
            );
        }
    }

    #[test]
    fn the_serialized_summary_has_no_early_stop_fields_without_early_stopping() {
        let mut ws = Box::new(iris::workspace());
        let (buffers, train, validation) = ws.parts();
        let mut seen = Seen::default();
        let summary = run(&iris::EXPERIMENT, buffers, train, validation, &mut seen).unwrap();
        assert!(seen.outcome.is_none());
        assert_eq!(
            (summary.stopped_epoch, summary.restored_epoch),
            (None, None)
        );
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&summary).unwrap();
            assert!(!json.contains("stopped_epoch") && !json.contains("restored_epoch"));
        }
    }
}
