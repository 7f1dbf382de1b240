//! A finished run as a model: what `tinytrain predict` and `tinytrain export` read from a run
//! directory — `manifest.json` (the columns, the classes, the layers, the head, the standardiser's
//! statistics) and `weights.json` (the parameters, checked against the layers as `--init` checks
//! them).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use tinytrain::loss::Head;
use tinytrain::network::Mlp;
use tinytrain::normalize::Standardizer;
use tinytrain::optim::OptimizerKind;
use tinytrain::spec::{Layer, Plan};
use tinytrain::train::TrainConfig;

use crate::csv_data::{Column, Schema, Task};
use crate::memory::VecMemory;
use crate::options::TrainSpec;
use crate::run_dir;
use crate::weights::Weights;
use crate::MAX_FEATURES;

/// A trained network with everything needed to feed it raw rows.
#[derive(Clone, Debug)]
pub struct Model {
    /// The run directory.
    pub dir: PathBuf,
    /// The run's options (`manifest.json`'s `config`).
    pub spec: TrainSpec,
    /// The label column, as the run read it.
    pub label: Column,
    /// Classification or regression.
    pub task: Task,
    /// Feature columns, in the network's input order.
    pub feature_names: Vec<String>,
    /// Label text of each class index (empty for regression).
    pub class_names: Vec<String>,
    /// The layers.
    pub layers: Vec<Layer>,
    /// The output head.
    pub head: Head,
    /// The memory plan of the layers.
    pub plan: Plan,
    /// The core's configuration (its `target_scale` maps outputs back to the target's units).
    pub train_config: TrainConfig,
    /// The standardiser's statistics (`None`: `--normalize none`).
    pub normalization: Option<Normalization>,
    /// The parameters (`weights.json`).
    pub weights: Weights,
}

/// The statistics `x' = (x − mean) · scale` of a run, as its manifest holds them.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Normalization {
    /// Per-feature mean.
    pub feature_mean: Vec<f32>,
    /// Per-feature `1/sqrt(var + ε)`.
    pub feature_scale: Vec<f32>,
    /// Regression target mean.
    #[serde(default)]
    pub target_mean: Option<f32>,
    /// Regression target standard deviation.
    #[serde(default)]
    pub target_std: Option<f32>,
    /// Regression target scale as applied (manifests before it was recorded: `1/target_std`).
    #[serde(default)]
    pub target_scale: Option<f32>,
}

/// The parts of `manifest.json` a model needs (the file has more).
#[derive(serde::Deserialize)]
struct ManifestFile {
    config: TrainSpec,
    data: DataPart,
    network: NetworkPart,
    train_config: TrainConfig,
    #[serde(default)]
    normalization: Option<Normalization>,
}

#[derive(serde::Deserialize)]
struct DataPart {
    label: Column,
    task: Task,
    feature_names: Vec<String>,
    #[serde(default)]
    class_names: Vec<String>,
}

#[derive(serde::Deserialize)]
struct NetworkPart {
    layers: Vec<Layer>,
    head: Head,
}

