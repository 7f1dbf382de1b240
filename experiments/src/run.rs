//! The one runner: split → fit the standardiser → train epoch by epoch → summary.
//!
//! The firmware and the host both call [`run`] with the same [`Experiment`]; only the memory
//! (a zeroed `static` or `Vec`s) and what the [`Observer`] does with each record differ.

use tinytrain::data::{split_in_place, Dataset, RowIndex, Transform, Transformed};
use tinytrain::early_stop::EarlyStopping;
use tinytrain::metrics::Welford;
use tinytrain::network::{Buffers, StaticMemory};
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::record::EpochRecord;
use tinytrain::spec::ShapeError;
use tinytrain::train::{DivergenceStats, Runtime, Settings, Trainer};

use crate::driver::{Driver, Observer};
use crate::experiment::Experiment;

/// Most features an experiment may have (the standardiser lives on the stack, sized for this).
pub const MAX_FEATURES: usize = 64;
/// Most classes an experiment may have (the trainer's confusion matrices are sized for this).
pub const MAX_CLASSES: usize = 10;
/// Accumulators of the standardiser's fit: up to this many features per pass over the training
/// rows (64 features: 4 passes), so that the fit's stack frame stays small (16 bytes each).
pub const FIT_ACCUMULATORS: usize = 16;
/// Most regression targets per row an experiment may have (its target standardiser is sized for
/// this).
pub const MAX_TARGETS: usize = 8;

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
    /// An autoencoder stream's anomaly detection ([`crate::stream`]); left out of the serde form
    /// when `None` (every other run).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub anomalies: Option<crate::stream::Anomalies>,
}

#[cfg(feature = "serde")]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A fault injected into the data a run trains on, after the standardiser was fitted (so only the
/// training and validation passes see it): how the divergence guard is tested on a device. Any
/// `Copy` [`Transform`] of the loaded (standardised) samples is one.
pub trait Fault: Transform + Copy {}

impl<T: Transform + Copy> Fault for T {}

/// No fault: what [`run`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoFault;

impl Transform for NoFault {}

/// Row `row`'s first feature becomes NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NanInput {
    /// The data row (0-based).
    pub row: u32,
}

impl Transform for NanInput {
    fn features(&self, row: usize, features: &mut [f32]) {
        if row == self.row as usize {
            if let Some(x) = features.first_mut() {
                *x = f32::NAN;
            }
        }
    }
}

/// Why a run could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError {
    /// The network, its buffers or its head do not fit together.
    Shape(ShapeError),
    /// The index buffer is shorter than the dataset (or the dataset has more rows than its index
    /// type can index).
    IndicesTooShort,
    /// More features than [`MAX_FEATURES`] or classes than [`MAX_CLASSES`].
    TooLarge,
    /// The experiment restores its best weights and the snapshot buffer is shorter than
    /// [`Experiment::snapshot_len`].
    SnapshotTooShort,
    /// [`Experiment::statistics`] are not one per feature.
    StatisticsMismatch,
    /// A stream ([`crate::stream`]) standardises with fixed statistics, and the experiment has
    /// none.
    NoStatistics,
}

impl From<ShapeError> for RunError {
    fn from(e: ShapeError) -> Self {
        RunError::Shape(e)
    }
}

impl RunError {
    /// What went wrong, for every error but [`RunError::Shape`] (which says it itself).
    fn message(self) -> &'static str {
        match self {
            RunError::Shape(_) => "the network does not fit its buffers",
            RunError::IndicesTooShort => "the index buffer is shorter than the dataset",
            RunError::TooLarge => "the dataset has too many features or classes",
            RunError::SnapshotTooShort => "the early-stopping snapshot buffer is too short",
            RunError::StatisticsMismatch => {
                "the experiment's fixed standardisation statistics are not one per feature"
            }
            RunError::NoStatistics => {
                "a stream standardises its samples with fixed statistics, and the experiment has none"
            }
        }
    }
}

