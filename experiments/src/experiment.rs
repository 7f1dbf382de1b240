//! What an experiment is: everything that decides its numbers, in one `Copy` value.

use tinytrain::early_stop::EarlyStoppingConfig;
use tinytrain::loss::Head;
use tinytrain::network::Buffers;
use tinytrain::spec::{Layer, ShapeError};
use tinytrain::train::{TrainConfig, Trainer};

use crate::datasets::DataSource;
use crate::run::MAX_CLASSES;

/// Longest [`Experiment::name`] a device can report (its summary frame holds the name; the
/// firmware generated for a user's CSV is named after the file, cut to this length).
pub const NAME_CAPACITY: usize = 64;

/// One training run, fully specified: data, split, model, head, hyper-parameters, seed, epochs.
///
/// Two runs of the same `Experiment` — on a host or on a microcontroller — compute the same bits
/// (see [`run`](crate::run())).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Experiment {
    /// Short name, used in logs and on the command line.
    pub name: &'static str,
    /// The embedded dataset.
    pub data: DataSource,
    /// The network.
    pub layers: &'static [Layer],
    /// The output head.
    pub head: Head,
    /// Optimiser, learning rate, batch size, shuffling.
    pub config: TrainConfig,
    /// Epochs to train.
    pub epochs: u32,
    /// Fraction of each class held out for validation (stratified, see [`tinytrain::data::split`]).
    pub validation_fraction: f32,
    /// The one seed: split, weight initialisation, shuffling and dropout draw independent streams.
    pub seed: u64,
    /// Standardise the features (and a regression target) with statistics of the training rows.
    pub standardize: bool,
    /// Early stopping ([`tinytrain::early_stop`]); `None`: every epoch runs. With
    /// `restore_best_weights`, [`run`](crate::run()) needs a snapshot buffer of
    /// [`Experiment::snapshot_len`] floats.
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Initial parameters (the network's flat layout), then optionally its batch-norm statistics
    /// buffer (`Mlp::model`'s order), instead of the seeded initialisation (`tinytrain train
    /// --device --init`); `None`: seeded, or built in with `TINYTRAIN_INIT_WEIGHTS`
    /// ([`crate::init`]).
    pub init: Option<&'static [f32]>,
    /// Standardisation statistics fixed in advance instead of fitted on the training rows: a
    /// shipped model's, which its first layers were trained behind (`tinytrain train --device
    /// --init` of a weights.json that carries them). Used only with `standardize`.
    pub statistics: Option<Statistics>,
    /// The network reproduces its (standardised) inputs: an autoencoder, whose samples carry no
    /// target and whose reconstruction error scores anomalies. Streams only
    /// ([`crate::stream`]); [`run`](crate::run()) trains classifiers and regressions.
    pub reconstruct: bool,
}

/// The statistics `x' = (x − mean) · scale` of [`Experiment::statistics`], one per feature, and
/// a regression target's `(mean, scale)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Statistics {
    /// Per-feature mean.
    pub mean: &'static [f32],
    /// Per-feature scale, `1 / sqrt(variance + 1e-5)`.
    pub scale: &'static [f32],
    /// A regression target's mean and scale (`None`: fitted, as without fixed statistics).
    pub target: Option<(f32, f32)>,
}

impl Experiment {
    /// A classifier on `data` with `layers` and the defaults: softmax cross-entropy,
    /// [`TrainConfig::DEFAULT`], 10 epochs, a stratified 80/20 split, seed 1, standardised features,
    /// no early stopping.
    pub const fn classifier(
        name: &'static str,
        data: DataSource,
        layers: &'static [Layer],
    ) -> Self {
        Self {
            name,
            data,
            layers,
            head: Head::SoftmaxCrossEntropy,
            config: TrainConfig::DEFAULT,
            epochs: 10,
            validation_fraction: 0.2,
            seed: 1,
            standardize: true,
            early_stopping: None,
            init: None,
            statistics: None,
            reconstruct: false,
        }
    }

    /// The experiment's trainer over `buffers`, its parameters initialised from its seed.
    pub fn trainer<'a>(
        &'a self,
        buffers: Buffers<'a>,
    ) -> Result<Trainer<'a, MAX_CLASSES>, ShapeError> {
        Trainer::new(self.layers, buffers, self.config, self.head, self.seed)
    }

    /// Number of classes (0 for regression).
    pub const fn classes(&self) -> usize {
        match self.head {
            Head::SoftmaxCrossEntropy | Head::SigmoidBinaryCrossEntropy => self.data.classes(),
            _ => 0,
        }
    }

    /// Rows of the dataset: the length of the index buffer, which holds the split's training and
    /// validation indices ([`tinytrain::data::split_in_place`]).
    pub const fn train_capacity(&self) -> usize {
        self.data.rows()
    }

    /// Parameters read in place from the shipped model ([`Experiment::init`], in flash on a device)
    /// instead of held in RAM ([`Buffers::front`]): the frozen layers' ([`TrainConfig::freeze`])
    /// when there is a model; else 0.
    pub const fn in_place_params(&self) -> usize {
        match self.init {
            Some(_) => tinytrain::spec::frozen_params(self.layers, self.config.freeze as usize),
            None => 0,
        }
    }

    /// The shipped model's parameters read in place ([`Experiment::in_place_params`] of
    /// [`Experiment::init`]; empty without).
    pub fn front(&self) -> &'static [f32] {
        self.init
            .and_then(|model| model.get(..self.in_place_params()))
            .unwrap_or(&[])
    }

    /// Floats of the best-weights snapshot a network of `params` parameters needs (0 without early
    /// stopping or without restoring).
    pub const fn snapshot_len(&self, params: usize) -> usize {
        match &self.early_stopping {
            Some(config) => config.snapshot_len(params),
            None => 0,
        }
    }
}
