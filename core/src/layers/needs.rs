//! Which layer code a network runs, known when the program is compiled.
//!
//! A firmware trains one network, fixed at compile time ([`Settings::LAYERS`]). Its dense layers
//! may all have shapes the Cortex-M4F kernels take, and it uses one or two activations: then the
//! Rust loops for other shapes and the other activations (tanh brings libm's `expm1f`) are dead
//! code, which the compiler drops when told. Everything else runs [`Needs::ALL`].
//!
//! [`Settings::LAYERS`]: crate::train::Settings::LAYERS

use crate::layers::Activation;
use crate::spec::Layer;

/// The layer code a network can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// The dense layers' Rust loops: some dense layer has a shape the target's kernels do not take
    /// (or the target has none).
    pub scalar_dense: bool,
    /// [`Activation::Relu`].
    pub relu: bool,
    /// [`Activation::LeakyRelu`].
    pub leaky_relu: bool,
    /// [`Activation::Sigmoid`].
    pub sigmoid: bool,
    /// [`Activation::Tanh`].
    pub tanh: bool,
}

/// The target has the dense kernels of `dense_m4.rs`, which take any dense layer whose input width
/// is a non-zero multiple of eight (and whose output is not empty).
const KERNELS: bool = cfg!(all(target_arch = "arm", target_abi = "eabihf"));

impl Needs {
    /// Every path: a network known only at run time.
    pub const ALL: Needs = Needs {
        scalar_dense: true,
        relu: true,
        leaky_relu: true,
        sigmoid: true,
        tanh: true,
    };

    /// The code `layers` reach on this target.
    pub const fn of(layers: &[Layer]) -> Needs {
        let mut needs = Needs {
            scalar_dense: !KERNELS,
            relu: false,
            leaky_relu: false,
            sigmoid: false,
            tanh: false,
        };
        let mut i = 0;
        while i < layers.len() {
            match layers[i] {
                Layer::Dense { inputs, outputs } => {
                    if inputs == 0 || inputs % 8 != 0 || outputs == 0 {
                        needs.scalar_dense = true;
                    }
                }
                Layer::Activation(Activation::Relu) => needs.relu = true,
                Layer::Activation(Activation::LeakyRelu { .. }) => needs.leaky_relu = true,
                Layer::Activation(Activation::Sigmoid) => needs.sigmoid = true,
                Layer::Activation(Activation::Tanh) => needs.tanh = true,
                Layer::Dropout { .. } | Layer::BatchNorm { .. } => {}
            }
            i += 1;
        }
        needs
    }

    /// `activation`'s code is reachable.
    #[inline(always)]
    pub const fn activation(self, activation: Activation) -> bool {
        match activation {
            Activation::Relu => self.relu,
            Activation::LeakyRelu { .. } => self.leaky_relu,
            Activation::Sigmoid => self.sigmoid,
            Activation::Tanh => self.tanh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_needs_its_activations_and_the_loops_off_the_m4() {
        let layers = [
            Layer::dense(64, 32),
            Layer::Activation(Activation::Relu),
            Layer::dense(32, 10),
        ];
        let needs = Needs::of(&layers);
        assert!(needs.relu && !needs.leaky_relu && !needs.sigmoid && !needs.tanh);
        // The host has no M4 kernels: its dense layers always run the loops.
        assert!(needs.scalar_dense);
        assert!(Needs::of(&[Layer::dense(4, 8), Layer::Activation(Activation::Tanh)]).tanh);
        assert!(Needs::ALL.activation(Activation::LEAKY_RELU));
    }
}
