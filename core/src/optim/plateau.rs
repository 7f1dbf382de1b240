//! Reduce the learning rate when a monitored quantity stops improving: Keras'
//! [`ReduceLROnPlateau`](https://keras.io/api/callbacks/reduce_lr_on_plateau/), as a schedule of
//! the core so that a device runs it too.
//!
//! The rule, Keras' `on_epoch_end` step for step (records without the monitored quantity are
//! ignored):
//!
//! 1. In cooldown (`cooldown_counter > 0`): `cooldown_counter −= 1`, `wait = 0`.
//! 2. If the value improves on the best by more than `min_delta` ([`Direction::improves`]: `current <
//!    best − min_delta` for a loss), it becomes the best and `wait = 0`.
//! 3. Else, unless still in cooldown: `wait += 1`; once `wait ≥ patience` and `lr > min_lr`, the rate
//!    becomes `max(lr · factor, min_lr)`, `cooldown_counter = cooldown`, `wait = 0`.
//!
//! The new rate applies from the next epoch on, so a record's `lr` is always the rate its epoch
//! trained with. Keras keeps the rate in an `f32` variable and multiplies in `f64`; the product of
//! two `f32`s is exact in `f64`, so rounding it once to `f32` gives the `f32` product computed here.
//!
//! ```
//! use tinytrain::optim::plateau::{Plateau, ReduceLrOnPlateau};
//! use tinytrain::record::EpochRecord;
//! let config = ReduceLrOnPlateau { patience: 2, factor: 0.5, ..ReduceLrOnPlateau::DEFAULT };
//! let mut state = Plateau::new(0.1);
//! let mut rates = Vec::new();
//! for (epoch, val_loss) in [(1, 0.9), (2, 0.8), (3, 0.85), (4, 0.81), (5, 0.7)] {
//!     rates.push(state.lr());
//!     state.observe(&config, &EpochRecord { epoch, val_loss: Some(val_loss), ..Default::default() });
//! }
//! // Epochs 3 and 4 do not improve on 0.8: the rate halves after epoch 4.
//! assert_eq!(rates, [0.1, 0.1, 0.1, 0.1, 0.05]);
//! ```

use crate::monitor::{Direction, Monitor};
use crate::record::EpochRecord;

/// Settings of [`Plateau`], with Keras' names and meanings.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReduceLrOnPlateau {
    /// The quantity watched; its direction is the monitor's (Keras' `mode="auto"`).
    pub monitor: Monitor,
    /// `new_lr = lr · factor`, in `(0, 1)`.
    pub factor: f32,
    /// Epochs without improvement before the rate is reduced.
    pub patience: u32,
    /// An improvement must exceed this (absolute, in the quantity's units).
    pub min_delta: f32,
    /// Epochs after a reduction during which no epoch counts as one without improvement.
    pub cooldown: u32,
    /// The rate is never reduced below this.
    pub min_lr: f32,
}

impl ReduceLrOnPlateau {
    /// Keras' defaults: `val_loss`, factor 0.1, patience 10, `min_delta` 1e-4, no cooldown,
    /// `min_lr` 0.
    pub const DEFAULT: Self = Self {
        monitor: Monitor::ValLoss,
        factor: 0.1,
        patience: 10,
        min_delta: 1e-4,
        cooldown: 0,
        min_lr: 0.0,
    };

    /// Which way is better.
    pub fn direction(&self) -> Direction {
        self.monitor.direction()
    }
}

impl Default for ReduceLrOnPlateau {
    /// [`ReduceLrOnPlateau::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The state of a run's ReduceLROnPlateau: the current rate and Keras' `best`, `wait` and
/// `cooldown_counter` (all a checkpoint needs to continue it).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Plateau {
    lr: f32,
    /// The best value so far; NaN before any (Keras' `±inf`).
    best: f32,
    wait: u32,
    cooldown_counter: u32,
}