impl Model {
    /// Reads and checks the run directory `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Model> {
        if !dir.is_dir() {
            bail!(
                "{} is not a run directory (tinytrain train --out DIR makes one)",
                dir.display()
            );
        }
        let manifest_path = dir.join(run_dir::MANIFEST);
        if !manifest_path.is_file() {
            bail!(
                "{} has no {}: not a run directory (tinytrain train --out DIR makes one)",
                dir.display(),
                run_dir::MANIFEST
            );
        }
        let weights_path = dir.join(run_dir::WEIGHTS);
        if !weights_path.is_file() {
            bail!(
                "{} has no {}: the run has not finished (train writes it after the last epoch; \
                 tinytrain train --resume {} finishes a run that was stopped)",
                dir.display(),
                run_dir::WEIGHTS,
                dir.display()
            );
        }
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        let manifest: ManifestFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not the manifest of a run of this version",
                manifest_path.display()
            )
        })?;
        let weights = Weights::read(&weights_path)?;
        let model = Model {
            dir: dir.to_path_buf(),
            spec: manifest.config,
            label: manifest.data.label,
            task: manifest.data.task,
            feature_names: manifest.data.feature_names,
            class_names: manifest.data.class_names,
            plan: Plan::of(&manifest.network.layers).map_err(|e| {
                anyhow!(
                    "{}: the layers do not fit together: {e}",
                    manifest_path.display()
                )
            })?,
            layers: manifest.network.layers,
            head: manifest.network.head,
            train_config: manifest.train_config,
            normalization: manifest.normalization,
            weights,
        };
        model.check().with_context(|| {
            format!("{} does not describe this network", manifest_path.display())
        })?;
        let mut memory = VecMemory::new(&model.plan, OptimizerKind::SGD);
        let mut net = Mlp::new(&model.layers, memory.buffers(), 0)
            .map_err(|e| anyhow!("cannot build the network: {e}"))?;
        model
            .weights
            .load_into(&mut net)
            .with_context(|| weights_path.display().to_string())?;
        Ok(model)
    }

    /// Checks that the manifest's parts agree with each other.
    fn check(&self) -> anyhow::Result<()> {
        let width = self.feature_names.len();
        if self.plan.inputs != width {
            bail!(
                "the network takes {} inputs but the data has {width} features",
                self.plan.inputs
            );
        }
        let classes = self.class_names.len();
        match (self.task, self.head.is_classification()) {
            (Task::Classification, true) if self.head.outputs_for(classes) == self.plan.outputs => {
            }
            (Task::Regression, false) if self.plan.outputs == 1 => {}
            _ => bail!(
                "a {} head with {} outputs for a {} task with {classes} classes",
                self.head.name(),
                self.plan.outputs,
                self.task
            ),
        }
        if width > MAX_FEATURES {
            bail!("more than {MAX_FEATURES} features");
        }
        if let Some(n) = &self.normalization {
            if n.feature_mean.len() != width || n.feature_scale.len() != width {
                bail!("the normaliser's statistics are not one per feature");
            }
            if self.task == Task::Regression && (n.target_mean.is_none() || n.target_std.is_none())
            {
                bail!("the normaliser has no statistics of the regression target");
            }
        }
        Ok(())
    }

    /// The columns new rows must have; `ignore` adds columns to leave out to the run's own.
    pub fn schema<'a>(&'a self, ignore: &'a [String]) -> Schema<'a> {
        Schema {
            features: &self.feature_names,
            label: &self.label.name,
            classes: (self.task == Task::Classification).then_some(&self.class_names[..]),
            delimiter: self.spec.delimiter,
            ignore,
        }
    }

    /// Columns to leave out: the run's `--ignore` and `extra`.
    pub fn ignored(&self, extra: &[String]) -> Vec<String> {
        self.spec.ignore.iter().chain(extra).cloned().collect()
    }

    /// The feature standardiser, frozen with the run's statistics.
    pub fn feature_standardizer(&self) -> Option<Box<Standardizer<MAX_FEATURES>>> {
        self.normalization
            .as_ref()
            .map(|n| Box::new(Standardizer::from_stats(&n.feature_mean, &n.feature_scale)))
    }

    /// The regression target's standardiser (`None` for classification or `--normalize none`).
    pub fn target_standardizer(&self) -> Option<Standardizer<1>> {
        let n = self.normalization.as_ref()?;
        let mean = n.target_mean?;
        let scale = n
            .target_scale
            .or_else(|| n.target_std.map(|std| 1.0 / std))?;
        Some(Standardizer::from_stats(&[mean], &[scale]))
    }

    /// A network output in the target's units, as the core's regression metrics compute it:
    /// `out · std + mean` ([`TrainConfig::target_scale`]).
    pub fn to_target_units(&self, out: f32) -> f32 {
        let (mean, std) = self.train_config.target_scale;
        out * std + mean
    }

    /// E.g. `4→64→3`.
    pub fn shape(&self) -> String {
        let shapes: Vec<(usize, usize)> = self
            .layers
            .iter()
            .filter_map(|layer| match *layer {
                Layer::Dense { inputs, outputs } => Some((inputs, outputs)),
                _ => None,
            })
            .collect();
        crate::weights::describe(&shapes)
    }
}
