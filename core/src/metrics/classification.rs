//! Classification metrics from a confusion matrix: accuracy, per-class and macro precision, recall
//! and F1 (scikit-learn's definitions; a 0/0 ratio counts as 0, like `zero_division=0`).

/// A `C × C` confusion matrix (rows: true class, columns: predicted class) for up to `C` classes.
///
/// ```
/// use tinytrain::metrics::ConfusionMatrix;
/// let mut m = ConfusionMatrix::<3>::new(3);
/// for (truth, predicted) in [(0, 0), (0, 1), (1, 1), (2, 2), (2, 2)] { m.update(truth, predicted); }
/// assert_eq!(m.accuracy(), 0.8);
/// assert_eq!(m.recall(0), 0.5);
/// assert_eq!(m.precision(1), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrix<const C: usize> {
    classes: usize,
    counts: [[u32; C]; C],
}

impl<const C: usize> ConfusionMatrix<C> {
    /// Empty matrix for `classes ≤ C` classes (more are clamped to `C`).
    pub const fn new(classes: usize) -> Self {
        Self {
            classes: if classes < C { classes } else { C },
            counts: [[0; C]; C],
        }
    }

    /// Number of classes in use.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Clears all counts.
    pub fn reset(&mut self) {
        self.counts = [[0; C]; C];
    }

    /// Counts one sample; out-of-range classes are ignored.
    pub fn update(&mut self, truth: u16, predicted: u16) {
        let (t, p) = (truth as usize, predicted as usize);
        if t < self.classes && p < self.classes {
            if let Some(count) = self.counts.get_mut(t).and_then(|row| row.get_mut(p)) {
                *count += 1;
            }
        }
    }

    /// Samples with true class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> u32 {
        self.counts
            .get(truth)
            .and_then(|row| row.get(predicted))
            .copied()
            .unwrap_or(0)
    }

    /// Samples counted.
    pub fn total(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    /// Fraction of correct predictions (0 when empty).
    pub fn accuracy(&self) -> f32 {
        let correct: u32 = (0..self.classes).map(|c| self.count(c, c)).sum();
        ratio(correct, self.total())
    }

    /// `TP / (TP + FP)` for class `c`.
    pub fn precision(&self, c: usize) -> f32 {
        let predicted: u32 = (0..self.classes).map(|t| self.count(t, c)).sum();
        ratio(self.count(c, c), predicted)
    }

    /// `TP / (TP + FN)` for class `c`.
    pub fn recall(&self, c: usize) -> f32 {
        let actual: u32 = (0..self.classes).map(|p| self.count(c, p)).sum();
        ratio(self.count(c, c), actual)
    }

    /// `2·P·R / (P + R)` for class `c` (0 when both are 0).
    pub fn f1(&self, c: usize) -> f32 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Unweighted mean over classes of [`ConfusionMatrix::precision`].
    pub fn macro_precision(&self) -> f32 {
        self.macro_mean(Self::precision)
    }

    /// Unweighted mean over classes of [`ConfusionMatrix::recall`].
    pub fn macro_recall(&self) -> f32 {
        self.macro_mean(Self::recall)
    }

    /// Unweighted mean over classes of [`ConfusionMatrix::f1`] (scikit-learn `average='macro'`).
    pub fn macro_f1(&self) -> f32 {
        self.macro_mean(Self::f1)
    }

    fn macro_mean(&self, per_class: fn(&Self, usize) -> f32) -> f32 {
        if self.classes == 0 {
            return 0.0;
        }
        (0..self.classes).map(|c| per_class(self, c)).sum::<f32>() / self.classes as f32
    }
}

/// Accuracy alone, counted as [`ConfusionMatrix::accuracy`] counts it (out-of-range classes
/// ignored) in two counters instead of `C²`: what a training pass reports (the validation pass
/// keeps the matrix, for its F1).
///
/// ```
/// use tinytrain::metrics::classification::Accuracy;
/// let mut a = Accuracy::new(3);
/// for (truth, predicted) in [(0, 0), (0, 1), (1, 1), (2, 2), (2, 2), (5, 5)] { a.update(truth, predicted); }
/// assert_eq!(a.value(), 0.8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accuracy {
    classes: usize,
    correct: u32,
    total: u32,
}

impl Accuracy {
    /// No samples yet, for `classes` classes.
    pub const fn new(classes: usize) -> Self {
        Self {
            classes,
            correct: 0,
            total: 0,
        }
    }

