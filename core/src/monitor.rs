//! Which number of an [`EpochRecord`] to watch, and which way is better — shared by
//! [`early_stop`](crate::early_stop) and [`diagnose`](crate::diagnose) (Keras' `monitor` and `mode`).

use crate::record::EpochRecord;

/// A quantity of an [`EpochRecord`].
///
/// ```
/// use tinytrain::monitor::{Direction, Monitor};
/// use tinytrain::record::EpochRecord;
/// let r = EpochRecord { epoch: 1, train_loss: 0.5, val_loss: Some(0.75), ..Default::default() };
/// assert_eq!(Monitor::ValLoss.value(&r), Some(0.75));
/// assert_eq!(Monitor::ValAcc.value(&r), None);
/// assert_eq!(Monitor::ValAcc.direction(), Direction::Max);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Monitor {
    /// `train_loss` (lower is better).
    TrainLoss,
    /// `val_loss` (lower is better).
    ValLoss,
    /// `val_acc` (higher is better).
    ValAcc,
    /// `val_f1` (higher is better).
    ValF1,
    /// `val_mae` (lower is better).
    ValMae,
}

/// Whether smaller or larger values of a quantity are better (Keras' `mode="min"` / `"max"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Smaller is better (losses, errors).
    Min,
    /// Larger is better (accuracies, scores).
    Max,
}

impl Monitor {
    /// The quantity in `record`, if the record has it.
    pub fn value(self, record: &EpochRecord) -> Option<f32> {
        match self {
            Monitor::TrainLoss => Some(record.train_loss),
            Monitor::ValLoss => record.val_loss,
            Monitor::ValAcc => record.val_acc,
            Monitor::ValF1 => record.val_f1,
            Monitor::ValMae => record.val_mae,
        }
    }

    /// Which way is better: `Min` for losses and errors, `Max` for accuracy and F1 (Keras' `"auto"`).
    pub const fn direction(self) -> Direction {
        match self {
            Monitor::TrainLoss | Monitor::ValLoss | Monitor::ValMae => Direction::Min,
            Monitor::ValAcc | Monitor::ValF1 => Direction::Max,
        }
    }
    // `name()`, the record's field name (e.g. `"val_loss"`), is in `crate::names`.
}

impl Direction {
    /// `true` when `current` beats `best` by more than `min_delta` (Keras' `_is_improvement`):
    /// `current < best − min_delta` for `Min`, `current > best + min_delta` for `Max`. A NaN is never
    /// an improvement; anything finite improves on no best at all (`best` NaN).
    pub fn improves(self, current: f32, best: f32, min_delta: f32) -> bool {
        if current.is_nan() {
            return false;
        }
        if best.is_nan() {
            return true;
        }
        match self {
            Direction::Min => current < best - min_delta,
            Direction::Max => current > best + min_delta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn improvement_needs_more_than_min_delta() {
        assert!(Direction::Min.improves(0.5, 0.6, 0.05));
        assert!(!Direction::Min.improves(0.56, 0.6, 0.05));
        assert!(!Direction::Min.improves(0.6, 0.6, 0.0));
        assert!(Direction::Max.improves(0.9, 0.8, 0.05));
        assert!(!Direction::Max.improves(0.84, 0.8, 0.05));
        assert!(!Direction::Min.improves(f32::NAN, 0.6, 0.0));
        assert!(Direction::Min.improves(0.6, f32::NAN, 0.0));
    }

    #[test]
    fn directions_follow_the_quantity() {
        assert_eq!(Monitor::TrainLoss.direction(), Direction::Min);
        assert_eq!(Monitor::ValMae.direction(), Direction::Min);
        assert_eq!(Monitor::ValF1.direction(), Direction::Max);
        assert_eq!(Monitor::ValLoss.name(), "val_loss");
    }
}
