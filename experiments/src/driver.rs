//! The epoch driver: the one place that runs epochs, for the firmware, `tinytrain train`,
//! `train --experiment` and the tests alike.
//!
//! Each epoch: [`Trainer::run_epoch`], then the record goes to the [`Observer`], to the core's divergence
//! guard, ReduceLROnPlateau and curve analyser (events), to the best-epoch tracker, to the observer's end-of-epoch hook
//! (a host writes its checkpoint there), and to early stopping, which may end the run. After the last
//! epoch early stopping restores the best weights. What differs between callers is only what their
//! observer does with what it is told.

use core::convert::Infallible;

use tinytrain::best::BestEpoch;
use tinytrain::data::{Dataset, RowIndex};
use tinytrain::diagnose::{Analyzer, DiagnoseConfig, Event};
use tinytrain::early_stop::{self, Decision, EarlyStopping};
use tinytrain::monitor::Monitor;
use tinytrain::record::EpochRecord;
use tinytrain::train::{DivergenceStats, Settings, Trainer};

use crate::run::Rows;

/// What the caller sees of a run, in order. `E` is what an observer may fail with (a host's file
/// error); a firmware's observer cannot fail (`Infallible`).
///
/// A closure `FnMut(&EpochRecord)` is an observer that only looks at the epoch records.
pub trait Observer<E = Infallible> {
    /// After the split and the standardiser fit, before the first epoch (the experiment runner
    /// calls it; the driver does not).
    fn started(&mut self, _rows: &Rows) -> Result<(), E> {
        Ok(())
    }
    /// During epoch `epoch` (1-based): `done` training samples so far (every 64, and at the end of
    /// the training pass, before validation).
    fn progress(&mut self, _epoch: u32, _done: usize) {}
    /// After every epoch.
    fn epoch(&mut self, record: &EpochRecord) -> Result<(), E>;
    /// After [`Observer::epoch`], once for each event of that epoch: the core's divergence guard
    /// first, then ReduceLROnPlateau's reduction, then the curve analyser ([`Analyzer`], default
    /// thresholds); `detected` is that record's epoch.
    fn event(&mut self, _detected: u32, _event: &Event) -> Result<(), E> {
        Ok(())
    }
    /// After the epoch's events, before early stopping looks at it: the trainer's state at an epoch
    /// boundary, with the training order (what a checkpoint holds).
    fn epoch_end<const C: usize, T: Settings, I: RowIndex>(
        &mut self,
        _trainer: &Trainer<'_, C, T>,
        _order: &[I],
    ) -> Result<(), E> {
        Ok(())
    }
    /// After the last epoch of a run with early stopping (whether or not it stopped), once the best
    /// weights are restored.
    fn early_stop(&mut self, _outcome: &early_stop::Outcome) -> Result<(), E> {
        Ok(())
    }
}

impl<F: FnMut(&EpochRecord), E> Observer<E> for F {
    fn epoch(&mut self, record: &EpochRecord) -> Result<(), E> {
        self(record);
        Ok(())
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// The last epoch's record (`None`: no epoch ran).
    pub last: Option<EpochRecord>,
    /// The best epoch's record ([`BestEpoch`] by validation accuracy; `None`: no finite value).
    pub best: Option<EpochRecord>,
    /// What early stopping did (`None`: not configured).
    pub early_stop: Option<early_stop::Outcome>,
    /// What the divergence guard skipped over the run.
    pub divergence: DivergenceStats,
}

/// Runs epochs, reads their records, and ends the run. Fixed memory: the analyser and the
/// best-epoch tracker keep a handful of numbers, not the curve.
#[derive(Debug)]
pub struct Driver<'s> {
    analyzer: Analyzer,
    stopper: Option<EarlyStopping<'s>>,
    best: BestEpoch,
    /// The guard reported divergence: the analyser's non-finite divergence is the same news.
    divergence_reported: bool,
}

impl<'s> Driver<'s> {
    /// A driver for a run over `classes` classes (0: regression), with early stopping if given.
    pub fn new(classes: usize, stopper: Option<EarlyStopping<'s>>) -> Self {
        Self {
            analyzer: Analyzer::new(DiagnoseConfig::default(), classes as u32),
            stopper,
            best: BestEpoch::new(Monitor::ValAcc),
            divergence_reported: false,
        }
    }

