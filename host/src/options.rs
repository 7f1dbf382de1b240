//! The options of `tinytrain train`, their defaults, and the [`TrainSpec`] they resolve to.
//!
//! Command-line text becomes a [`TrainArgs`] (clap), which resolves into a [`TrainSpec`] in the core's
//! own types. Every check lives in one small function used both by clap (so a bad value is reported
//! with the option's name) and by [`TrainSpec::validate`] (for specs built in code, as the benchmark
//! presets are).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{anyhow, bail};
use tinytrain::early_stop::EarlyStoppingConfig;
use tinytrain::layers::Activation;
use tinytrain::loss::Head;
use tinytrain::monitor::Monitor;
use tinytrain::optim::plateau::ReduceLrOnPlateau;
use tinytrain::optim::{OptimizerKind, Schedule};
use tinytrain::spec::Layer;
use tinytrain::train::{DivergencePolicy, TrainConfig};

use crate::csv_data::{Delimiter, Task};

/// The defaults of every option, in one place.
pub mod defaults {
    use super::Normalize;
    use tinytrain::layers::Activation;
    use tinytrain::loss::Head;
    use tinytrain::train::TrainConfig;

    /// Data file.
    pub const DATA: &str = "data/digits.csv";
    /// Hidden layer widths.
    pub const HIDDEN: &[usize] = &[64];
    /// Hidden activation.
    pub const ACTIVATION: Activation = Activation::Relu;
    /// Dropout probability after each hidden activation.
    pub const DROPOUT: f32 = 0.1;
    /// Loss of a regression (classification always uses cross-entropy).
    pub const REGRESSION_LOSS: Head = Head::LinearMse;
    /// Feature (and regression target) normalisation.
    pub const NORMALIZE: Normalize = Normalize::Standard;
    /// Base learning rate (the core's default, with Adam).
    pub const LR: f32 = TrainConfig::DEFAULT.lr;
    /// SGD momentum (PyTorch's default).
    pub const MOMENTUM: f32 = 0.0;
    /// Weight decay for SGD and Adam (PyTorch's default).
    pub const WEIGHT_DECAY: f32 = 0.0;
    /// Weight decay for AdamW (PyTorch's default).
    pub const ADAMW_WEIGHT_DECAY: f32 = 0.01;
    /// Epochs between decays of the step schedule.
    pub const STEP_SIZE: u32 = 10;
    /// Decay factor of the step schedule (PyTorch's default).
    pub const GAMMA: f32 = 0.1;
    /// Samples per optimiser step.
    pub const BATCH: u32 = TrainConfig::DEFAULT.batch_size;
    /// Passes over the training rows.
    pub const EPOCHS: u32 = 30;
    /// Seed of the split, the initialisation, dropout and shuffling.
    pub const SEED: u64 = 1;
    /// Share of the rows held out for validation.
    pub const VAL_FRACTION: f32 = 0.2;
    /// Quantile of the validation rows' reconstruction errors that an autoencoder's anomaly
    /// threshold is: 1 normal row in 20 is flagged.
    pub const THRESHOLD_QUANTILE: f32 = 0.95;
}

/// The `--loss` choices: the regression heads.
pub const REGRESSION_LOSSES: &[&str] = &["mse", "l1", "huber"];

/// The `--monitor` choices.
pub const MONITORS: &[&str] = &["val_loss", "val_acc", "val_mae"];

/// A clap parser for one of the core's named choices (see [`tinytrain::names`]), restricted to
/// `names`: `--help` and errors list them.
fn choice<T>(names: &'static [&'static str]) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: FromStr<Err = tinytrain::names::UnknownName> + Clone + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names).try_map(|name| name.parse::<T>())
}

/// Serde by the core's names (`"l1"`, not `"LinearL1"`), for the manifest.
mod by_name {
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: serde::Serializer>(
        value: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: serde::Deserializer<'de>,
    {
        let name: Option<String> = serde::Deserialize::deserialize(d)?;
        name.map(|n| n.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Input normalisation.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Standardise each feature (and a regression target) with training-set mean and std
    Standard,
    /// Use the values as they are
    None,
}

/// A learning-rate schedule whose cosine length follows the number of epochs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The base rate throughout.
    Constant,
    /// `lr·γ^⌊epoch / step_size⌋`.
    Step {
        /// Epochs between decays.
        step_size: u32,
        /// Decay factor.
        gamma: f32,
    },
    /// Cosine annealing to 0 with `T_max` = the number of epochs.
    Cosine,
    /// Keras' ReduceLROnPlateau.
    Plateau(ReduceLrOnPlateau),
}

impl LrSchedule {
    /// The core's schedule for a run of `epochs` epochs.
    pub fn schedule(self, epochs: u32) -> Schedule {
        match self {
            LrSchedule::Constant => Schedule::Constant,
            LrSchedule::Step { step_size, gamma } => Schedule::Step { step_size, gamma },
            LrSchedule::Cosine => Schedule::Cosine {
                t_max: epochs,
                eta_min: 0.0,
            },
            LrSchedule::Plateau(plateau) => Schedule::Plateau(plateau),
        }
    }
}

/// Hidden layer widths: `64,32`, or `""` / `none` for none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiddenLayers(pub Vec<usize>);

impl FromStr for HiddenLayers {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("none") {
            return Ok(HiddenLayers(Vec::new()));
        }
        let widths = text
            .split(',')
            .map(|w| match w.trim().parse::<usize>() {
                Ok(0) | Err(_) => Err(format!(
                    "'{}' is not a layer width (a whole number ≥ 1)",
                    w.trim()
                )),
                Ok(width) => Ok(width),
            })
            .collect::<Result<_, _>>()?;
        Ok(HiddenLayers(widths))
    }
}

impl fmt::Display for HiddenLayers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let widths: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&widths.join(","))
    }
}

/// `--task`: the label column's two tasks, or reconstructing the features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    /// Predict one of a set of classes
    Classification,
    /// Predict a number
    Regression,
    /// Reconstruct the features (anomaly detection): the network's outputs are its inputs, the
    /// label column stays out of them (it can pick the normal rows: --normal); at the end a
    /// threshold on the reconstruction error from the validation rows goes into threshold.json
    Autoencoder,
}

