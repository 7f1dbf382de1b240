//! The names of the core's choices (activations, optimisers, schedules, heads, divergence policies,
//! monitored quantities), stated once per enum: `name()`, `FromStr` and `NAMES` all come from one
//! table, so a host's command line and files need no mirror enums.

/// A name that is none of an enum's [`NAMES`](crate::layers::Activation::NAMES).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// The names that are accepted.
    pub names: &'static [&'static str],
}

impl core::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("expected one of: ")?;
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownName {}

/// `names!(Type { "name" => Pattern = value, … })`: `Type::NAMES`, `Type::name()` (the name of
/// the pattern a value matches) and `FromStr` (the value a name stands for, with the choice's
/// default parameters).
macro_rules! names {
    ($ty:ty { $($name:literal => $pattern:pat = $value:expr),+ $(,)? }) => {
        impl $ty {
            /// Every name [`FromStr`](core::str::FromStr) accepts, in order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name of this choice, e.g. as a command line spells it.
            pub const fn name(&self) -> &'static str {
                match self {
                    $($pattern => $name,)+
                }
            }
        }

        impl core::str::FromStr for $ty {
            type Err = $crate::names::UnknownName;

            /// The choice called `name`, with its default parameters.
            fn from_str(name: &str) -> Result<Self, Self::Err> {
                match name {
                    $($name => Ok($value),)+
                    _ => Err($crate::names::UnknownName { names: Self::NAMES }),
                }
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

use crate::layers::Activation;
use crate::loss::Head;
use crate::monitor::Monitor;
use crate::optim::{OptimizerKind, Schedule};
use crate::train::DivergencePolicy;

names!(Activation {
    "relu" => Activation::Relu = Activation::Relu,
    "leaky-relu" => Activation::LeakyRelu { .. } = Activation::LEAKY_RELU,
    "tanh" => Activation::Tanh = Activation::Tanh,
    "sigmoid" => Activation::Sigmoid = Activation::Sigmoid,
});

names!(OptimizerKind {
    "sgd" => OptimizerKind::Sgd { .. } = OptimizerKind::SGD,
    "adam" => OptimizerKind::Adam { .. } = OptimizerKind::ADAM,
    "adamw" => OptimizerKind::AdamW { .. } = OptimizerKind::ADAMW,
});

names!(Schedule {
    "constant" => Schedule::Constant = Schedule::Constant,
    "step" => Schedule::Step { .. } = Schedule::STEP,
    "cosine" => Schedule::Cosine { .. } = Schedule::COSINE,
});

names!(Head {
    "cross-entropy" => Head::SoftmaxCrossEntropy = Head::SoftmaxCrossEntropy,
    "binary-cross-entropy" => Head::SigmoidBinaryCrossEntropy = Head::SigmoidBinaryCrossEntropy,
    "mse" => Head::LinearMse = Head::LinearMse,
    "l1" => Head::LinearL1 = Head::LinearL1,
    "huber" => Head::LinearHuber = Head::LinearHuber,
});

names!(DivergencePolicy {
    "skip" => DivergencePolicy::Skip = DivergencePolicy::Skip,
    "stop" => DivergencePolicy::Stop = DivergencePolicy::Stop,
    "reduce-lr" => DivergencePolicy::ReduceLr { .. } = DivergencePolicy::REDUCE_LR,
});

names!(Monitor {
    "train_loss" => Monitor::TrainLoss = Monitor::TrainLoss,
    "val_loss" => Monitor::ValLoss = Monitor::ValLoss,
    "val_acc" => Monitor::ValAcc = Monitor::ValAcc,
    "val_f1" => Monitor::ValF1 = Monitor::ValF1,
    "val_mae" => Monitor::ValMae = Monitor::ValMae,
});

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name parses to a value whose name it is.
    fn round_trip<T: core::str::FromStr<Err = UnknownName>>(
        names: &[&str],
        name: fn(&T) -> &'static str,
    ) {
        for &n in names {
            let value: T = n.parse().unwrap();
            assert_eq!(name(&value), n);
        }
        assert_eq!(
            "nope".parse::<T>().err().map(|e| e.names.len()),
            Some(names.len())
        );
    }

    #[test]
    fn names_round_trip() {
        round_trip::<Activation>(Activation::NAMES, Activation::name);
        round_trip::<OptimizerKind>(OptimizerKind::NAMES, OptimizerKind::name);
        round_trip::<Schedule>(Schedule::NAMES, Schedule::name);
        round_trip::<Head>(Head::NAMES, Head::name);
        round_trip::<DivergencePolicy>(DivergencePolicy::NAMES, DivergencePolicy::name);
        round_trip::<Monitor>(Monitor::NAMES, Monitor::name);
        assert_eq!(
            "swish".parse::<Activation>().unwrap_err().to_string(),
            "expected one of: relu, leaky-relu, tanh, sigmoid"
        );
        assert_eq!("adamw".parse(), Ok(OptimizerKind::ADAMW));
    }
}