    /// A record of an earlier part of the run (a resumed run's epochs before its checkpoint): the
    /// analyser and the best-epoch tracker read it as if it had just been trained, and `event` gets
    /// what the analyser notices (the observer already had those epochs).
    pub fn replay(&mut self, record: &EpochRecord, mut event: impl FnMut(u32, Event)) {
        self.best.observe(record);
        for noticed in self.analyzer.observe(record) {
            self.divergence_reported |= matches!(
                noticed,
                Event::Divergence {
                    non_finite: true,
                    ..
                }
            );
            event(record.epoch, noticed);
        }
    }

    /// Trains epochs until the trainer has completed `epochs` of them, its divergence policy stopped
    /// it, or early stopping did; then restores the best weights (early stopping with
    /// `restore_best_weights`). Stops at the first error of the observer.
    pub fn run<const C: usize, T: Settings, E, I: RowIndex>(
        &mut self,
        trainer: &mut Trainer<'_, C, T>,
        data: &impl Dataset,
        order: &mut [I],
        validation: &[I],
        epochs: u32,
        observer: &mut impl Observer<E>,
    ) -> Result<Outcome, E> {
        let mut last = None;
        while trainer.epoch() < epochs && !trainer.stopped() {
            let epoch = trainer.epoch() + 1;
            let record = trainer.run_epoch(data, order, validation, |done| {
                observer.progress(epoch, done)
            });
            last = Some(record);
            observer.epoch(&record)?;
            self.best.observe(&record);
            // The guard saw the non-finite value itself; the analyser only sees its effect on the
            // curve, so its non-finite divergence after the guard's is not news.
            if let Some(event) = trainer.divergence_event() {
                self.divergence_reported = true;
                observer.event(record.epoch, &event)?;
            }
            if let Some(event) = trainer.lr_event() {
                observer.event(record.epoch, &event)?;
            }
            for event in self.analyzer.observe(&record) {
                let non_finite = matches!(
                    event,
                    Event::Divergence {
                        non_finite: true,
                        ..
                    }
                );
                if non_finite && self.divergence_reported {
                    continue;
                }
                self.divergence_reported |= non_finite;
                observer.event(record.epoch, &event)?;
            }
            observer.epoch_end(trainer, order)?;
            if let Some(stopper) = &mut self.stopper {
                if stopper.observe(&record, trainer.net().model()) == Decision::Stop {
                    break;
                }
            }
        }
        // Restoring happens whether or not the run stopped early, so the run ends with the best
        // epoch's weights.
        let early_stop = match &self.stopper {
            Some(stopper) => {
                let outcome = stopper.finish(trainer.net_mut().model_mut());
                observer.early_stop(&outcome)?;
                Some(outcome)
            }
            None => None,
        };
        Ok(Outcome {
            last,
            best: self.best.record().copied(),
            early_stop,
            divergence: trainer.divergence_stats(),
        })
    }
}

/// An observer that keeps everything it is told, in memory: for tests, and hosts that want the
/// whole curve.
#[cfg(any(test, feature = "host"))]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorder {
    /// Every epoch's record.
    pub records: alloc::vec::Vec<EpochRecord>,
    /// Every event, with the epoch that detected it.
    pub events: alloc::vec::Vec<(u32, Event)>,
    /// What early stopping did.
    pub outcome: Option<early_stop::Outcome>,
}

#[cfg(any(test, feature = "host"))]
impl Observer for Recorder {
    fn epoch(&mut self, record: &EpochRecord) -> Result<(), Infallible> {
        self.records.push(*record);
        Ok(())
    }

    fn event(&mut self, detected: u32, event: &Event) -> Result<(), Infallible> {
        self.events.push((detected, *event));
        Ok(())
    }

    fn early_stop(&mut self, outcome: &early_stop::Outcome) -> Result<(), Infallible> {
        self.outcome = Some(*outcome);
        Ok(())
    }
}
