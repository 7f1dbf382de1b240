//! The experiment a device trains, generated from the host's [`Setup`]: `experiment.rs` (read by
//! `tinytrain_experiments::device`) and its data tables.
//!
//! * `features.bin` — every row's features as the `f32` values the host parsed, in the narrowest
//!   [`Encoding`] that gives them back bit for bit (digits' pixels: one byte each);
//! * `targets.bin` — one byte per row, the host's class index (so string labels map as on the
//!   host), or the `f32` target of a regression;
//! * `experiment.rs` — the network (`network!`, sized exactly), the [`Experiment`] with every
//!   option, floats as their bits (`f32::from_bits`), so nothing is rounded on the way.
//!
//! The directory is named by a hash of its files and the firmware sources, so the same run on the
//! same version reuses its built firmware.
//!
//! [`Experiment`]: tinytrain_experiments::Experiment

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tinytrain::early_stop::EarlyStoppingConfig;
use tinytrain::layers::Activation;
use tinytrain::optim::plateau::ReduceLrOnPlateau;
use tinytrain::optim::{OptimizerKind, Schedule};
use tinytrain::spec::Layer;
use tinytrain::train::{DivergencePolicy, TrainConfig};
use tinytrain_experiments::table::Encoding;

use crate::csv_data::Targets;
use crate::options::Normalize;
use crate::pipeline::Setup;

/// A generated experiment, not yet written.
#[derive(Clone, Debug)]
pub struct Generated {
    /// `experiment.rs`.
    pub code: String,
    /// `features.bin`.
    pub features: Vec<u8>,
    /// `targets.bin`.
    pub targets: Vec<u8>,
    /// How the features are stored.
    pub encoding: Encoding,
    /// The rows in the tables: the CSV's, or none for a stream (whose samples arrive over the
    /// UART).
    pub rows: usize,
}

/// `f32::from_bits(0x…)`: the exact value, whatever it is.
fn float(v: f32) -> String {
    format!("f32::from_bits({:#010x})", v.to_bits())
}

fn activation(a: Activation) -> String {
    match a {
        Activation::LeakyRelu { slope } => {
            format!("Activation::LeakyRelu {{ slope: {} }}", float(slope))
        }
        Activation::Relu => "Activation::Relu".into(),
        Activation::Sigmoid => "Activation::Sigmoid".into(),
        Activation::Tanh => "Activation::Tanh".into(),
    }
}

fn layer(l: &Layer) -> String {
    match *l {
        Layer::Dense { inputs, outputs } => format!("Layer::dense({inputs}, {outputs})"),
        Layer::Activation(a) => format!("Layer::Activation({})", activation(a)),
        Layer::Dropout { p } => format!("Layer::Dropout {{ p: {} }}", float(p)),
        Layer::BatchNorm { features } => format!("Layer::batch_norm({features})"),
    }
}

fn optimizer(o: OptimizerKind) -> String {
    let p = "tinytrain::optim::OptimizerKind";
    match o {
        OptimizerKind::Sgd {
            momentum,
            nesterov,
            weight_decay,
        } => format!(
            "{p}::Sgd {{ momentum: {}, nesterov: {nesterov}, weight_decay: {} }}",
            float(momentum),
            float(weight_decay)
        ),
        OptimizerKind::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
        }
        | OptimizerKind::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => format!(
            "{p}::{} {{ beta1: {}, beta2: {}, eps: {}, weight_decay: {} }}",
            if matches!(o, OptimizerKind::Adam { .. }) {
                "Adam"
            } else {
                "AdamW"
            },
            float(beta1),
            float(beta2),
            float(eps),
            float(weight_decay)
        ),
    }
}

fn schedule(s: Schedule) -> String {
    let p = "tinytrain::optim::Schedule";
    match s {
        Schedule::Constant => format!("{p}::Constant"),
        Schedule::Step { step_size, gamma } => format!(
            "{p}::Step {{ step_size: {step_size}, gamma: {} }}",
            float(gamma)
        ),
        Schedule::Cosine { t_max, eta_min } => format!(
            "{p}::Cosine {{ t_max: {t_max}, eta_min: {} }}",
            float(eta_min)
        ),
        Schedule::Plateau(ReduceLrOnPlateau {
            monitor,
            factor,
            patience,
            min_delta,
            cooldown,
            min_lr,
        }) => format!(
            "{p}::Plateau(tinytrain::optim::plateau::ReduceLrOnPlateau {{ \
             monitor: tinytrain::monitor::Monitor::{monitor:?}, factor: {}, patience: {patience}, \
             min_delta: {}, cooldown: {cooldown}, min_lr: {} }})",
            float(factor),
            float(min_delta),
            float(min_lr)
        ),
    }
}

