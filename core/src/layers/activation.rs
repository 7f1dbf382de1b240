//! Element-wise activations: ReLU, LeakyReLU, sigmoid, tanh.
//!
//! Backward takes the forward's input `x` *and* output `y` because each derivative is cheapest from
//! one of them: ReLU from `x`, sigmoid and tanh from `y`.

use crate::layers::Needs;

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, else `slope·x` (PyTorch's default slope is 0.01).
    LeakyRelu {
        /// Slope for negative inputs.
        slope: f32,
    },
    /// `1 / (1 + e^(−x))`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
}

impl Activation {
    /// LeakyReLU with PyTorch's default negative slope, 0.01.
    pub const LEAKY_RELU: Activation = Activation::LeakyRelu { slope: 0.01 };

    /// `y = f(x)`, element-wise. `x` and `y` have the same length.
    pub fn forward(self, x: &[f32], y: &mut [f32]) {
        self.forward_in(Needs::ALL, x, y);
    }

    /// [`Activation::forward`] in a network that reaches only the activations in `needs`; the
    /// others, which the network does not have, are left out.
    #[inline(always)]
    pub(crate) fn forward_in(self, needs: Needs, x: &[f32], y: &mut [f32]) {
        let pairs = x.iter().zip(y.iter_mut());
        match self {
            _ if !needs.activation(self) => {}
            Activation::Relu => pairs.for_each(|(&x, y)| *y = if x > 0.0 { x } else { 0.0 }),
            Activation::LeakyRelu { slope } => {
                pairs.for_each(|(&x, y)| *y = if x > 0.0 { x } else { slope * x })
            }
            Activation::Sigmoid => pairs.for_each(|(&x, y)| *y = sigmoid(x)),
            Activation::Tanh => pairs.for_each(|(&x, y)| *y = libm::tanhf(x)),
        }
    }

    /// `dx = f'(x) · dy`, element-wise, from the forward's `x` and `y`.
    pub fn backward(self, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        self.backward_in(Needs::ALL, x, y, dy, dx);
    }

    /// [`Activation::backward`] in a network that reaches only the activations in `needs`.
    #[inline(always)]
    pub(crate) fn backward_in(
        self,
        needs: Needs,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) {
        let items = x.iter().zip(y).zip(dy).zip(dx.iter_mut());
        match self {
            _ if !needs.activation(self) => {}
            Activation::Relu => {
                items.for_each(|(((&x, _), &dy), dx)| *dx = if x > 0.0 { dy } else { 0.0 })
            }
            Activation::LeakyRelu { slope } => {
                items.for_each(|(((&x, _), &dy), dx)| *dx = if x > 0.0 { dy } else { slope * dy })
            }
            // σ'(x) = σ(x)(1 − σ(x)) = y(1 − y)
            Activation::Sigmoid => {
                items.for_each(|(((_, &y), &dy), dx)| *dx = dy * (y * (1.0 - y)))
            }
            // tanh'(x) = 1 − tanh²(x) = 1 − y²
            Activation::Tanh => items.for_each(|(((_, &y), &dy), dx)| *dx = dy * (1.0 - y * y)),
        }
    }
}

/// Logistic sigmoid, computed without overflow for any `x`: `e^(−|x|)` never exceeds 1.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::expf(-x))
    } else {
        let e = libm::expf(x);
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::Sigmoid,
        Activation::Tanh,
    ];

    #[test]
    fn derivatives_match_central_differences() {
        // Points away from ReLU's kink, where the derivative is defined.
        let x = [-2.5f32, -0.7, -0.05, 0.03, 0.4, 1.9];
        for act in ALL {
            let mut y = [0.0; 6];
            act.forward(&x, &mut y);
            let dy = [1.0; 6];
            let mut dx = [0.0; 6];
            act.backward(&x, &y, &dy, &mut dx);
            for i in 0..6 {
                let h = 1e-3f64;
                let f = |v: f64| {
                    let mut out = [0.0f32];
                    act.forward(&[v as f32], &mut out);
                    out[0] as f64
                };
                let numeric = (f(x[i] as f64 + h) - f(x[i] as f64 - h)) / (2.0 * h);
                assert!(
                    (numeric - dx[i] as f64).abs() < 2e-3,
                    "{act:?} at {}: {numeric} vs {}",
                    x[i],
                    dx[i]
                );
            }
        }
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert_eq!(sigmoid(-200.0), 0.0);
        assert_eq!(sigmoid(200.0), 1.0);
        assert_eq!(sigmoid(0.0), 0.5);
    }

    #[test]
    fn reference_values() {
        // PyTorch: torch.sigmoid(tensor([-1., 2.])) = [0.26894143, 0.88079703]; torch.tanh(0.5) = 0.46211717
        let mut y = [0.0; 2];
        Activation::Sigmoid.forward(&[-1.0, 2.0], &mut y);
        assert!((y[0] - 0.268_941_43).abs() < 1e-7 && (y[1] - 0.880_797).abs() < 1e-7);
        Activation::Tanh.forward(&[0.5, -3.0], &mut y);
        assert!((y[0] - 0.462_117_17).abs() < 1e-7 && (y[1] + 0.995_054_8).abs() < 1e-7);
        Activation::LEAKY_RELU.forward(&[-2.0, 3.0], &mut y);
        assert_eq!(y, [-0.02, 3.0]);
    }

    /// At ReLU's kink, and for the sign of zero, PyTorch's `threshold` semantics: `relu(±0) = +0`
    /// and the gradient at 0 is 0 (LeakyReLU: the slope); the backward passes scale `dy ≠ 1`.
    #[test]
    fn values_at_the_kink_are_pytorchs() {
        let mut y = [f32::NAN; 2];
        Activation::Relu.forward(&[-0.0, 0.0], &mut y);
        assert_eq!(y.map(f32::to_bits), [0.0f32.to_bits(); 2]);
        let (x, dy) = ([0.0, -1.5, 2.0], [3.0, 3.0, 3.0]);
        let mut dx = [f32::NAN; 3];
        Activation::Relu.backward(&x, &[0.0; 3], &dy, &mut dx);
        assert_eq!(dx, [0.0, 0.0, 3.0]);
        Activation::LEAKY_RELU.backward(&x, &[0.0; 3], &dy, &mut dx);
        assert_eq!(dx, [0.01 * 3.0, 0.01 * 3.0, 3.0]);
        let mut y = [f32::NAN; 3];
        Activation::LEAKY_RELU.forward(&x, &mut y);
        assert_eq!(y, [0.0, -0.015, 2.0]);
        // σ'(x)·dy = y(1 − y)·dy, tanh'(x)·dy = (1 − y²)·dy, at y = 0.5.
        Activation::Sigmoid.backward(&[0.0; 3], &[0.5; 3], &dy, &mut dx);
        assert_eq!(dx, [0.75; 3]);
        Activation::Tanh.backward(&[0.0; 3], &[0.5; 3], &dy, &mut dx);
        assert_eq!(dx, [2.25; 3]);
    }
}