impl core::fmt::Display for RunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RunError::Shape(e) => e.fmt(f),
            _ => f.write_str(self.message()),
        }
    }
}

/// The same words over defmt (the firmware logs them without `core::fmt`).
#[cfg(feature = "defmt")]
impl defmt::Format for RunError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            RunError::Shape(e) => e.format(f),
            _ => defmt::write!(f, "{=str}", self.message()),
        }
    }
}

/// Runs `experiment` over `buffers`, the index buffer `rows` (at least
/// [`Experiment::train_capacity`] long: the split's training then validation indices,
/// [`split_in_place`]) and the best-weights `snapshot` early stopping needs (at
/// least [`Experiment::snapshot_len`] floats; may be empty for an experiment without early stopping
/// or without restoring), with `fault` injected into the data after the standardiser is fitted
/// ([`NoFault`]: none), telling `observer` about every epoch. The epochs run in [`Driver::run`]: a
/// run stops early when the experiment's
/// [`DivergencePolicy`](tinytrain::train::DivergencePolicy) or its early stopping says so, and ends
/// with early stopping's best weights restored into `buffers.params`.
///
/// `T` fixes the trainer's configuration and head at compile time ([`Settings`]; the host's
/// [`Runtime`] reads them from `experiment`): a firmware of one experiment passes its module's
/// `Fixed` (e.g. [`crate::digits::Fixed`]) and carries no code for any other optimiser, schedule or
/// head. [`Workspace::run`] passes a workspace's buffers.
pub fn run<T: Settings, I: RowIndex, F: Fault, O: Observer>(
    experiment: &Experiment,
    fault: F,
    buffers: Buffers<'_>,
    rows: &mut [I],
    snapshot: &mut [f32],
    observer: &mut O,
) -> Result<Summary, RunError> {
    let data = experiment.data;
    let (features, classes) = (data.features(), experiment.classes());
    if features > MAX_FEATURES || classes > MAX_CLASSES || data.target_width() > MAX_TARGETS {
        return Err(RunError::TooLarge);
    }
    let (n_train, n_val) = split_in_place(
        &data,
        classes,
        experiment.validation_fraction,
        experiment.seed,
        rows,
    )
    .ok_or(RunError::IndicesTooShort)?;
    let Some((train, validation)) = rows.split_at_mut_checked(n_train) else {
        return Err(RunError::IndicesTooShort);
    };
    let validation = validation.get(..n_val).unwrap_or(&[]);

    let (mut standardizer, mut target) = standardizers(experiment)?;
    let regression = classes == 0 && experiment.standardize;
    fit(
        experiment,
        train,
        &mut standardizer,
        regression.then_some(&mut target),
    );
    let mut config = experiment.config;
    if regression {
        config.target_scale = target_scale(&target);
    }
    let standardized = Standardized::new(
        &data,
        experiment.standardize.then_some(&standardizer),
        regression.then_some(&target),
    );
    let inputs = Transformed {
        data: &standardized,
        transform: fault,
    };

    let mut trainer = trainer::<T>(experiment, buffers, config)?;
    let params = trainer.net().model_len();
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
        anomalies: None,
    })
}

/// Fits `features` and (a regression's) `target`, the experiment's [`standardizers`], on the
/// `train` rows unless their statistics are fixed. The fit's accumulators ([`FIT_ACCUMULATORS`]
/// of them) live in this function's stack frame only (not inlined, so not in the run's), which a
/// 16 KB part needs.
#[inline(never)]
fn fit<I: RowIndex>(
    experiment: &Experiment,
    train: &[I],
    features: &mut Standardizer<MAX_FEATURES, 0>,
    target: Option<&mut Standardizer<MAX_TARGETS, 0>>,
) {
    let data = experiment.data;
    // Statistics of the training rows only: validation must not leak into the inputs.
    // (Or a shipped model's, fixed in advance.)
    if experiment.standardize {
        let mut accumulators = [Welford::new(); FIT_ACCUMULATORS];
        let mut scratch = [0.0; MAX_FEATURES];
        let width = data.features().min(MAX_FEATURES);
        features.fit_with(&mut accumulators, &data, train, &mut scratch[..width]);
    }
    if let Some(target) = target.filter(|t| !t.is_frozen()) {
        let mut standardizer = Standardizer::<MAX_TARGETS>::new(data.target_width());
        let mut y = [0.0; MAX_TARGETS];
        let y = y.get_mut(..data.target_width()).unwrap_or(&mut []);
        for &row in train {
            data.load_target(row.row(), y);
            standardizer.update(y);
        }
        standardizer.freeze();
        *target = standardizer.frozen();
    }
}

