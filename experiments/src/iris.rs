//! The tiny, quick experiment: Fisher's iris, 4 → 8 → 3 with tanh, Adam.

use tinytrain::loss::Head;
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
    name: "iris",
    data: DataSource::IRIS,
    layers: net::LAYERS,
    head: Head::SoftmaxCrossEntropy,
    config: TrainConfig {
        lr: 0.01,
        batch_size: 8,
        ..TrainConfig::DEFAULT
    },
    epochs: 20,
    validation_fraction: 0.2,
    seed: 7,
    standardize: true,
    early_stopping: None,
};

crate::run::workspace!(net);