/// `tinytrain train`'s options.
#[derive(Clone, Debug, clap::Args)]
pub struct TrainArgs {
    /// CSV file: a header row, then one sample per row (also looked up in the workspace's data/)
    #[arg(long, value_name = "FILE.csv", default_value = defaults::DATA)]
    pub data: PathBuf,
    /// Label column [default: the last column]
    #[arg(long, value_name = "COLUMN", conflicts_with = "targets")]
    pub label: Option<String>,
    /// Several regression targets: these columns, comma-separated, in the network's output order
    /// (a linear head with one output each; with --normalize standard each column is
    /// standardised by its own statistics and the per-epoch errors are in standard deviations)
    #[arg(long, value_name = "COLUMN,...", value_delimiter = ',')]
    pub targets: Vec<String>,
    /// Task [default: detected from the label column]
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Cell separator of the CSV file: one ASCII character, e.g. ';' ("tab" or \t for a tab)
    #[arg(long, value_name = "CHAR", default_value_t = Delimiter::COMMA)]
    pub delimiter: Delimiter,
    /// Columns to leave out, by name, comma-separated (e.g. an id or a text column)
    #[arg(long, value_name = "COLUMN,...", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Leave out every row with a missing cell (empty, NA, NaN) in a used column instead of
    /// stopping at the first; stderr says how many rows, and how many cells per column
    #[arg(long)]
    pub drop_missing: bool,
    /// Hidden layer widths, comma-separated ("" or "none": no hidden layer)
    #[arg(long, value_name = "WIDTHS", default_value_t = HiddenLayers(defaults::HIDDEN.to_vec()), allow_negative_numbers = true)]
    pub hidden: HiddenLayers,
    /// Hidden activation
    #[arg(long, value_parser = choice::<Activation>(Activation::NAMES), default_value_t = defaults::ACTIVATION)]
    pub activation: Activation,
    /// Regression loss [default: mse; classification always uses cross-entropy]
    #[arg(long, value_parser = choice::<Head>(REGRESSION_LOSSES))]
    pub loss: Option<Head>,
    /// Batch normalisation after every hidden dense layer, before its activation (PyTorch's
    /// BatchNorm1d: Linear → BatchNorm1d → activation → dropout); needs --batch 2 or more
    #[arg(long)]
    pub batch_norm: bool,
    /// Dropout probability after each hidden activation, in [0, 1)
    #[arg(long, value_name = "P", default_value_t = defaults::DROPOUT, value_parser = checked(dropout), allow_negative_numbers = true)]
    pub dropout: f32,
    /// Input normalisation
    #[arg(long, value_enum, default_value_t = defaults::NORMALIZE)]
    pub normalize: Normalize,
    /// Optimiser: SGD (with --momentum, --nesterov), Adam (L2 weight decay), AdamW (decoupled)
    #[arg(long, value_parser = choice::<OptimizerKind>(OptimizerKind::NAMES), default_value_t = TrainConfig::DEFAULT.optimizer)]
    pub optimizer: OptimizerKind,
    /// Base learning rate
    #[arg(long, value_name = "RATE", default_value_t = defaults::LR, value_parser = checked(positive), allow_negative_numbers = true)]
    pub lr: f32,
    /// Momentum factor (SGD only)
    #[arg(long, default_value_t = defaults::MOMENTUM, value_parser = checked(non_negative), allow_negative_numbers = true)]
    pub momentum: f32,
    /// Nesterov momentum (SGD with --momentum > 0)
    #[arg(long)]
    pub nesterov: bool,
    /// Weight decay: L2 penalty for SGD and Adam, decoupled for AdamW [default: 0; AdamW: 0.01]
    #[arg(long, value_name = "DECAY", value_parser = checked(non_negative), allow_negative_numbers = true)]
    pub weight_decay: Option<f32>,
    /// Learning-rate schedule: constant, step (× --gamma every --step-size epochs), cosine (to 0 over
    /// all epochs), plateau (Keras' ReduceLROnPlateau: × --plateau-factor when --plateau-monitor has
    /// not improved for --plateau-patience epochs)
    #[arg(long, value_parser = choice::<Schedule>(Schedule::NAMES), default_value_t = TrainConfig::DEFAULT.schedule)]
    pub schedule: Schedule,
    /// Epochs between decays (--schedule step)
    #[arg(long, value_name = "EPOCHS", default_value_t = defaults::STEP_SIZE,
          value_parser = whole(1, u32::MAX), allow_negative_numbers = true)]
    pub step_size: u32,
    /// Decay factor (--schedule step)
    #[arg(long, default_value_t = defaults::GAMMA, value_parser = checked(positive), allow_negative_numbers = true)]
    pub gamma: f32,
    /// The quantity --schedule plateau watches [default: val_loss]
    #[arg(long, value_parser = choice::<Monitor>(MONITORS))]
    pub plateau_monitor: Option<Monitor>,
    /// --schedule plateau multiplies the rate by this, in (0, 1) [default: 0.1]
    #[arg(long, value_name = "F", value_parser = checked(fraction), allow_negative_numbers = true)]
    pub plateau_factor: Option<f32>,
    /// Epochs without improvement before --schedule plateau reduces the rate [default: 10]
    #[arg(long, value_name = "N", value_parser = whole(0, u32::MAX), allow_negative_numbers = true)]
    pub plateau_patience: Option<u32>,
    /// Smallest change of --plateau-monitor that counts as an improvement [default: 0.0001]
    #[arg(long, value_name = "DELTA", value_parser = checked(non_negative), allow_negative_numbers = true)]
    pub plateau_min_delta: Option<f32>,
    /// Epochs after a reduction before --schedule plateau counts epochs without improvement again [default: 0]
    #[arg(long, value_name = "N", value_parser = whole(0, u32::MAX), allow_negative_numbers = true)]
    pub cooldown: Option<u32>,
    /// --schedule plateau never reduces the rate below this [default: 0]
    #[arg(long, value_name = "RATE", value_parser = checked(non_negative), allow_negative_numbers = true)]
    pub min_lr: Option<f32>,
    /// Clip each mini-batch gradient to this global L2 norm
    #[arg(long, value_name = "NORM", value_parser = checked(positive), allow_negative_numbers = true)]
    pub clip_norm: Option<f32>,
    /// What a non-finite loss or gradient does (the sample or step is always skipped and counted)
    #[arg(long, value_parser = choice::<DivergencePolicy>(DivergencePolicy::NAMES), default_value_t = TrainConfig::DEFAULT.divergence)]
    pub on_divergence: DivergencePolicy,
    /// Learning-rate factor of --on-divergence reduce-lr, in (0, 1)
    #[arg(long, value_name = "F", default_value_t = 0.5, value_parser = checked(fraction), allow_negative_numbers = true)]
    pub divergence_lr_factor: f32,
    /// Samples per optimiser step
    #[arg(long, value_name = "N", default_value_t = defaults::BATCH, value_parser = whole(1, u32::MAX), allow_negative_numbers = true)]
    pub batch: u32,
    /// Passes over the training rows (with --resume: the new total) [default: 30; with --resume: the run's]
    #[arg(long, value_name = "N", value_parser = whole(1, u32::MAX), allow_negative_numbers = true)]
    pub epochs: Option<u32>,
    /// Seed of the split, the initialisation, dropout and shuffling
    #[arg(long, value_name = "N", default_value_t = defaults::SEED, value_parser = whole(0, u64::MAX), allow_negative_numbers = true)]
    pub seed: u64,
    /// Share of the rows held out for validation (stratified by class or target value), in (0, 1)
    #[arg(long, value_name = "F", default_value_t = defaults::VAL_FRACTION, value_parser = checked(fraction), allow_negative_numbers = true)]
    pub val_fraction: f32,
    /// Keep the training rows in file order instead of shuffling them every epoch
    #[arg(long)]
    pub no_shuffle: bool,
    /// Run directory for metrics, weights and manifest [default: runs/DATA-seedN, e.g. runs/iris-seed1, or
    /// runs/iris-seed1-2, -3, … when taken]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace --out DIR even if it holds a run (the old one stays until the new one has its first
    /// epoch)
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Start from these weights (a weights.json or init.json of an earlier run) instead of a random init
    #[arg(long, value_name = "FILE.json")]
    pub init: Option<PathBuf>,
    /// Do not train these layers (numbered as weights.json lists them: 0 is the first dense
    /// layer), comma-separated; they must be the first ones (0, or 0,1, …): the backward pass stops
    /// below the lowest trainable layer, and frozen layers keep no gradients or optimiser state.
    /// Fine-tuning a shipped model: --init its weights.json, --freeze 0
    #[arg(long, value_name = "LAYER,...", value_delimiter = ',')]
    pub freeze: Vec<usize>,
    /// With --task autoencoder: train on the rows of this label class only (the normal ones); the
    /// other classes are the anomalies threshold.json scores the threshold against
    #[arg(long, value_name = "CLASS")]
    pub normal: Option<String>,
    /// With --task autoencoder: the quantile of the validation rows' reconstruction errors that
    /// becomes the anomaly threshold (numpy.quantile's default, linear interpolation)
    #[arg(long, value_name = "Q", default_value_t = defaults::THRESHOLD_QUANTILE, value_parser = checked(fraction))]
    pub threshold_quantile: f32,
    /// Continue the run in DIR from its checkpoint.bin (bit-identical to an uninterrupted run): its
    /// manifest's options apply; --epochs sets the new total; other options must agree with the run's
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "init"])]
    pub resume: Option<PathBuf>,
    /// Stop when --monitor has not improved for --patience epochs (Keras' EarlyStopping)
    #[arg(long)]
    pub early_stopping: bool,
    /// Epochs without improvement before early stopping; implies --early-stopping [default: 5]
    #[arg(long, value_name = "N", value_parser = whole(0, u32::MAX), allow_negative_numbers = true)]
    pub patience: Option<u32>,
    /// The quantity early stopping watches (lower loss and MAE, higher accuracy is better) [default: val_loss]
    #[arg(long, value_parser = choice::<Monitor>(MONITORS))]
    pub monitor: Option<Monitor>,
    /// Smallest change of --monitor that counts as an improvement [default: 0]
    #[arg(long, value_name = "DELTA", value_parser = checked(non_negative), allow_negative_numbers = true)]
    pub min_delta: Option<f32>,
    /// Early stopping ignores epochs 1..=N (a warm-up) [default: 0]
    #[arg(long, value_name = "N", value_parser = whole(0, u32::MAX), allow_negative_numbers = true)]
    pub start_from_epoch: Option<u32>,
    /// Save the best epoch's weights of --monitor as weights.json (the default with early
    /// stopping); alone, training runs every epoch and keeps the best (Keras'
    /// ModelCheckpoint(save_best_only=True))
    #[arg(long, overrides_with = "no_restore_best")]
    pub restore_best: bool,
    /// Save the last epoch's weights even with early stopping
    #[arg(long)]
    pub no_restore_best: bool,
    /// Do not draw curves.png and curves.svg into the run directory at the end
    #[arg(long)]
    pub no_plot: bool,
    /// Also write the run as TensorBoard event files into DIR/<run name>/ (every epoch's metrics,
    /// the options, the diagnosis events); `tensorboard --logdir DIR` shows the runs side by side
    #[arg(long, value_name = "DIR", conflicts_with = "build_only")]
    pub tensorboard: Option<PathBuf>,
    /// No per-epoch lines and no progress bar
    #[arg(long, short)]
    pub quiet: bool,
    /// Train on a board instead of the host: qemu (= mps2-an386), netduinoplus2, stm32f411,
    /// nrf52840 (`tinytrain boards`); the host verifies every epoch bit for bit
    #[arg(long, value_name = "BOARD", conflicts_with_all = ["resume", "experiment"])]
    pub device: Option<String>,
    /// The probe-rs chip name for --device [default: the board's, e.g. STM32F411CEUx]
    #[arg(long, value_name = "NAME", requires = "device")]
    pub chip: Option<String>,
    /// Which debug probe for --device (probe-rs's VID:PID[:SERIAL]) [default: the only one attached]
    #[arg(long, value_name = "SELECTOR", requires = "device")]
    pub probe: Option<String>,
    /// With --device: do not train on the host to compare every epoch
    #[arg(long, requires = "device")]
    pub no_verify: bool,
    /// With --device: build the firmware into the run directory (device.elf, manifest.json) and
    /// stop, to flash and run it with your own tools (probe-rs run, then tinytrain monitor)
    #[arg(long, requires = "device")]
    pub build_only: bool,
    /// The device learns from the training rows streamed to it over its UART as they arrive
    /// (sample frames; an epoch per pass over them) instead of from data in its flash, which then
    /// holds only the model (with --init, a shipped one) and the standardisation. With --device: a
    /// QEMU board run here, or --build-only for a board; with --port: a board already running it.
    /// The host replays the same stream and compares every epoch
    #[arg(long)]
    pub stream: bool,
    /// With --stream: the serial port of a board running the stream firmware (built with --device
    /// BOARD --stream --build-only, then flashed), instead of --device: the samples go out on it and
    /// the device's epochs come back on it
    #[arg(
        long,
        value_name = "PATH",
        requires = "stream",
        conflicts_with = "device"
    )]
    pub port: Option<PathBuf>,
    /// With --port: its baud rate
    #[arg(
        long,
        value_name = "BAUD",
        default_value_t = 115_200,
        requires = "port"
    )]
    pub baud: u32,
    /// With --stream: send at most N samples a second (a board's UART without flow control must not
    /// outrun its learning) [default: as fast as the device reads them]
    #[arg(long, value_name = "N", requires = "stream", value_parser = checked(positive))]
    pub rate: Option<f32>,
    /// With --device: plain lines instead of the live view on a terminal
    #[arg(long, requires = "device")]
    pub plain: bool,
    /// Run a shared experiment of the firmware (digits, iris, iris_es, digits_sgd) natively instead of a CSV
    /// run; writes metrics.jsonl, metrics.csv and events.jsonl [default --out: runs/experiment-NAME]
    #[arg(long, value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(tinytrain_experiments::ALL.map(|e| e.name)),
          conflicts_with_all = ["data", "label", "targets", "task", "delimiter", "ignore",
                                "drop_missing", "hidden", "batch_norm",
                                "activation", "loss", "dropout", "normalize", "optimizer", "lr", "momentum", "nesterov", "weight_decay",
                                "schedule", "step_size", "gamma", "plateau_monitor", "plateau_factor",
                                "plateau_patience", "plateau_min_delta", "cooldown", "min_lr",
                                "clip_norm", "batch", "epochs",
                                "seed", "val_fraction", "no_shuffle", "init", "resume"])]
    pub experiment: Option<String>,
}

