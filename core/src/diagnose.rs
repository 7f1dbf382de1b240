//! Curve diagnosis: a streaming analyser that reads one [`EpochRecord`] at a time and says when a run
//! starts to overfit, underfits, stalls, diverges or grows confidently wrong — in fixed memory (a few
//! numbers, no history), so a microcontroller can run it next to its training loop.
//!
//! The rules, with `e` the epoch of the record just observed and the thresholds of
//! [`DiagnoseConfig`] (defaults in brackets):
//!
//! * **Divergence** — a non-finite `train_loss` or `val_loss`, or `train_loss >
//!   divergence_factor [10] × the lowest train_loss so far` (an explosion). Reported at `e`; the
//!   analyser reports nothing after it (every later number is garbage).
//! * **Overfitting** — `val_loss` rose (strictly) from each epoch to the next `overfit_patience [3]`
//!   times in a row, ending more than `overfit_min_rise [2 %]` above its lowest value so far
//!   (`val_loss[e] > (1 + r) · min`, so that wiggles of a flat curve do not count), while the
//!   training loss fell over the same window (`train_loss[e] < train_loss[e − k]`, so a noisy step
//!   in between does not hide it). The onset reported is the epoch of the lowest `val_loss` so far.
//! * **Confident mistakes** — the same `k` consecutive rises of `val_loss` (and the same minimum
//!   rise), with `val_acc` staying
//!   within `flat_acc_tolerance [0.01]` (max − min over the window `e − k ..= e`): the predictions
//!   that were right stay right, the wrong ones grow more confident. Starts at `e − k`, the last epoch
//!   before the rise.
//! * **Underfitting** — at the first epoch `e ≥ warmup [5]` where the training accuracy is at most
//!   `1/classes + chance_margin [0.05]` (classification) or `train_loss ≥ underfit_loss_ratio [0.9]
//!   × the first epoch's train_loss` (the loss has not fallen by 10 %). Reported at `e`: an
//!   underfit has no onset.
//! * **Plateau** — the `plateau_monitor [train_loss]` has not improved by more than
//!   `plateau_min_delta [1e-4]` (see [`Direction::improves`]) for `plateau_patience [5]` epochs.
//!   Starts at the first epoch without an improvement. The default watches the training loss, so a
//!   plateau means the optimiser is stuck (a stalled validation loss is what overfitting and early
//!   stopping look at).
//!
//! Each event is reported once: overfitting and confident mistakes again only after `val_loss` has
//! reached a new minimum, a plateau only after the monitored quantity improved again, underfitting
//! and divergence once per run.
//!
//! ```
//! use tinytrain::diagnose::{Analyzer, DiagnoseConfig, Event};
//! use tinytrain::record::EpochRecord;
//! let mut analyzer = Analyzer::new(DiagnoseConfig::default(), 10);
//! let curve = [(1.0, 0.9), (0.8, 0.7), (0.6, 0.6), (0.5, 0.65), (0.4, 0.7), (0.3, 0.8)];
//! let mut events = Vec::new();
//! for (i, &(train, val)) in curve.iter().enumerate() {
//!     let record = EpochRecord { epoch: i as u32 + 1, train_loss: train, val_loss: Some(val),
//!                                train_acc: Some(0.5), val_acc: Some(0.5 - 0.05 * i as f32), ..Default::default() };
//!     events.extend(analyzer.observe(&record).map(|event| (record.epoch, event)));
//! }
//! // Noticed at epoch 6, after three rises; the onset is the minimum at epoch 3.
//! assert_eq!(events, [(6, Event::Overfitting { epoch: 3 })]);
//! ```

use crate::monitor::{Direction, Monitor};
use crate::record::EpochRecord;