impl Plateau {
    /// Starts at rate `lr`, with no best value yet.
    pub const fn new(lr: f32) -> Self {
        Self {
            lr,
            best: f32::NAN,
            wait: 0,
            cooldown_counter: 0,
        }
    }

    /// The rate the next epoch trains with.
    pub fn lr(&self) -> f32 {
        self.lr
    }

    /// Epochs without improvement so far (Keras' `wait`).
    pub fn wait(&self) -> u32 {
        self.wait
    }

    /// Reads an epoch's record; returns the new rate when this epoch reduced it.
    pub fn observe(&mut self, config: &ReduceLrOnPlateau, record: &EpochRecord) -> Option<f32> {
        let current = config.monitor.value(record)?;
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if config
            .direction()
            .improves(current, self.best, config.min_delta)
        {
            self.best = current;
            self.wait = 0;
            return None;
        }
        if self.cooldown_counter > 0 {
            return None;
        }
        self.wait = self.wait.saturating_add(1);
        if self.wait < config.patience || self.lr <= config.min_lr {
            return None;
        }
        self.lr = (self.lr * config.factor).max(config.min_lr);
        self.cooldown_counter = config.cooldown;
        self.wait = 0;
        Some(self.lr)
    }

    /// The state as four words (rate and best as `f32` bits, wait, cooldown counter): the form a
    /// checkpoint stores.
    pub fn to_words(&self) -> [u32; 4] {
        [
            self.lr.to_bits(),
            self.best.to_bits(),
            self.wait,
            self.cooldown_counter,
        ]
    }

    /// The state [`Plateau::to_words`] wrote.
    pub fn from_words([lr, best, wait, cooldown_counter]: [u32; 4]) -> Self {
        Self {
            lr: f32::from_bits(lr),
            best: f32::from_bits(best),
            wait,
            cooldown_counter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: u32, value: f32) -> EpochRecord {
        EpochRecord {
            epoch,
            val_loss: Some(value),
            val_acc: Some(value),
            ..Default::default()
        }
    }

    /// The rate each epoch trains with, for a sequence of monitored values.
    fn rates(config: &ReduceLrOnPlateau, lr: f32, values: &[f32]) -> Vec<f32> {
        let mut state = Plateau::new(lr);
        let mut out = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            out.push(state.lr());
            state.observe(config, &record(i as u32 + 1, v));
        }
        out
    }

