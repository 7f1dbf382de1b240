//! The default experiment: handwritten digits, 64 → 32 → 10 with ReLU and dropout, Adam.
//!
//! Sized for a microcontroller with 64 KiB of RAM: parameters, gradients and Adam's two moments are
//! 4 × 2410 floats (38.6 KB), the split's index buffers 1797 + 370 words (8.7 KB).

use crate::datasets::DataSource;
use crate::experiment::Experiment;

tinytrain::network! {
    /// 64 pixels → 32 ReLU units with dropout 0.1 → 10 digit logits.
    pub net = [
        Layer::dense(64, 32),
        Layer::Activation(Activation::Relu),
        Layer::Dropout { p: 0.1 },
        Layer::dense(32, 10),
    ]
}

/// Handwritten digits: 80/20 stratified split, standardised pixels, Adam at 1e-3 with batches of 32
/// (gradient accumulation), 10 epochs, seed 42.
pub const EXPERIMENT: Experiment = Experiment {
    seed: 42,
    ..Experiment::classifier("digits", DataSource::DIGITS, net::LAYERS)
};

crate::run::workspace!(net);

const _: () = assert!(DataSource::DIGITS.rows() == TRAIN_CAPACITY);