/// Thresholds of the [`Analyzer`]; see the [module documentation](self) for the rules.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DiagnoseConfig {
    /// Consecutive rises of the validation loss that make overfitting (and confident mistakes).
    pub overfit_patience: u32,
    /// How far above its minimum (relative) the validation loss must have risen: 0.02 is 2 %.
    pub overfit_min_rise: f32,
    /// Largest spread of validation accuracy over those epochs that still counts as flat.
    pub flat_acc_tolerance: f32,
    /// Epochs before underfitting is judged.
    pub warmup: u32,
    /// Training accuracy at most `1/classes + chance_margin` is "near chance".
    pub chance_margin: f32,
    /// A training loss still at or above this share of the first epoch's is underfitting.
    pub underfit_loss_ratio: f32,
    /// The quantity whose stalling is a plateau.
    pub plateau_monitor: Monitor,
    /// Epochs without improvement that make a plateau.
    pub plateau_patience: u32,
    /// An improvement must exceed this (absolute, in the quantity's units).
    pub plateau_min_delta: f32,
    /// A training loss above this factor times its lowest value so far is an explosion.
    pub divergence_factor: f32,
}

impl Default for DiagnoseConfig {
    /// `overfit_patience` 3, `overfit_min_rise` 0.02, `flat_acc_tolerance` 0.01, `warmup` 5, `chance_margin` 0.05,
    /// `underfit_loss_ratio` 0.9, plateau of `train_loss` over 5 epochs by `min_delta` 1e-4,
    /// `divergence_factor` 10.
    fn default() -> Self {
        Self {
            overfit_patience: 3,
            overfit_min_rise: 0.02,
            flat_acc_tolerance: 0.01,
            warmup: 5,
            chance_margin: 0.05,
            underfit_loss_ratio: 0.9,
            plateau_monitor: Monitor::TrainLoss,
            plateau_patience: 5,
            plateau_min_delta: 1e-4,
            divergence_factor: 10.0,
        }
    }
}

/// Something the analyser noticed, with the epoch where it starts (1-based, like
/// [`EpochRecord::epoch`]). The epoch it was *noticed* is that of the record that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// Validation loss rising while the training loss falls; `epoch`: the validation-loss minimum.
    Overfitting {
        /// Onset: the epoch of the lowest validation loss.
        epoch: u32,
    },
    /// Training accuracy near chance or a training loss that hardly fell after the warm-up.
    Underfitting {
        /// The epoch it was judged.
        epoch: u32,
    },
    /// The monitored quantity stopped improving.
    Plateau {
        /// The first epoch without an improvement.
        epoch: u32,
    },
    /// A non-finite loss, or an exploding training loss.
    Divergence {
        /// The epoch of the bad loss.
        epoch: u32,
        /// `true` for NaN or ±∞, `false` for an explosion.
        non_finite: bool,
    },
    /// Validation accuracy flat while the validation loss rises.
    ConfidentMistakes {
        /// The last epoch before the validation loss started rising.
        epoch: u32,
    },
    /// ReduceLROnPlateau reduced the learning rate after this epoch (reported by the trainer, not
    /// the analyser; the next record's `lr` is the new rate).
    LrReduced {
        /// The epoch whose record triggered the reduction.
        epoch: u32,
    },
}

impl Event {
    /// The epoch where the event starts.
    pub const fn epoch(&self) -> u32 {
        match *self {
            Event::Overfitting { epoch }
            | Event::Underfitting { epoch }
            | Event::Plateau { epoch }
            | Event::Divergence { epoch, .. }
            | Event::ConfidentMistakes { epoch }
            | Event::LrReduced { epoch } => epoch,
        }
    }

