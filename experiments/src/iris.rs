//! The tiny, quick experiment: Fisher's iris, 4 → 8 → 3 with tanh, Adam.

use tinytrain::train::TrainConfig;

use crate::datasets::DataSource;
use crate::experiment::Experiment;

tinytrain::network! {
    /// 4 measurements → 8 tanh units → 3 species logits.
    pub net = [
        Layer::dense(4, 8),
        Layer::Activation(Activation::Tanh),
        Layer::dense(8, 3),
    ]
}

/// Iris: 80/20 stratified split, standardised features, Adam at 0.01 with batches of 8, 20 epochs,
/// seed 7.
pub const EXPERIMENT: Experiment = Experiment {
    config: TrainConfig {
        lr: 0.01,
        batch_size: 8,
        ..TrainConfig::DEFAULT
    },
    epochs: 20,
    seed: 7,
    ..Experiment::classifier("iris", DataSource::IRIS, net::LAYERS)
};

crate::run::workspace!(net);
