//! The best epoch of a run, defined once: the epoch whose watched quantity ([`Monitor`]) is best in
//! that quantity's direction — falling back to `val_loss`, then `train_loss`, for records without it —
//! the earliest epoch winning ties; a non-finite value is never best.
//!
//! A device's summary watches validation accuracy ([`Monitor::ValAcc`]: for regression that falls
//! back to the validation loss); loss plots mark the lowest validation loss ([`Monitor::ValLoss`]).

use crate::monitor::{Direction, Monitor};
use crate::record::EpochRecord;

/// Tracks the best epoch over a stream of records, in fixed memory.
///
/// ```
/// use tinytrain::best::BestEpoch;
/// use tinytrain::monitor::Monitor;
/// use tinytrain::record::EpochRecord;
/// let mut best = BestEpoch::new(Monitor::ValLoss);
/// for (epoch, loss) in [(1, 0.9), (2, 0.4), (3, f32::NAN), (4, 0.4)] {
///     best.observe(&EpochRecord { epoch, train_loss: 1.0, val_loss: Some(loss), ..Default::default() });
/// }
/// assert_eq!(best.epoch(), Some(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BestEpoch {
    monitor: Monitor,
    /// The best record and its value.
    best: Option<(EpochRecord, f32)>,
}

impl BestEpoch {
    /// A tracker of the best `monitor`.
    pub const fn new(monitor: Monitor) -> Self {
        Self {
            monitor,
            best: None,
        }
    }

    /// The value that ranks `record`, and which way is better.
    fn value(&self, record: &EpochRecord) -> (f32, Direction) {
        match self.monitor.value(record) {
            Some(value) => (value, self.monitor.direction()),
            None => (record.val_loss.unwrap_or(record.train_loss), Direction::Min),
        }
    }

    /// Reads the next record.
    pub fn observe(&mut self, record: &EpochRecord) {
        let (value, direction) = self.value(record);
        if !value.is_finite() {
            return;
        }
        let better = match self.best {
            None => true,
            Some((_, best)) => match direction {
                Direction::Min => value < best,
                Direction::Max => value > best,
            },
        };
        if better {
            self.best = Some((*record, value));
        }
    }

    /// The best record so far (`None`: no finite value yet).
    pub fn record(&self) -> Option<&EpochRecord> {
        self.best.as_ref().map(|(record, _)| record)
    }

    /// The best epoch so far.
    pub fn epoch(&self) -> Option<u32> {
        self.record().map(|r| r.epoch)
    }

    /// The best epoch of `records` by `monitor`.
    pub fn of<'r>(
        monitor: Monitor,
        records: impl IntoIterator<Item = &'r EpochRecord>,
    ) -> Option<u32> {
        let mut best = Self::new(monitor);
        records.into_iter().for_each(|r| best.observe(r));
        best.epoch()
    }
}
