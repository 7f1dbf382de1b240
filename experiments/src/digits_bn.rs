//! Digits with batch normalisation: the [`digits`] network with a
//! `BatchNorm1d(32)` between the hidden dense layer and its ReLU (PyTorch's usual
//! `Linear → BatchNorm1d → ReLU → Dropout`), Adam at 1e-3 on mini-batches of 8.
//!
//! A batch norm normalises over the mini-batch, so the buffers hold all 8 samples at once
//! (`batch = 8` below): activations and deltas ×8, 6.5 KB and 4.1 KB, and 768 B of statistics, on
//! top of the 39.6 KB of parameters, gradients and Adam moments. Within 64 KiB of RAM.

use tinytrain::train::TrainConfig;

use crate::digits;
use crate::experiment::Experiment;

tinytrain::network! {
    /// 64 pixels → 32 units, batch-normalised, ReLU, dropout 0.1 → 10 digit logits.
    pub net = [
        Layer::dense(64, 32),
        Layer::batch_norm(32),
        Layer::Activation(Activation::Relu),
        Layer::Dropout { p: 0.1 },
        Layer::dense(32, 10),
    ],
    batch = 8
}

/// Mini-batch size: the batch the buffers hold.
pub const BATCH: u32 = net::BATCH as u32;

/// Digits as in [`digits::EXPERIMENT`], with the batch norm and batches of [`BATCH`].
pub const EXPERIMENT: Experiment = Experiment {
    name: "digits_bn",
    layers: net::LAYERS,
    config: TrainConfig {
        batch_size: BATCH,
        ..digits::EXPERIMENT.config
    },
    ..digits::EXPERIMENT
};

crate::run::workspace!(net);

const _: () = assert!(net::BATCH_PLAN.batch == EXPERIMENT.config.batch_size as usize);