/// The feature and target standardisers of `experiment`: frozen at its
/// [`Experiment::statistics`] (a shipped model's), else the identity, to be fitted on the training
/// rows ([`fit`]). A regression target is standardised too (as `tinytrain train --normalize
/// standard` does), and the metrics map the outputs back to its units.
pub(crate) fn standardizers(
    experiment: &Experiment,
) -> Result<(Standardizer<MAX_FEATURES, 0>, Standardizer<MAX_TARGETS, 0>), RunError> {
    let (fixed, features) = (experiment.statistics, experiment.data.features());
    let standardizer = match fixed {
        Some(stats) if stats.mean.len() == features && stats.scale.len() == features => {
            Standardizer::from_stats(stats.mean, stats.scale)
        }
        Some(_) => return Err(RunError::StatisticsMismatch),
        None => Standardizer::new(features),
    };
    let target = match fixed.and_then(|stats| stats.target) {
        Some((mean, scale)) => Standardizer::from_stats(&[mean], &[scale]),
        None => Standardizer::new(experiment.data.target_width()),
    };
    Ok((standardizer, target))
}

/// The core's [`TrainConfig::target_scale`](tinytrain::train::TrainConfig::target_scale) for a
/// regression's fitted `target` standardiser: one target's errors are reported in its units;
/// several targets' in standard deviations (their units differ), as the host does.
pub(crate) fn target_scale(target: &Standardizer<MAX_TARGETS, 0>) -> (f32, f32) {
    match (target.mean(), target.scale()) {
        ([mean], [scale]) => (*mean, 1.0 / scale),
        _ => (0.0, 1.0),
    }
}

/// The experiment's trainer over `buffers` with `config` (the experiment's, its target scale set),
/// starting from the experiment's model if it has one: `--init` weights of a generated experiment,
/// or built in with `TINYTRAIN_INIT_WEIGHTS` (see `crate::init`); the shapes were checked at
/// compile time. The model: parameters, then (a generated experiment with batch norm) the
/// statistics.
pub(crate) fn trainer<'a, T: Settings>(
    experiment: &'a Experiment,
    buffers: Buffers<'a>,
    config: tinytrain::train::TrainConfig,
) -> Result<Trainer<'a, MAX_CLASSES, T>, RunError> {
    // A shipped model's frozen layers are read where the model is (flash), not copied into RAM.
    let front = experiment.front();
    let mut trainer = Trainer::new(
        experiment.layers,
        Buffers { front, ..buffers },
        config,
        experiment.head,
        experiment.seed,
    )?;
    if let Some(model) = experiment
        .init
        .or_else(|| crate::init::params_for(experiment.name))
    {
        trainer
            .net_mut()
            .model_mut()
            .into_iter()
            .flatten()
            .zip(model.get(front.len()..).unwrap_or(&[]))
            .for_each(|(p, &v)| *p = v);
    }
    Ok(trainer)
}