impl TrainArgs {
    /// Early stopping as the options set it (`None`: neither `--early-stopping` nor `--patience`).
    pub fn early_stopping_config(&self) -> anyhow::Result<Option<EarlyStoppingConfig>> {
        if !self.early_stopping && self.patience.is_none() {
            let stray = self.min_delta.is_some()
                || self.start_from_epoch.is_some()
                || self.no_restore_best
                || (self.monitor.is_some() && !self.restore_best);
            if stray {
                bail!("--min-delta, --start-from-epoch and --no-restore-best apply with --early-stopping or --patience, --monitor with those or --restore-best");
            }
            // `--restore-best` alone: Keras' ModelCheckpoint(save_best_only=True).
            return Ok(self.restore_best.then(|| {
                EarlyStoppingConfig::best_only(
                    self.monitor
                        .unwrap_or(EarlyStoppingConfig::default().monitor),
                )
            }));
        }
        let defaults = EarlyStoppingConfig::default();
        Ok(Some(EarlyStoppingConfig {
            monitor: self.monitor.unwrap_or(defaults.monitor),
            direction: None,
            min_delta: self.min_delta.unwrap_or(defaults.min_delta),
            patience: self.patience.unwrap_or(defaults.patience),
            start_from_epoch: self.start_from_epoch.unwrap_or(defaults.start_from_epoch),
            restore_best_weights: !self.no_restore_best,
        }))
    }