    /// A short name, e.g. `"overfitting"`, `"confident_mistakes"`.
    pub const fn name(&self) -> &'static str {
        match self {
            Event::Overfitting { .. } => "overfitting",
            Event::Underfitting { .. } => "underfitting",
            Event::Plateau { .. } => "plateau",
            Event::Divergence { .. } => "divergence",
            Event::ConfidentMistakes { .. } => "confident_mistakes",
            Event::LrReduced { .. } => "lr_reduced",
        }
    }

    /// The event called `name` ([`Event::name`]) starting at `epoch`; `non_finite` is needed for a
    /// divergence and refused for anything else, so a damaged report cannot pass for another event.
    ///
    /// ```
    /// use tinytrain::diagnose::Event;
    /// let e = Event::Divergence { epoch: 4, non_finite: true };
    /// assert_eq!(Event::from_name(e.name(), 4, Some(true)), Some(e));
    /// assert_eq!(Event::from_name("plateau", 4, Some(true)), None);
    /// ```
    pub fn from_name(name: &str, epoch: u32, non_finite: Option<bool>) -> Option<Event> {
        let event = match (name, non_finite) {
            ("overfitting", None) => Event::Overfitting { epoch },
            ("underfitting", None) => Event::Underfitting { epoch },
            ("plateau", None) => Event::Plateau { epoch },
            ("confident_mistakes", None) => Event::ConfidentMistakes { epoch },
            ("lr_reduced", None) => Event::LrReduced { epoch },
            ("divergence", Some(non_finite)) => Event::Divergence { epoch, non_finite },
            _ => return None,
        };
        Some(event)
    }

    /// A divergence's `non_finite` flag (`None` for every other event): the one extra field of an
    /// event's report.
    pub const fn non_finite(&self) -> Option<bool> {
        match *self {
            Event::Divergence { non_finite, .. } => Some(non_finite),
            _ => None,
        }
    }
}

impl core::fmt::Display for Event {
    /// One sentence, e.g. `overfitting since epoch 9: validation loss rising while training loss falls`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Event::Overfitting { epoch } => write!(
                f,
                "overfitting since epoch {epoch}: validation loss rising while training loss falls"
            ),
            Event::Underfitting { epoch } => write!(
                f,
                "underfitting at epoch {epoch}: training accuracy near chance or training loss hardly falling"
            ),
            Event::Plateau { epoch } => {
                write!(f, "plateau since epoch {epoch}: no improvement")
            }
            Event::Divergence {
                epoch,
                non_finite: true,
            } => write!(f, "divergence at epoch {epoch}: a loss is NaN or infinite"),
            Event::Divergence { epoch, .. } => {
                write!(f, "divergence at epoch {epoch}: the training loss exploded")
            }
            Event::ConfidentMistakes { epoch } => write!(
                f,
                "confident mistakes since epoch {epoch}: validation accuracy flat while validation loss rises"
            ),
            Event::LrReduced { epoch } => write!(
                f,
                "ReduceLROnPlateau reduced the learning rate after epoch {epoch}: the monitored quantity stopped improving (the next epoch's lr is the new rate)"
            ),
        }
    }
}

/// Most events one record can produce.
const MAX_EVENTS: usize = 4;

/// The events of one observed record, in a fixed array (an iterator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    items: [Option<Event>; MAX_EVENTS],
    next: usize,
}

impl Events {
    fn push(&mut self, event: Event) {
        if let Some(slot) = self.items.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(event);
        }
    }
}

impl Iterator for Events {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let event = self.items.get(self.next).copied().flatten();
        self.next += 1;
        event
    }
}

/// The streaming curve analyser: feed it every epoch's record with [`Analyzer::observe`].
#[derive(Clone, Copy, Debug)]
pub struct Analyzer {
    config: DiagnoseConfig,
    classes: u32,
    diverged: bool,
    first_train_loss: Option<f32>,
    lowest_train_loss: f32,
    underfit_reported: bool,
    // Validation loss: its minimum, the last value, and the current run of rises.
    val_min: f32,
    val_min_epoch: u32,
    previous: Option<Previous>,
    rises: u32,
    run_start: Previous,
    run_acc_min: f32,
    run_acc_max: f32,
    overfit_reported: bool,
    confident_reported: bool,
    // Plateau of the monitored quantity.
    plateau_best: f32,
    plateau_best_epoch: u32,
    plateau_reported: bool,
}

/// What the rules need of an earlier record.
#[derive(Clone, Copy, Debug, Default)]
struct Previous {
    epoch: u32,
    train_loss: f32,
    val_loss: f32,
    val_acc: Option<f32>,
}