    /// Keras' `on_epoch_end`, transcribed line for line in `f64` with `±inf` for the first best
    /// (the reference the core's `f32` implementation is checked against).
    fn keras(config: &ReduceLrOnPlateau, lr: f32, values: &[f32]) -> Vec<f32> {
        let (factor, min_lr, min_delta) = (
            f64::from(config.factor),
            f64::from(config.min_lr),
            f64::from(config.min_delta),
        );
        let minimise = config.direction() == Direction::Min;
        let monitor_op = |a: f64, b: f64| {
            if minimise {
                a < b - min_delta
            } else {
                a > b + min_delta
            }
        };
        let mut best = if minimise {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        let (mut wait, mut cooldown_counter) = (0, 0);
        let mut learning_rate = lr; // the optimiser's float32 variable
        let mut out = Vec::new();
        for &v in values {
            out.push(learning_rate);
            let current = f64::from(v);
            if cooldown_counter > 0 {
                cooldown_counter -= 1;
                wait = 0;
            }
            if monitor_op(current, best) {
                best = current;
                wait = 0;
            } else if cooldown_counter == 0 {
                wait += 1;
                if wait >= config.patience {
                    let old_lr = f64::from(learning_rate);
                    if old_lr > min_lr {
                        let new_lr = (old_lr * factor).max(min_lr);
                        learning_rate = new_lr as f32;
                        cooldown_counter = config.cooldown;
                        wait = 0;
                    }
                }
            }
        }
        out
    }

    /// A constructed validation-loss sequence, worked out by hand from Keras' definition:
    /// patience 2, factor 0.5, `min_delta` 0.01, cooldown 1, `min_lr` 0.02, from 0.1.
    #[test]
    fn a_constructed_val_loss_sequence_follows_keras() {
        let config = ReduceLrOnPlateau {
            monitor: Monitor::ValLoss,
            factor: 0.5,
            patience: 2,
            min_delta: 0.01,
            cooldown: 1,
            min_lr: 0.02,
        };
        let losses = [
            1.0,   // 1: best 1.0
            0.8,   // 2: best 0.8
            0.795, // 3: within min_delta of 0.8: wait 1
            0.9,   // 4: wait 2 = patience: 0.1 → 0.05, cooldown 1
            0.85,  // 5: cooldown 1 → 0 (wait 0), no improvement, no longer in cooldown: wait 1
            0.85,  // 6: wait 2: 0.05 → 0.025, cooldown 1
            0.7,   // 7: cooldown → 0; 0.7 improves: best 0.7
            0.71,  // 8: wait 1
            0.72,  // 9: wait 2: 0.025 → max(0.0125, 0.02) = 0.02
            0.73,  // 10: cooldown → 0, wait 1
            0.74,  // 11: wait 2, but lr = min_lr: no reduction (wait keeps counting)
            0.75,  // 12: wait 3, still at min_lr
        ];
        let expected = [
            0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02,
        ];
        assert_eq!(rates(&config, 0.1, &losses), expected);
        assert_eq!(keras(&config, 0.1, &losses), expected);

        let mut state = Plateau::new(0.1);
        let reduced: Vec<(u32, f32)> = losses
            .iter()
            .enumerate()
            .filter_map(|(i, &l)| {
                let epoch = i as u32 + 1;
                state
                    .observe(&config, &record(epoch, l))
                    .map(|lr| (epoch, lr))
            })
            .collect();
        assert_eq!(reduced, [(4, 0.05), (6, 0.025), (9, 0.02)]);
        assert_eq!(state.wait(), 3);
    }

    /// Random sequences and settings (accuracy maximised and losses minimised, with and without
    /// cooldown and floor): every epoch's rate equals the transcription of Keras' code, bit for bit.
    #[test]
    fn random_sequences_equal_keras_bit_for_bit() {
        let mut rng = crate::rng::Pcg32::new(11, 0);
        for case in 0..400 {
            let config = ReduceLrOnPlateau {
                monitor: if case % 2 == 0 {
                    Monitor::ValLoss
                } else {
                    Monitor::ValAcc
                },
                factor: [0.1, 0.5, 0.3, 0.9][rng.below(4) as usize],
                patience: rng.below(4),
                min_delta: [0.0, 1e-4, 0.01][rng.below(3) as usize],
                cooldown: rng.below(3),
                min_lr: [0.0, 1e-4, 0.003][rng.below(3) as usize],
            };
            let values: Vec<f32> = (0..40).map(|_| 0.5 + rng.symmetric(0.05)).collect();
            assert_eq!(
                rates(&config, 0.01, &values),
                keras(&config, 0.01, &values),
                "{config:?} {values:?}"
            );
        }
    }

    #[test]
    fn records_without_the_quantity_change_nothing_and_state_round_trips() {
        let config = ReduceLrOnPlateau {
            patience: 1,
            ..ReduceLrOnPlateau::DEFAULT
        };
        let mut state = Plateau::new(0.1);
        let no_validation = EpochRecord {
            epoch: 1,
            ..Default::default()
        };
        for _ in 0..3 {
            assert_eq!(state.observe(&config, &no_validation), None);
        }
        assert_eq!(state.to_words(), Plateau::new(0.1).to_words());
        state.observe(&config, &record(1, 0.5));
        assert_eq!(state.observe(&config, &record(2, 0.5)), Some(0.1 * 0.1));
        let words = state.to_words();
        assert_eq!(Plateau::from_words(words).to_words(), words);
    }
}