    /// Forgets the samples counted.
    pub fn reset(&mut self) {
        (self.correct, self.total) = (0, 0);
    }

    /// Counts one sample; out-of-range classes are ignored.
    pub fn update(&mut self, truth: u16, predicted: u16) {
        let (t, p) = (truth as usize, predicted as usize);
        if t < self.classes && p < self.classes {
            self.total += 1;
            self.correct += u32::from(t == p);
        }
    }

    /// Correct / counted (0 when nothing was counted).
    pub fn value(&self) -> f32 {
        ratio(self.correct, self.total)
    }
}

fn ratio(numerator: u32, denominator: u32) -> f32 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f32 / denominator as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accuracy counts what the confusion matrix counts: the same value, bit for bit.
    #[test]
    fn accuracy_alone_equals_the_matrix_accuracy() {
        let (mut m, mut a) = (ConfusionMatrix::<4>::new(3), Accuracy::new(3));
        assert_eq!(a.value().to_bits(), m.accuracy().to_bits());
        let mut state = 7u32;
        for _ in 0..1000 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let (t, p) = ((state >> 24) as u16 % 5, (state >> 16) as u16 % 4);
            m.update(t, p);
            a.update(t, p);
            assert_eq!(a.value().to_bits(), m.accuracy().to_bits());
        }
        a.reset();
        assert_eq!(a.value(), 0.0);
    }

    #[test]
    fn matches_scikit_learn_example() {
        // sklearn.metrics.f1_score([0,1,2,0,1,2], [0,2,1,0,0,1], average='macro') = 0.26666…
        let mut m = ConfusionMatrix::<4>::new(3);
        for (t, p) in [(0, 0), (1, 2), (2, 1), (0, 0), (1, 0), (2, 1)] {
            m.update(t, p);
        }
        assert!((m.macro_f1() - 0.266_666_67).abs() < 1e-6);
        // precision_score(..., average='macro') = 0.2222…, recall_score = 0.3333…
        assert!((m.macro_precision() - 0.222_222_22).abs() < 1e-6);
        assert!((m.macro_recall() - 0.333_333_34).abs() < 1e-6);
        assert_eq!(m.accuracy(), 2.0 / 6.0);
    }

    /// Per-class values of a matrix whose every ratio is exact, samples of a class out of range
    /// (true or predicted) ignored, a class never predicted nor present scoring 0, and `reset`.
    #[test]
    fn per_class_values_and_edges() {
        let mut m = ConfusionMatrix::<5>::new(4);
        // Class 0: 3 of 4 right, one taken for 1; class 1: right once, predicted twice;
        // class 2: 2 samples, both taken for 0; class 3: absent and never predicted.
        for (t, p) in [
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 1),
            (1, 1),
            (2, 0),
            (2, 0),
            (4, 0),
            (1, 4),
            (0, 7),
        ] {
            m.update(t, p);
        }
        assert_eq!((m.classes(), m.total()), (4, 7));
        assert_eq!((m.count(0, 1), m.count(2, 0), m.count(4, 0)), (1, 2, 0));
        assert_eq!((m.precision(0), m.recall(0)), (0.6, 0.75));
        assert_eq!(
            (m.precision(1), m.recall(1), m.f1(1)),
            (0.5, 1.0, 2.0 / 3.0)
        );
        assert_eq!((m.precision(2), m.recall(2), m.f1(2)), (0.0, 0.0, 0.0));
        assert_eq!((m.precision(3), m.recall(3), m.f1(3)), (0.0, 0.0, 0.0));
        assert_eq!(m.f1(0), 2.0 * 0.6 * 0.75 / 1.35);
        assert_eq!(m.accuracy(), 4.0 / 7.0);
        assert_eq!(m.macro_recall(), (0.75 + 1.0) / 4.0);
        m.reset();
        assert_eq!((m.total(), m.accuracy(), m.macro_f1()), (0, 0.0, 0.0));
        assert_eq!(ConfusionMatrix::<3>::new(9).classes(), 3);
        // Precision equal to recall: F1 is that value.
        let mut m = ConfusionMatrix::<2>::new(2);
        for (t, p) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            m.update(t, p);
        }
        assert_eq!((m.precision(0), m.recall(0), m.f1(0)), (0.5, 0.5, 0.5));
        assert_eq!(ConfusionMatrix::<3>::new(0).macro_precision(), 0.0);
    }
}
