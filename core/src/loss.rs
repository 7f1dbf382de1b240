//! Output heads: how the network's last values become a loss, its gradient and a prediction.
//!
//! Each head's loss and gradient are computed together from the raw outputs ("logits"), which is
//! both cheaper and numerically safer than a separate softmax/sigmoid layer.

use crate::data::Target;
use crate::layers::activation::sigmoid;

/// The output head of a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Head {
    /// Softmax over `C ≥ 2` outputs and cross-entropy (`nn.CrossEntropyLoss` on logits).
    SoftmaxCrossEntropy,
    /// Sigmoid on one output and binary cross-entropy (`nn.BCEWithLogitsLoss`); class 1 when the
    /// logit is ≥ 0.
    SigmoidBinaryCrossEntropy,
    /// Identity on `k ≥ 1` outputs and squared error (`nn.MSELoss`, mean over the outputs).
    LinearMse,
    /// Identity on `k ≥ 1` outputs and absolute error (`nn.L1Loss`): fits the median, minimises MAE.
    LinearL1,
    /// Identity on `k ≥ 1` outputs and Huber loss with δ = 1 (`nn.HuberLoss`): squared near the
    /// target, absolute far from it, so outliers pull less than with MSE.
    LinearHuber,
}

impl Head {
    /// `true` for the classification heads.
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            Head::SoftmaxCrossEntropy | Head::SigmoidBinaryCrossEntropy
        )
    }

    /// Number of network outputs this head reads for `classes` classes (1 for regression on one
    /// target; a multi-output regression has as many as targets).
    pub fn outputs_for(self, classes: usize) -> usize {
        match self {
            Head::SoftmaxCrossEntropy => classes,
            _ => 1,
        }
    }

    /// Loss of one sample; writes `∂loss/∂out` into `grad` (same length as `out`).
    ///
    /// * softmax + CE: `m = max z`, `s = Σ e^(z−m)`, `loss = m + ln s − z_y`, `∂/∂z = e^(z−m)/s − 1[y]`
    /// * sigmoid + BCE: `loss = max(z,0) − z·y + ln(1 + e^(−|z|))`, `∂/∂z = σ(z) − y`
    /// * linear + MSE: `loss = (z − y)²`, `∂/∂z = 2(z − y)`
    /// * linear + L1: `loss = |z − y|`, `∂/∂z = sign(z − y)` (0 at 0, as PyTorch)
    /// * linear + Huber (δ = 1): `e = z − y`; `loss = e²/2` and `∂/∂z = e` if `|e| < 1`, else
    ///   `loss = |e| − 1/2` and `∂/∂z = sign(e)`
    ///
    /// A class target out of range for the head counts as class 0 (the dataset validates labels).
    /// A regression head reads one output here; [`Head::regression_loss_and_grad`] takes several.
    pub fn loss_and_grad(self, out: &[f32], target: Target, grad: &mut [f32]) -> f32 {
        match self {
            Head::SoftmaxCrossEntropy => {
                let class = target
                    .class()
                    .map(usize::from)
                    .filter(|&c| c < out.len())
                    .unwrap_or(0);
                let max = out
                    .iter()
                    .fold(f32::NEG_INFINITY, |m, &z| if z > m { z } else { m });
                let mut sum = 0.0;
                for (g, &z) in grad.iter_mut().zip(out) {
                    *g = libm::expf(z - max);
                    sum += *g;
                }
                let inv = 1.0 / sum;
                grad.iter_mut().for_each(|g| *g *= inv);
                if let Some(g) = grad.get_mut(class) {
                    *g -= 1.0;
                }
                max + libm::logf(sum) - out.get(class).copied().unwrap_or(0.0)
            }
            Head::SigmoidBinaryCrossEntropy => {
                let y = if target.class() == Some(1) { 1.0 } else { 0.0 };
                let z = out.first().copied().unwrap_or(0.0);
                if let Some(g) = grad.first_mut() {
                    *g = sigmoid(z) - y;
                }
                let positive = if z > 0.0 { z } else { 0.0 };
                positive - z * y + libm::log1pf(libm::expf(-libm::fabsf(z)))
            }
            Head::LinearMse | Head::LinearL1 | Head::LinearHuber => {
                self.regression_loss_and_grad(out, &[target.value()], grad)
            }
        }
    }

    /// A regression head's loss over `k = out.len()` outputs against `target` (as long), averaged
    /// over the outputs like PyTorch's `reduction='mean'`: `loss = Σ ℓ(z_i − y_i) / k`, and
    /// `∂loss/∂z_i = ℓ'(z_i − y_i) / k`, with `ℓ` the per-element loss of
    /// [`Head::loss_and_grad`] (squared, absolute, or Huber with δ = 1). Over a mini-batch, whose
    /// gradient the trainer averages over the samples, this is PyTorch's mean over the `(batch, k)`
    /// tensor. One output is [`Head::loss_and_grad`]'s value, bit for bit (a division by 1 is
    /// exact). An autoencoder is `target = input`. The classification heads return 0 here.
    pub fn regression_loss_and_grad(self, out: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
        let k = out.len() as f32;
        let mut loss = 0.0;
        for ((g, &z), &y) in grad.iter_mut().zip(out).zip(target) {
            let error = z - y;
            let magnitude = libm::fabsf(error);
            let sign = if error > 0.0 {
                1.0
            } else if error < 0.0 {
                -1.0
            } else {
                0.0
            };
            let (term, slope) = match self {
                Head::LinearMse => (error * error, 2.0 * error),
                Head::LinearL1 => (magnitude, sign),
                Head::LinearHuber if magnitude < 1.0 => (0.5 * error * error, error),
                Head::LinearHuber => (magnitude - 0.5, sign),
                Head::SoftmaxCrossEntropy | Head::SigmoidBinaryCrossEntropy => (0.0, 0.0),
            };
            loss += term;
            *g = slope / k;
        }
        loss / k
    }

    /// The predicted class (argmax, first on ties; or logit ≥ 0 for the sigmoid head); `None` for
    /// regression.
    pub fn predict_class(self, out: &[f32]) -> Option<u16> {
        match self {
            Head::SoftmaxCrossEntropy => {
                let mut best = (0, out.first().copied().unwrap_or(0.0));
                for (i, &z) in out.iter().enumerate() {
                    if z > best.1 {
                        best = (i, z);
                    }
                }
                Some(best.0 as u16)
            }
            Head::SigmoidBinaryCrossEntropy => {
                Some(u16::from(out.first().is_some_and(|&z| z >= 0.0)))
            }
            Head::LinearMse | Head::LinearL1 | Head::LinearHuber => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_grad(head: Head, out: &[f32], target: Target) -> Vec<f64> {
        let mut scratch = vec![0.0; out.len()];
        (0..out.len())
            .map(|i| {
                let h = 1e-2f32;
                let (mut plus, mut minus) = (out.to_vec(), out.to_vec());
                plus[i] += h;
                minus[i] -= h;
                let lp = head.loss_and_grad(&plus, target, &mut scratch) as f64;
                let lm = head.loss_and_grad(&minus, target, &mut scratch) as f64;
                (lp - lm) / (2.0 * h as f64)
            })
            .collect()
    }

    #[test]
    fn gradients_match_central_differences() {
        let cases: [(Head, &[f32], Target); 9] = [
            (
                Head::SoftmaxCrossEntropy,
                &[1.0, -0.5, 0.3, 2.0],
                Target::Class(2),
            ),
            (
                Head::SoftmaxCrossEntropy,
                &[10.0, 0.0, -10.0],
                Target::Class(0),
            ),
            (Head::SigmoidBinaryCrossEntropy, &[0.7], Target::Class(1)),
            (Head::SigmoidBinaryCrossEntropy, &[-1.3], Target::Class(1)),
            (Head::LinearMse, &[0.25], Target::Value(-1.5)),
            (Head::LinearL1, &[0.25], Target::Value(-1.5)),
            (Head::LinearL1, &[-2.0], Target::Value(0.5)),
            (Head::LinearHuber, &[0.25], Target::Value(0.5)),
            (Head::LinearHuber, &[3.0], Target::Value(0.5)),
        ];
        for (head, out, target) in cases {
            let mut grad = vec![0.0; out.len()];
            head.loss_and_grad(out, target, &mut grad);
            for (a, n) in grad.iter().zip(numeric_grad(head, out, target)) {
                assert!((*a as f64 - n).abs() < 2e-3, "{head:?} {out:?}: {a} vs {n}");
            }
        }
    }

    #[test]
    fn pytorch_reference_values() {
        // F.cross_entropy(tensor([[1., 2., 3.]]), tensor([0])) = 2.4076059644
        // softmax([1,2,3]) = [0.09003057, 0.24472847, 0.66524096]
        let mut g = [0.0; 3];
        let loss =
            Head::SoftmaxCrossEntropy.loss_and_grad(&[1.0, 2.0, 3.0], Target::Class(0), &mut g);
        assert!((loss - 2.407_606).abs() < 1e-6);
        let expected = [0.090_030_57 - 1.0, 0.244_728_47, 0.665_240_96];
        g.iter()
            .zip(expected)
            .for_each(|(a, e)| assert!((a - e).abs() < 1e-6));
        // F.binary_cross_entropy_with_logits(tensor([0.5]), tensor([1.])) = 0.4740769841
        let mut g = [0.0];
        let loss = Head::SigmoidBinaryCrossEntropy.loss_and_grad(&[0.5], Target::Class(1), &mut g);
        assert!((loss - 0.474_077).abs() < 1e-6);
        assert!((g[0] - (0.622_459_3 - 1.0)).abs() < 1e-6);
        // Large logits stay finite (log-sum-exp and |z| forms).
        let loss = Head::SoftmaxCrossEntropy.loss_and_grad(
            &[1000.0, -1000.0],
            Target::Class(1),
            &mut [0.0; 2],
        );
        assert_eq!(loss, 2000.0);
        let loss =
            Head::SigmoidBinaryCrossEntropy.loss_and_grad(&[-200.0], Target::Class(1), &mut g);
        assert_eq!(loss, 200.0);
    }

    /// Every head's loss and gradient at points whose values are exact (PyTorch's definitions; the
    /// class-0 BCE value is `F.binary_cross_entropy_with_logits(tensor([0.5]), tensor([0.]))`):
    /// the signs of the errors, the zero gradient at a zero error, and both sides of Huber's δ = 1.
    #[test]
    fn exact_values_of_every_head() {
        let one = |head: Head, z: f32, target: Target| {
            let mut g = [f32::NAN];
            let loss = head.loss_and_grad(&[z], target, &mut g);
            (loss, g[0])
        };
        let (loss, grad) = one(Head::SigmoidBinaryCrossEntropy, 0.5, Target::Class(0));
        assert!((loss - 0.974_077).abs() < 1e-6, "{loss}");
        assert!((grad - 0.622_459_3).abs() < 1e-6, "{grad}");
        let value = Target::Value;
        assert_eq!(one(Head::LinearMse, 0.25, value(-1.5)), (3.0625, 3.5));
        assert_eq!(one(Head::LinearL1, 0.25, value(-1.5)), (1.75, 1.0));
        assert_eq!(one(Head::LinearL1, -2.0, value(0.5)), (2.5, -1.0));
        assert_eq!(one(Head::LinearL1, 0.75, value(0.25)), (0.5, 1.0));
        assert_eq!(one(Head::LinearL1, 0.5, value(0.5)), (0.0, 0.0));
        assert_eq!(one(Head::LinearHuber, 0.75, value(0.25)), (0.125, 0.5));
        assert_eq!(one(Head::LinearHuber, 0.0, value(0.5)), (0.125, -0.5));
        assert_eq!(one(Head::LinearHuber, 3.0, value(0.5)), (2.0, 1.0));
        assert_eq!(one(Head::LinearHuber, -3.0, value(0.5)), (3.0, -1.0));
        assert_eq!(one(Head::LinearHuber, 0.5, value(0.5)), (0.0, 0.0));
    }

    /// A class out of range counts as class 0, for the loss and the gradient alike.
    #[test]
    fn a_class_out_of_range_is_class_zero() {
        let out = [1.0, 2.0, 3.0];
        let (mut g0, mut g3) = ([0.0; 3], [0.0; 3]);
        let zero = Head::SoftmaxCrossEntropy.loss_and_grad(&out, Target::Class(0), &mut g0);
        let three = Head::SoftmaxCrossEntropy.loss_and_grad(&out, Target::Class(3), &mut g3);
        assert_eq!((zero, g0), (three, g3));
    }

    #[test]
    fn outputs_and_task_of_each_head() {
        assert_eq!(Head::SoftmaxCrossEntropy.outputs_for(10), 10);
        assert_eq!(Head::SigmoidBinaryCrossEntropy.outputs_for(2), 1);
        for head in [Head::SoftmaxCrossEntropy, Head::SigmoidBinaryCrossEntropy] {
            assert!(head.is_classification(), "{head:?}");
        }
        for head in [Head::LinearMse, Head::LinearL1, Head::LinearHuber] {
            assert_eq!(head.outputs_for(10), 1, "{head:?}");
            assert!(!head.is_classification(), "{head:?}");
        }
    }

    #[test]
    fn predictions() {
        assert_eq!(
            Head::SoftmaxCrossEntropy.predict_class(&[0.1, 0.9, 0.9]),
            Some(1)
        );
        assert_eq!(
            Head::SigmoidBinaryCrossEntropy.predict_class(&[0.0]),
            Some(1)
        );
        assert_eq!(
            Head::SigmoidBinaryCrossEntropy.predict_class(&[-0.1]),
            Some(0)
        );
        assert_eq!(Head::LinearMse.predict_class(&[3.0]), None);
    }
}