/// The exactly sized memory of an experiment's run, declared in the experiment's module from its
/// network module (`network!`) and its `EXPERIMENT`: `STATE` (optimiser floats), `TRAIN_CAPACITY`
/// (the index buffer: one index per row), `SNAPSHOT` (early stopping's best weights, 0 without),
/// the types `Memory`, `Workspace` and `Fixed` (the experiment's [`Settings`]), and `workspace()`, a zeroed one (`const`, so that it can be a
/// zeroed `static` in `.bss`, or a `Box` on a host).
macro_rules! workspace {
    ($net:ident) => {
        /// Parameters that train: all but the frozen layers' (`TrainConfig::freeze`).
        pub const TRAINABLE: usize = $net::PARAMS
            - tinytrain::spec::frozen_params(EXPERIMENT.layers, EXPERIMENT.config.freeze as usize);
        /// Optimiser state floats (of the trainable parameters).
        pub const STATE: usize =
            tinytrain::optim::optimizer_state_len(EXPERIMENT.config.optimizer, TRAINABLE);
        /// Length of the index buffer (the split's training then validation indices).
        pub const TRAIN_CAPACITY: usize = EXPERIMENT.train_capacity();
        /// `true` when `u16` can index every row.
        const SMALL_INDEX: bool = TRAIN_CAPACITY <= <u16 as tinytrain::data::RowIndex>::MAX_ROWS;
        /// The row index type: `u16` up to 65 536 rows, so the index buffers take half the RAM.
        pub type Index =
            <tinytrain::data::Select<SMALL_INDEX> as tinytrain::data::Narrowest>::Index;
        /// Parameters held in RAM: all but those read in place from the shipped model
        /// (`Experiment::in_place_params`).
        pub const HELD: usize = $net::PARAMS - EXPERIMENT.in_place_params();
        /// Floats of the best-weights snapshot.
        /// (The model in RAM: parameters and batch-norm statistics, `Mlp::model_len`.)
        pub const SNAPSHOT: usize = EXPERIMENT.snapshot_len(HELD + $net::PLAN.stats);
        /// Gradient floats: none when every step is fused plain SGD (`trains_without_gradients`),
        /// else one per trainable parameter.
        pub const GRADS: usize = if EXPERIMENT.config.trains_without_gradients() {
            0
        } else {
            TRAINABLE
        };
        /// The network's buffers, exactly sized.
        pub type Memory = $net::HeldMemoryOf<HELD, GRADS, STATE>;
        /// Everything a run needs, exactly sized.
        pub type Workspace = $crate::run::Workspace<Memory, TRAIN_CAPACITY, SNAPSHOT, Index>;
        /// A zeroed workspace.
        pub const fn workspace() -> Workspace {
            Workspace::new(Memory::new())
        }
        /// This experiment's configuration, head and layers as constants, for
        /// [`Workspace::run_fixed`]($crate::run::Workspace::run_fixed): a firmware then carries
        /// no code for other optimisers, schedules, heads, activations or layer shapes.
        #[derive(Debug)]
        pub enum Fixed {}
        impl tinytrain::train::Settings for Fixed {
            const CONFIG: Option<tinytrain::train::TrainConfig> = Some(EXPERIMENT.config);
            const HEAD: Option<tinytrain::loss::Head> = Some(EXPERIMENT.head);
            const LAYERS: Option<&'static [tinytrain::spec::Layer]> = Some(EXPERIMENT.layers);
        }
    };
}
pub(crate) use workspace;

/// The network's memory, whatever its sizes ([`StaticMemory`] from [`tinytrain::network!`]).
pub trait NetworkMemory {
    /// Borrows every buffer.
    fn buffers(&mut self) -> Buffers<'_>;
}

impl<
        const P: usize,
        const G: usize,
        const A: usize,
        const D: usize,
        const M: usize,
        const N: usize,
        const S: usize,
    > NetworkMemory for StaticMemory<P, G, A, D, M, N, S>
{
    fn buffers(&mut self) -> Buffers<'_> {
        StaticMemory::buffers(self)
    }
}

/// Everything [`run`] needs, as arrays: the network's memory, the index buffer, and the
/// best-weights snapshot of early stopping (`S` floats: 0, costing nothing, for an experiment
/// without it).
///
/// All zeros when new, so a `static` of it lands in `.bss` and costs no flash.
#[derive(Clone, Debug)]
pub struct Workspace<M, const N: usize, const S: usize = 0, I = u32> {
    /// The network's buffers.
    pub memory: M,
    /// The split's training then validation indices, one per row of the dataset
    /// ([`split_in_place`]).
    pub rows: [I; N],
    /// Early stopping's snapshot of the best parameters.
    pub snapshot: [f32; S],
}