impl Analyzer {
    /// An analyser for a task with `classes` classes (0 for regression: no chance-level rule).
    pub fn new(config: DiagnoseConfig, classes: u32) -> Self {
        Self {
            config,
            classes,
            diverged: false,
            first_train_loss: None,
            lowest_train_loss: f32::NAN,
            underfit_reported: false,
            val_min: f32::NAN,
            val_min_epoch: 0,
            previous: None,
            rises: 0,
            run_start: Previous::default(),
            run_acc_min: f32::NAN,
            run_acc_max: f32::NAN,
            overfit_reported: false,
            confident_reported: false,
            plateau_best: f32::NAN,
            plateau_best_epoch: 0,
            plateau_reported: false,
        }
    }

    /// The thresholds.
    pub fn config(&self) -> &DiagnoseConfig {
        &self.config
    }

    /// The epoch of the lowest validation loss so far (0 before any).
    pub fn best_val_epoch(&self) -> u32 {
        self.val_min_epoch
    }

    /// Reads the next epoch's record; returns what it newly reveals (usually nothing).
    pub fn observe(&mut self, record: &EpochRecord) -> Events {
        let mut events = Events::default();
        if self.diverged {
            return events;
        }
        let e = record.epoch;
        let c = self.config;
        let train = record.train_loss;
        let finite = train.is_finite() && record.val_loss.is_none_or(f32::is_finite);
        if !finite {
            self.diverged = true;
            events.push(Event::Divergence {
                epoch: e,
                non_finite: true,
            });
            return events;
        }
        if train > c.divergence_factor * self.lowest_train_loss {
            self.diverged = true;
            events.push(Event::Divergence {
                epoch: e,
                non_finite: false,
            });
            return events;
        }
        self.lowest_train_loss = self.lowest_train_loss.min(train);
        let first = *self.first_train_loss.get_or_insert(train);

        if !self.underfit_reported && e >= c.warmup {
            let near_chance = match record.train_acc {
                Some(acc) if self.classes >= 2 => {
                    acc <= 1.0 / self.classes as f32 + c.chance_margin
                }
                _ => false,
            };
            if near_chance || train >= c.underfit_loss_ratio * first {
                self.underfit_reported = true;
                events.push(Event::Underfitting { epoch: e });
            }
        }

        if let Some(val) = record.val_loss {
            self.observe_validation(e, train, val, record.val_acc, &mut events);
        }

        let value = c.plateau_monitor.value(record).unwrap_or(train);
        let direction = c.plateau_monitor.direction();
        if direction.improves(value, self.plateau_best, c.plateau_min_delta) {
            self.plateau_best = value;
            self.plateau_best_epoch = e;
            self.plateau_reported = false;
        } else if !self.plateau_reported
            && e.saturating_sub(self.plateau_best_epoch) >= c.plateau_patience
        {
            self.plateau_reported = true;
            events.push(Event::Plateau {
                epoch: self.plateau_best_epoch + 1,
            });
        }
        events
    }

