//! Metrics of a stream: over the last `N` samples, or an exponential moving average.

use crate::train::Learned;

/// Loss and accuracy over the last `N` samples a stream learned, readable at any time. Recomputed
/// from the kept values on every read (`N` additions), so it never drifts the way a running sum
/// would.
///
/// ```
/// use tinytrain::metrics::Window;
/// let mut w = Window::<2>::new();
/// w.update(1.0, Some(true));
/// w.update(3.0, Some(false));
/// w.update(5.0, Some(true)); // the first sample leaves the window
/// assert_eq!((w.len(), w.mean_loss(), w.accuracy()), (2, 4.0, Some(0.5)));
/// ```
#[derive(Clone, Debug)]
pub struct Window<const N: usize> {
    losses: [f32; N],
    /// 0: wrong, 1: right, 2: not a classification.
    correct: [u8; N],
    next: usize,
    len: usize,
}

impl<const N: usize> Window<N> {
    /// An empty window.
    pub const fn new() -> Self {
        Self {
            losses: [0.0; N],
            correct: [2; N],
            next: 0,
            len: 0,
        }
    }

    /// Counts one sample: its loss and, for a classification, whether its prediction was right.
    pub fn update(&mut self, loss: f32, correct: Option<bool>) {
        let (Some(l), Some(c)) = (
            self.losses.get_mut(self.next),
            self.correct.get_mut(self.next),
        ) else {
            return;
        };
        *l = loss;
        *c = correct.map_or(2, u8::from);
        self.next = if self.next + 1 == N { 0 } else { self.next + 1 };
        self.len = (self.len + 1).min(N);
    }

    /// Counts what [`Trainer::learn`](crate::train::Trainer::learn) returned (a skipped sample
    /// is not counted).
    pub fn learned(&mut self, learned: &Learned) {
        if !learned.skipped {
            self.update(learned.loss, learned.correct);
        }
    }

    /// Samples in the window (at most `N`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Mean loss of the window's samples (NaN when empty).
    pub fn mean_loss(&self) -> f32 {
        let sum: f32 = self.losses.iter().take(self.len).sum();
        if self.len == 0 {
            f32::NAN
        } else {
            sum / self.len as f32
        }
    }

    /// Fraction of the window's classified samples predicted right (`None` without any).
    pub fn accuracy(&self) -> Option<f32> {
        let kept = self.correct.iter().take(self.len);
        let (right, counted) = kept.fold((0u32, 0u32), |(r, n), &c| match c {
            0 => (r, n + 1),
            1 => (r + 1, n + 1),
            _ => (r, n),
        });
        (counted > 0).then(|| right as f32 / counted as f32)
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        (self.next, self.len) = (0, 0);
    }
}

impl<const N: usize> Default for Window<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// An exponential moving average `m ← m + α (x − m)`, started at the first value (no bias towards
/// 0 at the start, unlike a zero-initialised EMA).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ema {
    alpha: f32,
    value: Option<f32>,
}

impl Ema {
    /// An average with weight `alpha` in `(0, 1]` on each new value (`2/(n+1)` is comparable to a
    /// window of `n`).
    pub const fn new(alpha: f32) -> Self {
        Self { alpha, value: None }
    }

    /// Counts a value.
    pub fn update(&mut self, x: f32) {
        self.value = Some(match self.value {
            None => x,
            Some(m) => m + self.alpha * (x - m),
        });
    }

    /// The average (`None` before the first value).
    pub fn value(&self) -> Option<f32> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_forgets_the_oldest_and_ema_weights_the_newest() {
        let mut w = Window::<3>::new();
        assert!(w.mean_loss().is_nan() && w.accuracy().is_none());
        w.update(2.0, None);
        assert_eq!((w.mean_loss(), w.accuracy()), (2.0, None));
        for (loss, right) in [(4.0, true), (6.0, false), (8.0, true)] {
            w.update(loss, Some(right));
        }
        // 4, 6, 8 remain: two of three classified right.
        assert_eq!(
            (w.len(), w.mean_loss(), w.accuracy()),
            (3, 6.0, Some(2.0 / 3.0))
        );
        w.reset();
        assert!(w.is_empty());
        let mut ema = Ema::new(0.5);
        assert_eq!(ema.value(), None);
        for x in [4.0, 8.0, 0.0] {
            ema.update(x);
        }
        // 4 → 6 → 3.
        assert_eq!(ema.value(), Some(3.0));
    }
}
