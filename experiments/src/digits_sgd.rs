//! Digits for the smallest parts: the [`digits`] network, split and seed, trained by
//! plain SGD at batch 1, which fuses every update into the backward pass. The run then needs no
//! gradient buffer and no optimiser state
//! ([`TrainConfig::trains_without_gradients`](tinytrain::train::TrainConfig::trains_without_gradients)):
//! the network's RAM is its parameters, activations, deltas and one mask word, 10,580 bytes, so
//! that it trains on a 16 KB Cortex-M0 (the micro:bit).

use tinytrain::optim::OptimizerKind;
use tinytrain::train::TrainConfig;

use crate::digits;
use crate::experiment::Experiment;

/// Digits as in [`digits::EXPERIMENT`], with plain SGD at 0.01 on single samples.
pub const EXPERIMENT: Experiment = Experiment {
    name: "digits_sgd",
    config: TrainConfig {
        lr: 0.01,
        optimizer: OptimizerKind::SGD,
        batch_size: 1,
        ..TrainConfig::DEFAULT
    },
    ..digits::EXPERIMENT
};

use digits::net;
crate::run::workspace!(net);

const _: () = assert!(EXPERIMENT.config.trains_without_gradients() && GRADS == 0 && STATE == 0);
const _: () = assert!(net::PLAN.fused_sgd_bytes() == 10_580);