    fn observe_validation(
        &mut self,
        e: u32,
        train: f32,
        val: f32,
        val_acc: Option<f32>,
        events: &mut Events,
    ) {
        let c = self.config;
        let now = Previous {
            epoch: e,
            train_loss: train,
            val_loss: val,
            val_acc,
        };
        match self.previous {
            Some(previous) if val > previous.val_loss => {
                if self.rises == 0 {
                    self.run_start = previous;
                    let acc = previous.val_acc.unwrap_or(f32::NAN);
                    (self.run_acc_min, self.run_acc_max) = (acc, acc);
                }
                self.rises += 1;
            }
            _ => self.rises = 0,
        }
        if self.rises > 0 {
            // NaN (no accuracy) poisons the spread, so regression never reports confident mistakes.
            let acc = val_acc.unwrap_or(f32::NAN);
            if acc.is_nan() || self.run_acc_min.is_nan() {
                self.run_acc_min = f32::NAN;
            } else {
                self.run_acc_min = self.run_acc_min.min(acc);
                self.run_acc_max = self.run_acc_max.max(acc);
            }
        }
        if Direction::Min.improves(val, self.val_min, 0.0) {
            self.val_min = val;
            self.val_min_epoch = e;
            self.overfit_reported = false;
            self.confident_reported = false;
        }
        let risen = val > (1.0 + c.overfit_min_rise) * self.val_min;
        if self.rises >= c.overfit_patience && c.overfit_patience > 0 && risen {
            if !self.overfit_reported && train < self.run_start.train_loss {
                self.overfit_reported = true;
                events.push(Event::Overfitting {
                    epoch: self.val_min_epoch,
                });
            }
            if !self.confident_reported
                && self.run_acc_max - self.run_acc_min <= c.flat_acc_tolerance
            {
                self.confident_reported = true;
                events.push(Event::ConfidentMistakes {
                    epoch: self.run_start.epoch,
                });
            }
        }
        self.previous = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records from `(train_loss, train_acc, val_loss, val_acc)` rows, epochs from 1.
    fn records(rows: &[(f32, f32, f32, f32)]) -> Vec<EpochRecord> {
        rows.iter()
            .enumerate()
            .map(|(i, &(tl, ta, vl, va))| EpochRecord {
                epoch: i as u32 + 1,
                train_loss: tl,
                train_acc: Some(ta),
                val_loss: Some(vl),
                val_acc: Some(va),
                lr: 1e-3,
                ..Default::default()
            })
            .collect()
    }

    /// `(epoch noticed, event)` of every event.
    fn diagnose(records: &[EpochRecord], classes: u32) -> Vec<(u32, Event)> {
        let mut analyzer = Analyzer::new(DiagnoseConfig::default(), classes);
        records
            .iter()
            .flat_map(|r| analyzer.observe(r).map(move |e| (r.epoch, e)))
            .collect()
    }

    #[test]
    fn a_clean_fit_has_no_events() {
        let rows: Vec<_> = (1..=30)
            .map(|e| {
                let e = e as f32;
                let train = 2.0 / (1.0 + e);
                (train, 1.0 - 0.5 / e, train * 1.1 + 0.05, 0.95 - 0.4 / e)
            })
            .collect();
        assert_eq!(diagnose(&records(&rows), 10), []);
    }

    #[test]
    fn overfitting_onset_is_the_validation_minimum() {
        // Validation loss falls to epoch 6, then rises; accuracy falls with it.
        let val = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.42, 0.45, 0.5, 0.56, 0.6];
        let rows: Vec<_> = val
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let acc = if i < 6 {
                    0.9
                } else {
                    0.9 - 0.02 * (i - 5) as f32
                };
                (1.0 / (i as f32 + 1.0), 0.9, v, acc)
            })
            .collect();
        assert_eq!(
            diagnose(&records(&rows), 10),
            [(9, Event::Overfitting { epoch: 6 })]
        );
    }

    #[test]
    fn flat_accuracy_with_rising_loss_is_confident_mistakes() {
        let val = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.42, 0.45, 0.5, 0.56];
        let rows: Vec<_> = val
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                // ±0.005 of accuracy is within the 0.01 tolerance.
                let acc = 0.9 + if i % 2 == 0 { 0.005 } else { 0.0 };
                (1.0 / (i as f32 + 1.0), 0.95, v, acc)
            })
            .collect();
        assert_eq!(
            diagnose(&records(&rows), 10),
            [
                (9, Event::Overfitting { epoch: 6 }),
                (9, Event::ConfidentMistakes { epoch: 6 })
            ]
        );
    }

    #[test]
    fn a_stalled_training_loss_is_a_plateau_reported_once() {
        // Improves to epoch 4, then stays within min_delta for good.
        let train = [
            1.0, 0.7, 0.5, 0.4, 0.40005, 0.4, 0.40002, 0.4, 0.4, 0.4, 0.4, 0.4,
        ];
        let rows: Vec<_> = train.iter().map(|&t| (t, 0.9, 0.5, 0.88)).collect();
        assert_eq!(
            diagnose(&records(&rows), 10),
            [(9, Event::Plateau { epoch: 5 })]
        );
    }

    #[test]
    fn a_nan_loss_is_divergence_and_the_last_event() {
        let mut rows: Vec<_> = (1..=10)
            .map(|e| (1.0 / e as f32, 0.9, 1.0 / e as f32, 0.9))
            .collect();
        rows[6].0 = f32::NAN;
        rows[8].2 = f32::INFINITY;
        assert_eq!(
            diagnose(&records(&rows), 10),
            [(
                7,
                Event::Divergence {
                    epoch: 7,
                    non_finite: true
                }
            )]
        );
        // An infinite validation loss alone counts too.
        let mut rows: Vec<_> = (1..=4).map(|_| (0.5, 0.9, 0.5, 0.9)).collect();
        rows[2].2 = f32::INFINITY;
        assert_eq!(
            diagnose(&records(&rows), 0)[0],
            (
                3,
                Event::Divergence {
                    epoch: 3,
                    non_finite: true
                }
            )
        );
    }

    #[test]
    fn an_exploding_training_loss_is_divergence() {
        let train = [1.0, 0.5, 0.2, 2.5];
        let rows: Vec<_> = train.iter().map(|&t| (t, 0.9, 0.3, 0.9)).collect();
        assert_eq!(
            diagnose(&records(&rows), 10),
            [(
                4,
                Event::Divergence {
                    epoch: 4,
                    non_finite: false
                }
            )]
        );
    }

    #[test]
    fn chance_accuracy_after_warmup_is_underfitting() {
        // Loss falls enough, but accuracy stays at 10 % of 10 classes + 3 %.
        let rows: Vec<_> = (1..=8)
            .map(|e| (2.3 - 0.2 * e as f32, 0.13, 2.3 - 0.2 * e as f32, 0.1))
            .collect();
        assert_eq!(
            diagnose(&records(&rows), 10),
            [(5, Event::Underfitting { epoch: 5 })]
        );
        // Regression: the loss must fall below 90 % of its first value by the warm-up.
        let rows: Vec<_> = (1..=6)
            .map(|e| (1.0 - 0.01 * e as f32, 0.0, 1.0, 0.0))
            .collect();
        let mut records = records(&rows);
        records.iter_mut().for_each(|r| {
            r.train_acc = None;
            r.val_acc = None;
            r.val_loss = Some(1.0 - 0.01 * r.epoch as f32);
        });
        assert_eq!(
            diagnose(&records, 0),
            [(5, Event::Underfitting { epoch: 5 })]
        );
    }

    #[test]
    fn overfitting_is_reported_again_only_after_a_new_minimum() {
        let val = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.3, 0.4, 0.5, 0.6, 0.7];
        let rows: Vec<_> = val
            .iter()
            .enumerate()
            .map(|(i, &v)| (1.0 / (i as f32 + 1.0), 0.9, v, 0.5 - 0.03 * i as f32))
            .collect();
        assert_eq!(
            diagnose(&records(&rows), 10),
            [
                (5, Event::Overfitting { epoch: 2 }),
                (11, Event::Overfitting { epoch: 8 })
            ]
        );
    }

    #[test]
    fn small_wiggles_of_a_flat_validation_loss_are_not_overfitting() {
        // Three rises, but the last is only 1 % above the minimum (a real digits run's tail).
        let val = [0.2, 0.15, 0.11323, 0.11378, 0.11395, 0.11431, 0.11292];
        let rows: Vec<_> = val
            .iter()
            .enumerate()
            .map(|(i, &v)| (1.0 / (i as f32 + 1.0), 0.95, v, 0.9 + 0.01 * i as f32))
            .collect();
        assert_eq!(diagnose(&records(&rows), 10), []);
    }

    #[test]
    fn events_name_and_describe_themselves() {
        let event = Event::Overfitting { epoch: 9 };
        assert_eq!(event.name(), "overfitting");
        assert_eq!(event.epoch(), 9);
        assert_eq!(
            format!("{event}"),
            "overfitting since epoch 9: validation loss rising while training loss falls"
        );
    }
}
