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

/// `names!(Type { "name" => Variant, "other" => Variant2 { .. } = CONST, … })`: `Type::NAMES`,
/// `Type::name()` (the name of the variant a value is) and `FromStr` (the value a name stands for:
/// the unit variant, or for a variant with fields the constant holding its default parameters).
macro_rules! names {
    ($ty:ty { $($name:literal => $variant:ident $({ .. } = $value:ident)?),+ $(,)? }) => {
        impl $ty {
            /// Every name [`FromStr`](core::str::FromStr) accepts, in order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name of this choice, e.g. as a command line spells it.
            pub const fn name(&self) -> &'static str {
                match self {
                    $(names!(@pattern $variant $($value)?) => $name,)+
                }
            }
        }

        impl core::str::FromStr for $ty {
            type Err = $crate::names::UnknownName;

            /// The choice called `name`, with its default parameters.
            fn from_str(name: &str) -> Result<Self, Self::Err> {
                match name {
                    $($name => Ok(names!(@value $variant $($value)?)),)+
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
    (@pattern $variant:ident) => { Self::$variant };
    (@pattern $variant:ident $value:ident) => { Self::$variant { .. } };
    (@value $variant:ident) => { Self::$variant };
    (@value $variant:ident $value:ident) => { Self::$value };
}

use crate::layers::Activation;
use crate::loss::Head;
use crate::monitor::Monitor;
use crate::optim::{OptimizerKind, Schedule};
use crate::train::DivergencePolicy;

names!(Activation {
    "relu" => Relu, "leaky-relu" => LeakyRelu { .. } = LEAKY_RELU, "tanh" => Tanh, "sigmoid" => Sigmoid
});

names!(OptimizerKind {
    "sgd" => Sgd { .. } = SGD, "adam" => Adam { .. } = ADAM, "adamw" => AdamW { .. } = ADAMW
});

names!(Schedule {
    "constant" => Constant, "step" => Step { .. } = STEP, "cosine" => Cosine { .. } = COSINE,
    "plateau" => Plateau { .. } = PLATEAU
});

names!(Head {
    "cross-entropy" => SoftmaxCrossEntropy, "binary-cross-entropy" => SigmoidBinaryCrossEntropy,
    "mse" => LinearMse, "l1" => LinearL1, "huber" => LinearHuber
});

names!(DivergencePolicy {
    "skip" => Skip, "stop" => Stop, "reduce-lr" => ReduceLr { .. } = REDUCE_LR
});

names!(Monitor {
    "train_loss" => TrainLoss, "val_loss" => ValLoss, "val_acc" => ValAcc, "val_f1" => ValF1,
    "val_mae" => ValMae
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