    /// ReduceLROnPlateau as the options set it, Keras' defaults for the rest.
    fn plateau(&self) -> ReduceLrOnPlateau {
        let keras = ReduceLrOnPlateau::DEFAULT;
        ReduceLrOnPlateau {
            monitor: self.plateau_monitor.unwrap_or(keras.monitor),
            factor: self.plateau_factor.unwrap_or(keras.factor),
            patience: self.plateau_patience.unwrap_or(keras.patience),
            min_delta: self.plateau_min_delta.unwrap_or(keras.min_delta),
            cooldown: self.cooldown.unwrap_or(keras.cooldown),
            min_lr: self.min_lr.unwrap_or(keras.min_lr),
        }
    }

    /// The run these options describe.
    pub fn spec(&self) -> anyhow::Result<TrainSpec> {
        let weight_decay = self.weight_decay;
        let sgd = matches!(self.optimizer, OptimizerKind::Sgd { .. });
        let optimizer = match self.optimizer {
            OptimizerKind::Sgd { .. } => OptimizerKind::Sgd {
                momentum: self.momentum,
                nesterov: self.nesterov,
                weight_decay: weight_decay.unwrap_or(defaults::WEIGHT_DECAY),
            },
            OptimizerKind::Adam { .. } => self
                .optimizer
                .with_weight_decay(weight_decay.unwrap_or(defaults::WEIGHT_DECAY)),
            OptimizerKind::AdamW { .. } => self
                .optimizer
                .with_weight_decay(weight_decay.unwrap_or(defaults::ADAMW_WEIGHT_DECAY)),
        };
        if !sgd && (self.momentum != defaults::MOMENTUM || self.nesterov) {
            bail!("--momentum and --nesterov apply to --optimizer sgd only");
        }
        let schedule = match self.schedule {
            Schedule::Constant => LrSchedule::Constant,
            Schedule::Step { .. } => LrSchedule::Step {
                step_size: self.step_size,
                gamma: self.gamma,
            },
            Schedule::Cosine { .. } => LrSchedule::Cosine,
            Schedule::Plateau(_) => LrSchedule::Plateau(self.plateau()),
        };
        let plateau_options = self.plateau_monitor.is_some()
            || self.plateau_factor.is_some()
            || self.plateau_patience.is_some()
            || self.plateau_min_delta.is_some()
            || self.cooldown.is_some()
            || self.min_lr.is_some();
        if plateau_options && !matches!(schedule, LrSchedule::Plateau(_)) {
            bail!("--plateau-monitor, --plateau-factor, --plateau-patience, --plateau-min-delta, --cooldown and --min-lr apply with --schedule plateau");
        }
        let autoencoder = self.task == Some(TaskArg::Autoencoder);
        if !autoencoder
            && (self.normal.is_some() || self.threshold_quantile != defaults::THRESHOLD_QUANTILE)
        {
            bail!("--normal and --threshold-quantile apply with --task autoencoder");
        }
        if !self.targets.is_empty() {
            match self.task {
                None | Some(TaskArg::Regression) => {}
                Some(task) => bail!(
                    "--targets names regression targets, but --task is {}",
                    cli_name(task)
                ),
            }
        }
        let spec = TrainSpec {
            data: self.data.clone(),
            label: self.label.clone(),
            targets: self.targets.clone(),
            task: match self.task {
                Some(TaskArg::Classification) => Some(Task::Classification),
                Some(TaskArg::Regression) => Some(Task::Regression),
                Some(TaskArg::Autoencoder) | None => None,
            },
            autoencoder: autoencoder.then(|| Autoencoder {
                normal: self.normal.clone(),
                quantile: self.threshold_quantile,
            }),
            freeze: self.freeze.clone(),
            delimiter: self.delimiter,
            ignore: self.ignore.clone(),
            drop_missing: self.drop_missing,
            loss: self.loss,
            hidden: self.hidden.0.clone(),
            batch_norm: self.batch_norm,
            activation: self.activation,
            dropout: self.dropout,
            normalize: self.normalize,
            optimizer,
            lr: self.lr,
            schedule,
            batch: self.batch,
            epochs: self.epochs.unwrap_or(defaults::EPOCHS),
            seed: self.seed,
            val_fraction: self.val_fraction,
            shuffle: !self.no_shuffle,
            clip_norm: self.clip_norm,
            init: self.init.clone(),
            early_stopping: self.early_stopping_config()?,
            divergence: match self.on_divergence {
                DivergencePolicy::ReduceLr { .. } => DivergencePolicy::ReduceLr {
                    factor: self.divergence_lr_factor,
                },
                policy => policy,
            },
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Everything that defines a training run, in the core's types (`manifest.json`'s `config`, read
/// back by `--resume`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainSpec {
    /// The CSV file.
    pub data: PathBuf,
    /// Label column (`None`: the last).
    pub label: Option<String>,
    /// Several regression target columns, in output order (`--targets`; absent from the manifest
    /// when none: the label is the one target).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Task (`None`: detected from the labels).
    pub task: Option<Task>,
    /// Reconstruct the features instead of predicting the label (absent from the manifest when
    /// not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoencoder: Option<Autoencoder>,
    /// Parametrised layers (weights.json's numbering) that do not train: 0, 0 and 1, … (absent
    /// from the manifest when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<usize>,
    /// The CSV file's cell separator (absent from the manifest when it is the default, `,`).
    #[serde(default, skip_serializing_if = "Delimiter::is_comma")]
    pub delimiter: Delimiter,
    /// Columns left out of the table, by name (absent from the manifest when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Leave out rows with a missing cell (absent from the manifest when off).
    #[serde(default, skip_serializing_if = "is_false")]
    pub drop_missing: bool,
    /// Regression loss, a linear head (`None`: [`defaults::REGRESSION_LOSS`]; must be `None` for
    /// classification).
    #[serde(with = "by_name")]
    pub loss: Option<Head>,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// A batch norm after every hidden dense layer, before its activation (absent from the
    /// manifest when off).
    #[serde(default, skip_serializing_if = "is_false")]
    pub batch_norm: bool,
    /// Hidden activation.
    pub activation: Activation,
    /// Dropout after each hidden activation (0: no dropout layer).
    pub dropout: f32,
    /// Input normalisation.
    pub normalize: Normalize,
    /// Optimiser with all its hyper-parameters.
    pub optimizer: OptimizerKind,
    /// Base learning rate.
    pub lr: f32,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Samples per optimiser step.
    pub batch: u32,
    /// Passes over the training rows.
    pub epochs: u32,
    /// Seed of the split, initialisation, dropout and shuffling.
    pub seed: u64,
    /// Share of rows held out for validation.
    pub val_fraction: f32,
    /// Shuffle the training rows every epoch.
    pub shuffle: bool,
    /// Gradient clipping norm.
    pub clip_norm: Option<f32>,
    /// Initial weights file.
    pub init: Option<PathBuf>,
    /// Early stopping (`None`: train every epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// What numeric divergence does (absent from the manifest when it is the default, skip).
    #[serde(default, skip_serializing_if = "DivergencePolicy::is_skip")]
    pub divergence: DivergencePolicy,
}

impl Default for TrainSpec {
    /// The command line's defaults.
    fn default() -> Self {
        Self {
            data: PathBuf::from(defaults::DATA),
            label: None,
            targets: Vec::new(),
            task: None,
            autoencoder: None,
            freeze: Vec::new(),
            delimiter: Delimiter::COMMA,
            ignore: Vec::new(),
            drop_missing: false,
            loss: None,
            hidden: defaults::HIDDEN.to_vec(),
            batch_norm: false,
            activation: defaults::ACTIVATION,
            dropout: defaults::DROPOUT,
            normalize: defaults::NORMALIZE,
            optimizer: TrainConfig::DEFAULT
                .optimizer
                .with_weight_decay(defaults::WEIGHT_DECAY),
            lr: defaults::LR,
            schedule: LrSchedule::Constant,
            batch: defaults::BATCH,
            epochs: defaults::EPOCHS,
            seed: defaults::SEED,
            val_fraction: defaults::VAL_FRACTION,
            shuffle: true,
            clip_norm: None,
            init: None,
            early_stopping: None,
            divergence: TrainConfig::DEFAULT.divergence,
        }
    }
}

impl TrainSpec {
    /// Checks every value, with the same rules as the command line.
    pub fn validate(&self) -> anyhow::Result<()> {
        let check = |name: &str, result: Result<f32, String>| {
            result.map(drop).map_err(|e| anyhow!("--{name}: {e}"))
        };
        check("dropout", dropout(self.dropout))?;
        check("lr", positive(self.lr))?;
        check("val-fraction", fraction(self.val_fraction))?;
        if let Some(norm) = self.clip_norm {
            check("clip-norm", positive(norm))?;
        }
        if self.hidden.contains(&0) {
            bail!("--hidden: a layer width must be at least 1");
        }
        if self.batch == 0 || self.epochs == 0 {
            bail!("--batch and --epochs must be at least 1");
        }
        if let Some((at, &layer)) = self.freeze.iter().enumerate().find(|&(i, &l)| l != i) {
            let prefix: Vec<String> = (0..=layer.max(at)).map(|i| i.to_string()).collect();
            bail!(
                "--freeze {}: frozen layers must be the first ones, in order (the backward pass \
                 stops below the lowest trainable layer); layer {at} is missing or out of place: \
                 --freeze {} freezes every layer up to {}",
                self.freeze
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                prefix.join(","),
                layer.max(at)
            );
        }
        if let Some(auto) = &self.autoencoder {
            check("threshold-quantile", fraction(auto.quantile))?;
        }
        if self.batch_norm && self.hidden.is_empty() {
            bail!("--batch-norm normalises the hidden layers, but --hidden none has none");
        }
        if self.batch_norm && self.batch < 2 {
            bail!(
                "--batch-norm needs --batch 2 or more, not {}: batch norm normalises each feature \
                 over the mini-batch, and one sample has no variance (PyTorch's BatchNorm1d \
                 refuses a batch of 1 too)",
                self.batch
            );
        }
        match self.optimizer {
            OptimizerKind::Sgd {
                momentum,
                nesterov,
                weight_decay,
            } => {
                check("momentum", non_negative(momentum))?;
                check("weight-decay", non_negative(weight_decay))?;
                if nesterov && momentum <= 0.0 {
                    bail!("--nesterov needs --momentum > 0");
                }
            }
            OptimizerKind::Adam { weight_decay, .. }
            | OptimizerKind::AdamW { weight_decay, .. } => {
                check("weight-decay", non_negative(weight_decay))?;
            }
        }
        if let Some(early) = &self.early_stopping {
            check("min-delta", non_negative(early.min_delta))?;
        }
        if let LrSchedule::Step { step_size, gamma } = self.schedule {
            check("gamma", positive(gamma))?;
            if step_size == 0 {
                bail!("--step-size must be at least 1");
            }
        }
        if let LrSchedule::Plateau(plateau) = self.schedule {
            check("plateau-factor", fraction(plateau.factor))?;
            check("plateau-min-delta", non_negative(plateau.min_delta))?;
            check("min-lr", non_negative(plateau.min_lr))?;
        }
        Ok(())
    }

    /// The network: for each hidden width a dense layer, (with `batch_norm`) a batch norm, the
    /// activation and (if `dropout > 0`) a dropout layer; then a dense layer to `outputs`. The
    /// order of PyTorch's usual `Linear → BatchNorm1d → ReLU → Dropout`.
    pub fn layers(&self, inputs: usize, outputs: usize) -> Vec<Layer> {
        let mut layers = Vec::with_capacity(4 * self.hidden.len() + 1);
        let mut width = inputs;
        for &hidden in &self.hidden {
            layers.push(Layer::dense(width, hidden));
            if self.batch_norm {
                layers.push(Layer::batch_norm(hidden));
            }
            layers.push(Layer::Activation(self.activation));
            if self.dropout > 0.0 {
                layers.push(Layer::Dropout { p: self.dropout });
            }
            width = hidden;
        }
        layers.push(Layer::dense(width, outputs));
        layers
    }

    /// The core's training configuration; `target_scale` maps standardised regression outputs back
    /// to the target's units (`(0, 1)` otherwise).
    pub fn train_config(&self, target_scale: (f32, f32)) -> TrainConfig {
        TrainConfig {
            lr: self.lr,
            optimizer: self.optimizer,
            schedule: self.schedule.schedule(self.epochs),
            batch_size: self.batch,
            shuffle: self.shuffle,
            clip_norm: self.clip_norm,
            target_scale,
            divergence: self.divergence,
            freeze: 0,
        }
    }
}

/// `!value`, for serde's `skip_serializing_if` on a flag that is off by default.
fn is_false(value: &bool) -> bool {
    !value
}

/// `--task autoencoder`'s settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Autoencoder {
    /// The label class of the normal rows, the only ones trained on (`None`: every row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<String>,
    /// The quantile of the validation errors that is the anomaly threshold.
    pub quantile: f32,
}

/// How a clap value enum (`--normalize`, `--task`) is spelled on the command line.
pub fn cli_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

// The checks, shared by clap's parsers and `TrainSpec::validate`.

fn dropout(p: f32) -> Result<f32, String> {
    if (0.0..1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability in [0, 1)"))
    }
}

fn positive(x: f32) -> Result<f32, String> {
    if x > 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{x} is not a number > 0"))
    }
}