fn divergence(d: DivergencePolicy) -> String {
    let p = "tinytrain::train::DivergencePolicy";
    match d {
        DivergencePolicy::Skip => format!("{p}::Skip"),
        DivergencePolicy::Stop => format!("{p}::Stop"),
        DivergencePolicy::ReduceLr { factor } => {
            format!("{p}::ReduceLr {{ factor: {} }}", float(factor))
        }
    }
}

/// The core's configuration (every field named: a new one fails to compile here).
fn config(c: &TrainConfig) -> String {
    let TrainConfig {
        lr,
        optimizer: opt,
        schedule: sched,
        batch_size,
        shuffle,
        clip_norm,
        target_scale,
        divergence: div,
        freeze,
    } = *c;
    let clip = clip_norm.map_or("None".into(), |n| format!("Some({})", float(n)));
    format!(
        "tinytrain::train::TrainConfig {{\n        lr: {},\n        optimizer: {},\n        schedule: {},\n        \
         batch_size: {batch_size},\n        shuffle: {shuffle},\n        clip_norm: {clip},\n        \
         target_scale: ({}, {}),\n        divergence: {},\n        freeze: {freeze},\n    }}",
        float(lr),
        optimizer(opt),
        schedule(sched),
        float(target_scale.0),
        float(target_scale.1),
        divergence(div),
    )
}

fn early_stopping(e: &Option<EarlyStoppingConfig>) -> String {
    let Some(EarlyStoppingConfig {
        monitor,
        direction,
        min_delta,
        patience,
        start_from_epoch,
        restore_best_weights,
    }) = *e
    else {
        return "None".into();
    };
    // Unit variants: their Debug form is their name.
    let direction = direction.map_or("None".into(), |d| {
        format!("Some(tinytrain::monitor::Direction::{d:?})")
    });
    format!(
        "Some(tinytrain::early_stop::EarlyStoppingConfig {{\n        monitor: tinytrain::monitor::Monitor::{monitor:?},\n        \
         direction: {direction},\n        min_delta: {},\n        patience: {patience},\n        \
         start_from_epoch: {start_from_epoch},\n        restore_best_weights: {restore_best_weights},\n    }})",
        float(min_delta)
    )
}