impl<M, const N: usize, const S: usize, I: RowIndex> Workspace<M, N, S, I> {
    /// Wraps `memory` with a zeroed index buffer and snapshot.
    pub const fn new(memory: M) -> Self {
        Self {
            memory,
            rows: [I::ZERO; N],
            snapshot: [0.0; S],
        }
    }
}

impl<M: NetworkMemory, const N: usize, const S: usize, I: RowIndex> Workspace<M, N, S, I> {
    /// [`run()`] over this workspace's buffers.
    ///
    /// ```
    /// use tinytrain_experiments::{iris, NoFault};
    /// let mut ws = Box::new(iris::workspace());
    /// let mut losses = Vec::new();
    /// let summary = ws.run(&iris::EXPERIMENT, NoFault, &mut |r: &_| losses.push(*r)).unwrap();
    /// assert_eq!(losses.len(), 20);
    /// assert!(summary.best_val_acc.unwrap() > 0.8);
    /// ```
    pub fn run(
        &mut self,
        experiment: &Experiment,
        fault: impl Fault,
        observer: &mut impl Observer,
    ) -> Result<Summary, RunError> {
        self.run_fixed::<Runtime>(experiment, fault, observer)
    }

    /// [`Workspace::run`] with the trainer's settings fixed by `T` (see [`run()`]).
    pub fn run_fixed<T: Settings>(
        &mut self,
        experiment: &Experiment,
        fault: impl Fault,
        observer: &mut impl Observer,
    ) -> Result<Summary, RunError> {
        run::<T, I, _, _>(
            experiment,
            fault,
            self.memory.buffers(),
            &mut self.rows,
            &mut self.snapshot,
            observer,
        )
    }

    /// [`Workspace::run`], keeping every record, event and early stopping's outcome.
    #[cfg(any(test, feature = "host"))]
    pub fn record(
        &mut self,
        experiment: &Experiment,
        fault: impl Fault,
    ) -> Result<(Summary, crate::driver::Recorder), RunError> {
        let mut recorder = crate::driver::Recorder::default();
        let summary = self.run(experiment, fault, &mut recorder)?;
        Ok((summary, recorder))
    }

    /// The trained parameters.
    pub fn params(&mut self) -> &[f32] {
        self.memory.buffers().params
    }

    /// The trained model: the parameters and the batch-norm statistics (running means and
    /// variances, then scratch), as `Mlp::model`.
    pub fn model(&mut self) -> [&[f32]; 2] {
        let buffers = self.memory.buffers();
        [buffers.params, buffers.stats]
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
        let (summary, seen) = ws
            .record(&iris::EXPERIMENT, NanInput { row: NAN_ROW })
            .unwrap();
        assert_eq!(summary.skipped_samples, iris::EXPERIMENT.epochs);
        assert_eq!(summary.skipped_steps, 0);
        assert!(seen
            .records
            .iter()
            .all(|r| r.train_loss.is_finite() && r.val_loss.is_some_and(f32::is_finite)));
        assert!(summary.best_val_acc.unwrap() > 0.8);
        assert!(ws.params().iter().all(|p| p.is_finite()));
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

    #[test]
    fn iris_es_stops_early_and_restores_the_best_epoch() {
        let mut ws = Box::new(iris_es::workspace());
        let (summary, seen) = ws.record(&iris_es::EXPERIMENT, NoFault).unwrap();
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
        let (_, plain) = ws.record(&iris::EXPERIMENT, NoFault).unwrap();
        assert_eq!(plain.records[..], seen.records[..20]);
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
        let (summary, seen) = ws.record(&iris::EXPERIMENT, NoFault).unwrap();
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