fn non_negative(x: f32) -> Result<f32, String> {
    if x >= 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{x} is not a number ≥ 0"))
    }
}

fn fraction(x: f32) -> Result<f32, String> {
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(format!("{x} is not a fraction strictly between 0 and 1"))
    }
}

/// A clap parser of a number that `check` accepts.
fn checked(
    check: fn(f32) -> Result<f32, String>,
) -> impl Fn(&str) -> Result<f32, String> + Clone + Send + Sync + 'static {
    move |text| {
        let x = text
            .trim()
            .parse::<f32>()
            .map_err(|_| format!("'{text}' is not a number"))?;
        check(x)
    }
}

/// A clap parser of a whole number in `min..=max`. Used with `allow_negative_numbers`, so that
/// `--batch -1` is a bad value of `--batch` rather than an unknown option `-1`, and with a message
/// that gives the rule (clap's own says "invalid digit found in string").
fn whole<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + fmt::Display + Copy + Send + Sync + 'static,
{
    move |text| match text.trim().parse::<T>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a whole number from {min} to {max}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn spec(args: &[&str]) -> anyhow::Result<TrainSpec> {
        let cli = Cli::try_parse_from(std::iter::once("train").chain(args.iter().copied()))?;
        cli.args.spec()
    }

    fn clap_error(args: &[&str]) -> String {
        let argv = std::iter::once("train").chain(args.iter().copied());
        Cli::try_parse_from(argv)
            .err()
            .expect("should be rejected")
            .to_string()
    }

    #[test]
    fn no_options_give_the_default_spec() {
        assert_eq!(spec(&[]).unwrap(), TrainSpec::default());
        TrainSpec::default().validate().unwrap();
    }

    #[test]
    fn hidden_layers_parse() {
        assert_eq!(spec(&["--hidden", "64,32"]).unwrap().hidden, [64, 32]);
        assert_eq!(spec(&["--hidden", ""]).unwrap().hidden, Vec::<usize>::new());
        assert_eq!(
            spec(&["--hidden", "none"]).unwrap().hidden,
            Vec::<usize>::new()
        );
        assert!(clap_error(&["--hidden", "64,0"]).contains("'0' is not a layer width"));
        assert!(clap_error(&["--hidden", "64,x"]).contains("'x' is not a layer width"));
        assert_eq!(HiddenLayers(vec![8, 4]).to_string(), "8,4");
    }

    #[test]
    fn layers_follow_the_spec() {
        let spec = TrainSpec {
            hidden: vec![8, 4],
            dropout: 0.2,
            ..TrainSpec::default()
        };
        let layers = spec.layers(3, 2);
        assert_eq!(layers.len(), 7);
        assert_eq!(layers[0], Layer::dense(3, 8));
        assert_eq!(layers[2], Layer::Dropout { p: 0.2 });
        assert_eq!(layers[6], Layer::dense(4, 2));
        let linear = TrainSpec {
            hidden: vec![],
            ..TrainSpec::default()
        };
        assert_eq!(linear.layers(3, 1), [Layer::dense(3, 1)]);
        let no_dropout = TrainSpec {
            dropout: 0.0,
            ..TrainSpec::default()
        };
        assert_eq!(no_dropout.layers(3, 2).len(), 3);
        // PyTorch's order: Linear → BatchNorm1d → activation → dropout.
        let bn = TrainSpec {
            batch_norm: true,
            ..spec
        };
        assert_eq!(
            bn.layers(3, 2),
            [
                Layer::dense(3, 8),
                Layer::batch_norm(8),
                Layer::Activation(Activation::Relu),
                Layer::Dropout { p: 0.2 },
                Layer::dense(8, 4),
                Layer::batch_norm(4),
                Layer::Activation(Activation::Relu),
                Layer::Dropout { p: 0.2 },
                Layer::dense(4, 2),
            ]
        );
    }

    #[test]
    fn batch_norm_needs_a_batch_and_a_hidden_layer() {
        let message = spec(&["--batch-norm", "--batch", "1"])
            .unwrap_err()
            .to_string();
        assert!(
            message
                .starts_with("--batch-norm needs --batch 2 or more, not 1: batch norm normalises"),
            "{message}"
        );
        assert!(message.contains("PyTorch"), "{message}");
        spec(&["--batch-norm", "--batch", "2"]).unwrap();
        let message = spec(&["--batch-norm", "--hidden", "none"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("--hidden none has none"), "{message}");
        // Recorded only when on: the manifests of older runs load, and read back as off.
        let on = serde_json::to_value(spec(&["--batch-norm"]).unwrap()).unwrap();
        assert_eq!(on["batch_norm"], true);
        let off = serde_json::to_value(TrainSpec::default()).unwrap();
        assert!(off.get("batch_norm").is_none(), "{off}");
        assert!(!serde_json::from_value::<TrainSpec>(off).unwrap().batch_norm);
    }

    #[test]
    fn bad_values_are_rejected_with_the_option_name() {
        for (args, expected) in [
            (&["--dropout", "1"][..], "--dropout"),
            (&["--dropout", "-0.1"], "not a probability"),
            (&["--lr", "0"], "--lr"),
            (&["--lr", "abc"], "'abc' is not a number"),
            (&["--batch", "0"], "--batch"),
            (&["--epochs", "0"], "--epochs"),
            (
                &["--batch", "-1"],
                "'-1' for '--batch <N>': '-1' is not a whole number from 1",
            ),
            (&["--epochs", "-1"], "'-1' for '--epochs <N>'"),
            (
                &["--epochs", "x"],
                "'x' is not a whole number from 1 to 4294967295",
            ),
            (&["--seed", "-1"], "'-1' for '--seed <N>'"),
            (&["--step-size", "-1"], "'-1' for '--step-size <EPOCHS>'"),
            (&["--patience", "-1"], "'-1' for '--patience <N>'"),
            (
                &["--start-from-epoch", "-1"],
                "'-1' for '--start-from-epoch <N>'",
            ),
            (
                &["--hidden", "-1"],
                "'-1' for '--hidden <WIDTHS>': '-1' is not a layer width",
            ),
            (&["--val-fraction", "1"], "--val-fraction"),
            (&["--val-fraction", "0"], "strictly between 0 and 1"),
            (&["--activation", "swish"], "--activation"),
            (&["--optimizer", "rmsprop"], "--optimizer"),
        ] {
            let message = clap_error(args);
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    #[test]
    fn optimizer_options_resolve() {
        let sgd = spec(&["--optimizer", "sgd", "--momentum", "0.9", "--nesterov"]).unwrap();
        assert_eq!(
            sgd.optimizer,
            OptimizerKind::Sgd {
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.0
            }
        );
        let adamw = spec(&["--optimizer", "adamw"]).unwrap();
        assert_eq!(adamw.optimizer, OptimizerKind::ADAMW);
        let decayed = spec(&["--optimizer", "adam", "--weight-decay", "0.5"]).unwrap();
        assert!(matches!(
            decayed.optimizer,
            OptimizerKind::Adam {
                weight_decay: 0.5,
                ..
            }
        ));
        let message = spec(&["--optimizer", "sgd", "--nesterov"])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("--nesterov needs --momentum > 0"),
            "{message}"
        );
        let message = spec(&["--momentum", "0.9"]).unwrap_err().to_string();
        assert!(message.contains("--optimizer sgd only"), "{message}");
    }

    #[test]
    fn schedules_resolve() {
        let cosine = spec(&["--schedule", "cosine", "--epochs", "12"]).unwrap();
        assert_eq!(
            cosine.train_config((0.0, 1.0)).schedule,
            Schedule::Cosine {
                t_max: 12,
                eta_min: 0.0
            }
        );
        let step = spec(&["--schedule", "step", "--step-size", "5", "--gamma", "0.5"]).unwrap();
        assert_eq!(
            step.train_config((0.0, 1.0)).schedule,
            Schedule::Step {
                step_size: 5,
                gamma: 0.5
            }
        );
        // Keras' defaults, each option in its field, and the options refused without the schedule.
        let keras = spec(&["--schedule", "plateau"]).unwrap();
        assert_eq!(
            keras.train_config((0.0, 1.0)).schedule,
            Schedule::Plateau(ReduceLrOnPlateau::DEFAULT)
        );
        let plateau = spec(&[
            "--schedule",
            "plateau",
            "--plateau-monitor",
            "val_acc",
            "--plateau-factor",
            "0.5",
            "--plateau-patience",
            "3",
            "--plateau-min-delta",
            "0.01",
            "--cooldown",
            "2",
            "--min-lr",
            "1e-5",
        ])
        .unwrap();
        assert_eq!(
            plateau.train_config((0.0, 1.0)).schedule,
            Schedule::Plateau(ReduceLrOnPlateau {
                monitor: Monitor::ValAcc,
                factor: 0.5,
                patience: 3,
                min_delta: 0.01,
                cooldown: 2,
                min_lr: 1e-5,
            })
        );
        let message = spec(&["--cooldown", "2"]).unwrap_err().to_string();
        assert!(
            message.contains("apply with --schedule plateau"),
            "{message}"
        );
        assert!(
            clap_error(&["--schedule", "plateau", "--plateau-factor", "1"])
                .contains("--plateau-factor")
        );
    }

    #[test]
    fn early_stopping_options_resolve() {
        assert_eq!(spec(&[]).unwrap().early_stopping, None);
        let on = spec(&["--early-stopping"]).unwrap().early_stopping.unwrap();
        assert_eq!(on, EarlyStoppingConfig::default());
        let custom = spec(&[
            "--patience",
            "3",
            "--monitor",
            "val_acc",
            "--min-delta",
            "0.01",
            "--no-restore-best",
            "--start-from-epoch",
            "2",
        ])
        .unwrap()
        .early_stopping
        .unwrap();
        assert_eq!(
            custom,
            EarlyStoppingConfig {
                monitor: Monitor::ValAcc,
                direction: None,
                min_delta: 0.01,
                patience: 3,
                start_from_epoch: 2,
                restore_best_weights: false,
            }
        );
        let message = spec(&["--monitor", "val_acc"]).unwrap_err().to_string();
        assert!(message.contains("apply with --early-stopping"), "{message}");
        // --restore-best alone keeps the best epoch and never stops.
        let best = spec(&["--restore-best", "--monitor", "val_acc"])
            .unwrap()
            .early_stopping
            .unwrap();
        assert_eq!(best, EarlyStoppingConfig::best_only(Monitor::ValAcc));
        assert_eq!(best.patience, EarlyStoppingConfig::NEVER);
        let message = spec(&["--restore-best", "--min-delta", "0.1"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("--min-delta"), "{message}");
        assert!(clap_error(&["--patience", "2", "--min-delta", "-1"]).contains("--min-delta"));
    }

    #[test]
    fn csv_options_parse() {
        assert_eq!(spec(&["--delimiter", ";"]).unwrap().delimiter.byte(), b';');
        assert_eq!(
            spec(&["--delimiter", "tab"]).unwrap().delimiter,
            Delimiter::TAB
        );
        assert_eq!(
            spec(&["--delimiter", "\\t"]).unwrap().delimiter,
            Delimiter::TAB
        );
        let message = clap_error(&["--delimiter", ";;"]);
        assert!(message.contains("--delimiter"), "{message}");
        let ignore = spec(&["--ignore", "id,island", "--ignore", "year"])
            .unwrap()
            .ignore;
        assert_eq!(ignore, ["id", "island", "year"]);
    }

    #[test]
    fn csv_options_are_in_the_manifest_only_when_given() {
        // Manifests of older runs have none of them and must still load.
        let default = serde_json::to_value(TrainSpec::default()).unwrap();
        for key in ["delimiter", "ignore", "drop_missing", "batch_norm"] {
            assert!(default.get(key).is_none(), "{key}: {default}");
        }
        let old: TrainSpec = serde_json::from_value(default).unwrap();
        assert_eq!(old, TrainSpec::default());
        let given = spec(&["--delimiter", "tab", "--ignore", "id", "--drop-missing"]).unwrap();
        let json = serde_json::to_value(&given).unwrap();
        assert_eq!(
            (&json["delimiter"], &json["ignore"]),
            (&"tab".into(), &serde_json::json!(["id"]))
        );
        assert_eq!(json["drop_missing"], true);
        assert_eq!(serde_json::from_value::<TrainSpec>(json).unwrap(), given);
    }

    #[test]
    fn validate_catches_specs_built_in_code() {
        let bad = TrainSpec {
            dropout: 1.0,
            ..TrainSpec::default()
        };
        assert!(format!("{:#}", bad.validate().unwrap_err()).contains("--dropout"));
        let bad = TrainSpec {
            hidden: vec![0],
            ..TrainSpec::default()
        };
        assert!(bad.validate().is_err());
    }
}