/// The experiment of `setup`, named `name`, starting from `init` (the model of `--init`: its flat
/// parameters, then its batch-norm statistics buffer). With `stream` the tables are empty (the
/// samples arrive over the UART) and the standardisation statistics are always fixed, the host's.
pub fn generate(setup: &Setup<'_>, name: &str, init: Option<&[f32]>, stream: bool) -> Generated {
    let table = setup.table;
    let rows = if stream { 0 } else { table.rows() };
    let values = &table.features[..rows * table.width()];
    let encoding = Encoding::narrowest(values.iter().copied());
    let mut features = vec![0u8; values.len() * encoding.width()];
    for (v, out) in values
        .iter()
        .zip(features.chunks_exact_mut(encoding.width()))
    {
        encoding.encode(*v, out);
    }
    let targets_bin = "include_bytes!(concat!(env!(\"TINYTRAIN_DEVICE_RUN\"), \"/targets.bin\"))";
    let (mut targets, target_kind, classes) = match &table.targets {
        Targets::Classes { labels, names } => (
            labels.iter().map(|&c| c as u8).collect::<Vec<u8>>(),
            format!("Classes({targets_bin})"),
            names.len(),
        ),
        // Row-major: each row's targets in `--targets` order.
        Targets::Values(values) => (
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            format!(
                "Values {{ values: {targets_bin}, width: {} }}",
                table.target_width()
            ),
            0,
        ),
    };
    if stream {
        targets.clear();
    }
    let layers: Vec<String> = setup.layers.iter().map(layer).collect();
    let spec = setup.spec;
    let mut code = String::new();
    let _ = writeln!(
        code,
        "// Generated by `tinytrain train --device{}` from {} ({} rows): do not edit.\n",
        if stream { " --stream" } else { "" },
        table.path.display(),
        table.rows()
    );
    // A batch norm normalises over the mini-batch: the buffers hold all of it.
    let batch = if setup.plan.has_batch_norm() {
        format!(",\n    batch = {}", setup.config.batch_size)
    } else {
        String::new()
    };
    let _ = writeln!(
        code,
        "tinytrain::network! {{\n    /// The network of the run.\n    pub net = [\n        {},\n    ]{batch}\n}}\n",
        layers.join(",\n        ")
    );
    let _ = writeln!(
        code,
        "const TABLE: Table = Table {{\n    features: {},\n    encoding: Encoding::{encoding:?},\n    \
         x: include_bytes!(concat!(env!(\"TINYTRAIN_DEVICE_RUN\"), \"/features.bin\")),\n    \
         y: Targets::{target_kind},\n}};\n",
        table.width()
    );
    if let Some(init) = init {
        let values: Vec<String> = init.iter().map(|&v| float(v)).collect();
        let _ = writeln!(
            code,
            "/// `--init`'s parameters, then its batch-norm statistics.\nconst INIT: [f32; net::PARAMS + net::PLAN.stats] = [\n    {},\n];\n",
            values.join(",\n    ")
        );
    }
    // A shipped model's statistics (`--init` of a weights.json that carries them) are fixed, and
    // so are a stream's (it has no rows to fit them on); otherwise the device fits its own on its
    // training rows, as the host does.
    let fixed = setup
        .init
        .as_ref()
        .and_then(|w| w.about.as_ref())
        .and_then(|about| about.normalization.as_ref());
    let statistics = match (fixed.is_some() || stream, &setup.features) {
        (true, Some(features)) => {
            let list = |v: &[f32]| v.iter().map(|&x| float(x)).collect::<Vec<_>>().join(", ");
            let _ = writeln!(
                code,
                "/// `--init`'s standardisation.\nconst MEAN: [f32; {w}] = [{}];\nconst SCALE: [f32; {w}] = [{}];\n",
                list(features.mean()),
                list(features.scale()),
                w = table.width()
            );
            let fixed_target = stream || fixed.is_some_and(|f| f.target_standardizer().is_some());
            let target = match (&setup.target, fixed_target) {
                (Some(t), true) => {
                    format!("Some(({}, {}))", float(t.mean()[0]), float(t.scale()[0]))
                }
                _ => "None".into(),
            };
            format!("Some(Statistics {{ mean: &MEAN, scale: &SCALE, target: {target} }})")
        }
        _ => "None".into(),
    };
    let _ = writeln!(
        code,
        "/// The run.\npub const EXPERIMENT: Experiment = Experiment {{\n    name: {name:?},\n    \
         data: DataSource::new({name:?}, {rows}, {width}, {classes}, &TABLE),\n    layers: net::LAYERS,\n    \
         head: tinytrain::loss::Head::{head:?},\n    config: {config},\n    epochs: {epochs},\n    \
         validation_fraction: {fraction},\n    seed: {seed},\n    standardize: {standardize},\n    \
         early_stopping: {early},\n    init: {init},\n    statistics: {statistics},\n    reconstruct: {reconstruct},\n}};\n\n\
         /// Errors an autoencoder stream keeps for its threshold: the validation rows'.\npub const SCORES: usize = {scores};\n\n\
         crate::run::workspace!(net);",
        width = table.width(),
        head = setup.head,
        // The target scale is the device's to compute, from its own split (as the host does).
        config = config(&TrainConfig {
            target_scale: TrainConfig::DEFAULT.target_scale,
            ..setup.config
        }),
        epochs = spec.epochs,
        fraction = float(spec.val_fraction),
        seed = spec.seed,
        standardize = spec.normalize == Normalize::Standard,
        early = early_stopping(&spec.early_stopping),
        init = if init.is_some() { "Some(&INIT)" } else { "None" },
        reconstruct = setup.is_autoencoder(),
        scores = if stream && setup.is_autoencoder() {
            setup.val_rows.len()
        } else {
            0
        },
    );
    Generated {
        code,
        features,
        targets,
        encoding,
        rows,
    }
}

impl Generated {
    /// Writes the files into `runs/<key>/` under `cache` (once: a directory with the same key
    /// holds the same files) and returns that directory. `extra` joins the key (the firmware
    /// sources, the board).
    pub fn write(&self, cache: &Path, extra: &[&[u8]]) -> anyhow::Result<PathBuf> {
        let mut parts: Vec<&[u8]> = vec![self.code.as_bytes(), &self.features, &self.targets];
        parts.extend_from_slice(extra);
        let dir = cache.join("runs").join(super::firmware::key(&parts));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, bytes) in [
            ("features.bin", &self.features[..]),
            ("targets.bin", &self.targets[..]),
            ("experiment.rs", self.code.as_bytes()),
        ] {
            crate::run_dir::write_atomic(&dir.join(name), bytes)?;
        }
        Ok(dir)
    }
}
