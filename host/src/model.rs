//! A finished run as a model: what `tinytrain predict` and `tinytrain export` read from a run
//! directory — `manifest.json` (the columns, the classes, the layers, the head, the standardiser's
//! statistics) and `weights.json` (the parameters, checked against the layers as `--init` checks
//! them). [`Model::for_inference`] folds its batch norms into the dense layers, for the exports.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use tinytrain::layers::batch_norm;
use tinytrain::loss::Head;
use tinytrain::network::Mlp;
use tinytrain::normalize::Standardizer;
use tinytrain::optim::OptimizerKind;
use tinytrain::spec::{Layer, Plan};
use tinytrain::train::TrainConfig;

use crate::csv_data::{Column, Schema, Task};
use crate::memory::VecMemory;
use crate::options::TrainSpec;
use crate::pipeline::Setup;
use crate::run_dir;
use crate::weights::{BatchNormWeights, DenseWeights, Weights};
use crate::{MAX_FEATURES, MAX_TARGETS};

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
    /// Batch norms folded into the dense layer before each ([`Model::for_inference`]): the index
    /// of every dense layer that took one, in order (empty for a model as trained).
    pub folded: Vec<usize>,
}

/// The statistics `x' = (x − mean) · scale` of a run, as its manifest (and its weights.json)
/// holds them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Per-feature mean.
    pub feature_mean: Vec<f32>,
    /// Per-feature `1 / sqrt(variance + 1e-5)`.
    pub feature_scale: Vec<f32>,
    /// Regression targets' means, one per target column. The file holds a number for one target
    /// (as it always did) and a list for several (`--targets`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub target_mean: Option<Vec<f32>>,
    /// Regression targets' standard deviations (`sqrt(variance + 1e-5)`), as `target_mean`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub target_std: Option<Vec<f32>>,
    /// Regression targets' scales as applied, `y' = (y − mean) · scale`, as `target_mean`:
    /// `1 / target_std` as the standardiser holds it, since `1 / (1 / s)` need not give `s` back in
    /// `f32` (`predict` reproduces the run's MAE bit for bit with it). Manifests before it was
    /// recorded: `1 / target_std`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "one_or_many")]
    pub target_scale: Option<Vec<f32>>,
}

/// A per-target statistic in JSON: a number for one target, a list for several.
mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(values: &Option<Vec<f32>>, s: S) -> Result<S::Ok, S::Error> {
        match values.as_deref() {
            Some([one]) => one.serialize(s),
            other => other.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f32>>, D::Error> {
        // Through a `Value`, not an untagged enum: serde_json's `arbitrary_precision` (which a
        // dependency turns on) makes numbers maps inside untagged enums. Each number is parsed
        // from its text as an `f32`, the one rounding.
        use serde::de::Error;
        let number = |v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => n.to_string().parse::<f32>().map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a number, found {other}"
            ))),
        };
        match Option::<serde_json::Value>::deserialize(d)? {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Array(values)) => values
                .iter()
                .map(number)
                .collect::<Result<_, _>>()
                .map(Some),
            Some(one) => number(&one).map(|v| Some(vec![v])),
        }
    }
}

impl Normalization {
    /// The statistics of a prepared run (`None`: `--normalize none`).
    pub fn of(setup: &Setup<'_>) -> Option<Self> {
        setup.features.as_ref().map(|features| Normalization {
            feature_mean: features.mean().to_vec(),
            feature_scale: features.scale().to_vec(),
            target_mean: setup.target.as_ref().map(|t| t.mean().to_vec()),
            target_std: setup
                .target
                .as_ref()
                .map(|t| t.scale().iter().map(|s| 1.0 / s).collect()),
            target_scale: setup.target.as_ref().map(|t| t.scale().to_vec()),
        })
    }

    /// The feature standardiser, frozen with these statistics.
    pub fn feature_standardizer(&self) -> Box<Standardizer<MAX_FEATURES>> {
        Box::new(Standardizer::from_stats(
            &self.feature_mean,
            &self.feature_scale,
        ))
    }

    /// The regression targets' standardiser (`None` without target statistics).
    pub fn target_standardizer(&self) -> Option<Standardizer<MAX_TARGETS>> {
        let mean = self.target_mean.as_ref()?;
        let scale = match (&self.target_scale, &self.target_std) {
            (Some(scale), _) => scale.clone(),
            (None, Some(std)) => std.iter().map(|s| 1.0 / s).collect(),
            (None, None) => return None,
        };
        Some(Standardizer::from_stats(mean, &scale))
    }
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
            folded: Vec::new(),
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
        if self.spec.autoencoder.is_some() {
            if self.head.is_classification() || self.plan.outputs != width {
                bail!(
                    "an autoencoder with a {} head and {} outputs for {width} features",
                    self.head.name(),
                    self.plan.outputs
                );
            }
            return self.check_normalization(width, false);
        }
        match (self.task, self.head.is_classification()) {
            (Task::Classification, true) if self.head.outputs_for(classes) == self.plan.outputs => {
            }
            (Task::Regression, false) if self.plan.outputs == self.target_names().len() => {}
            _ => bail!(
                "a {} head with {} outputs for a {} task with {classes} classes",
                self.head.name(),
                self.plan.outputs,
                self.task
            ),
        }
        self.check_normalization(width, self.task == Task::Regression)
    }

    /// The normaliser has one statistic per feature (and the target's, if `target`).
    fn check_normalization(&self, width: usize, target: bool) -> anyhow::Result<()> {
        if width > MAX_FEATURES {
            bail!("more than {MAX_FEATURES} features");
        }
        if let Some(n) = &self.normalization {
            if n.feature_mean.len() != width || n.feature_scale.len() != width {
                bail!("the normaliser's statistics are not one per feature");
            }
            let targets = self.target_names().len();
            let each = |stat: &Option<Vec<f32>>| stat.as_ref().is_some_and(|v| v.len() == targets);
            if target && !(each(&n.target_mean) && each(&n.target_std)) {
                bail!("the normaliser has not one statistic per regression target ({targets})");
            }
        }
        Ok(())
    }

    /// The columns new rows must have; `ignore` adds columns to leave out to the run's own.
    pub fn schema<'a>(&'a self, ignore: &'a [String]) -> Schema<'a> {
        Schema {
            features: &self.feature_names,
            labels: self.target_names(),
            classes: (self.task == Task::Classification).then_some(&self.class_names[..]),
            delimiter: self.spec.delimiter,
            ignore,
        }
    }

    /// The target columns' names, in output order: the label column's, or a `--targets` run's.
    pub fn target_names(&self) -> &[String] {
        match &self.spec.targets[..] {
            [] => std::slice::from_ref(&self.label.name),
            targets => targets,
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
            .map(Normalization::feature_standardizer)
    }

    /// The regression target's standardiser (`None` for classification or `--normalize none`).
    pub fn target_standardizer(&self) -> Option<Standardizer<MAX_TARGETS>> {
        self.normalization.as_ref()?.target_standardizer()
    }

    /// A network output in the target's units, as the core's regression metrics compute it:
    /// `out · std + mean` ([`TrainConfig::target_scale`]).
    pub fn to_target_units(&self, out: f32) -> f32 {
        let (mean, std) = self.train_config.target_scale;
        out * std + mean
    }

    /// E.g. `4→64→3`, `64→32→10 with 1 batch norm`, or for a folded model `64→32→10, 1 batch
    /// norm folded in`.
    pub fn shape(&self) -> String {
        let shape = crate::weights::shape(&self.layers);
        match self.folded.len() {
            0 => shape,
            1 => format!("{shape}, 1 batch norm folded in"),
            n => format!("{shape}, {n} batch norms folded in"),
        }
    }

    /// `true` if some layer is a batch norm.
    pub fn has_batch_norm(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l, Layer::BatchNorm { .. }))
    }

    /// The model as inference runs it, without batch norms: each folded, in eval mode, into the
    /// dense layer before it (dropouts between are the identity). With `s = γ/√(running_var + ε)`,
    /// `W'[o][i] = W[o][i]·s[o]` and `b'[o] = (b[o] − running_mean[o])·s[o] + β[o]`, computed in
    /// `f64` and rounded once to `f32`. The folded sums round differently from the dense layer
    /// followed by the batch norm, so the outputs agree with the model's to about 1e-6 relative
    /// rather than bit for bit. A model without batch norm comes back as it is.
    pub fn for_inference(&self) -> anyhow::Result<Model> {
        if !self.has_batch_norm() {
            return Ok(self.clone());
        }
        let (layers, weights, folded) = fold_batch_norms(&self.layers, &self.weights)
            .with_context(|| format!("cannot fold the batch norms of {}", self.dir.display()))?;
        if !weights.is_finite() {
            bail!(
                "folding the batch norms of {} into their dense layers overflows an f32 (a \
                 running variance near 0 under a large γ?): nothing to export",
                self.dir.display()
            );
        }
        let plan = Plan::of(&layers)
            .map_err(|e| anyhow!("internal error: the folded layers do not fit together: {e}"))?;
        Ok(Model {
            layers,
            plan,
            weights,
            folded,
            ..self.clone()
        })
    }
}

/// `layers` and their `weights` with every batch norm folded into the dense layer before it
/// ([`Model::for_inference`]), and the index of each dense layer that took one.
pub fn fold_batch_norms(
    layers: &[Layer],
    weights: &Weights,
) -> anyhow::Result<(Vec<Layer>, Weights, Vec<usize>)> {
    let mut kept = Vec::with_capacity(layers.len());
    let mut dense: Vec<DenseWeights> = weights.layers.clone();
    let mut batch_norms = weights.batch_norms.iter();
    let mut folded = Vec::new();
    // The dense layer whose outputs reach the current layer unchanged in eval mode (dropout is
    // the identity there).
    let mut open: Option<usize> = None;
    let mut dense_seen = 0;
    for (i, layer) in layers.iter().enumerate() {
        match *layer {
            Layer::Dense { .. } => {
                open = Some(dense_seen);
                dense_seen += 1;
            }
            Layer::Dropout { .. } => {}
            Layer::Activation(_) => open = None,
            Layer::BatchNorm { features } => {
                let Some(k) = open else {
                    bail!(
                        "layer {i} is a batch norm with an activation between it and the dense \
                         layer before it: it cannot be folded into that layer"
                    );
                };
                let bn = batch_norms
                    .next()
                    .context("the weights have fewer batch norms than the layers")?;
                let target = dense
                    .get_mut(k)
                    .context("the weights have fewer dense layers than the layers")?;
                let widths = [
                    target.bias.len(),
                    bn.weight.len(),
                    bn.bias.len(),
                    bn.running_mean.len(),
                    bn.running_var.len(),
                ];
                if widths.iter().any(|&w| w != features) || target.weight.len() != features {
                    bail!("the batch norm at layer {i} does not have the width of dense layer {k}");
                }
                fold(target, bn);
                folded.push(k);
                continue;
            }
        }
        kept.push(*layer);
    }
    let weights = Weights {
        layers: dense,
        ..Weights::default()
    };
    Ok((kept, weights, folded))
}

/// Folds the eval-mode batch norm `bn` into `dense`, the layer before it (of the same width; see
/// [`Model::for_inference`]).
fn fold(dense: &mut DenseWeights, bn: &BatchNormWeights) {
    let eps = f64::from(batch_norm::EPS);
    let per_output = bn
        .weight
        .iter()
        .zip(&bn.bias)
        .zip(bn.running_mean.iter().zip(&bn.running_var));
    for ((row, bias), ((&gamma, &beta), (&mean, &var))) in
        dense.weight.iter_mut().zip(&mut dense.bias).zip(per_output)
    {
        let s = f64::from(gamma) / (f64::from(var) + eps).sqrt();
        for w in row.iter_mut() {
            *w = (f64::from(*w) * s) as f32;
        }
        *bias = ((f64::from(*bias) - f64::from(mean)) * s + f64::from(beta)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tinytrain::layers::Activation;
    use tinytrain::network::Mode;
    use tinytrain::rng::Pcg32;

    /// Dense → BN → ReLU → dropout, and dense → dropout → BN → tanh (a dropout between is the
    /// identity in eval mode), then the output layer.
    const LAYERS: [Layer; 9] = [
        Layer::dense(5, 8),
        Layer::batch_norm(8),
        Layer::Activation(Activation::Relu),
        Layer::Dropout { p: 0.2 },
        Layer::dense(8, 6),
        Layer::Dropout { p: 0.1 },
        Layer::batch_norm(6),
        Layer::Activation(Activation::Tanh),
        Layer::dense(6, 3),
    ];

    /// A network over `layers` with its own memory, its parameters from `weights`.
    fn outputs(layers: &[Layer], weights: &Weights, rows: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let mut memory = VecMemory::new(&Plan::of(layers).unwrap(), OptimizerKind::SGD);
        let mut net = Mlp::new(layers, memory.buffers(), 0).unwrap();
        weights.load_into(&mut net).unwrap();
        net.set_mode(Mode::Eval);
        rows.iter()
            .map(|x| {
                net.input_mut().copy_from_slice(x);
                net.forward().to_vec()
            })
            .collect()
    }

    /// The folded network's outputs equal the batch-norm network's eval-mode outputs (the core's
    /// forward pass, running statistics) to 1e-5 relative.
    #[test]
    fn folding_keeps_the_eval_mode_outputs() {
        let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), OptimizerKind::SGD);
        let net = Mlp::new(&LAYERS, memory.buffers(), 7).unwrap();
        let mut weights = Weights::of(&net);
        // Statistics and affine parameters far from the initial ones.
        let mut rng = Pcg32::new(42, 9);
        for bn in &mut weights.batch_norms {
            for v in &mut bn.weight {
                *v = 0.5 + rng.next_f32() * 1.5;
            }
            for v in bn.bias.iter_mut().chain(&mut bn.running_mean) {
                *v = rng.symmetric(2.0);
            }
            for v in &mut bn.running_var {
                *v = 0.01 + rng.next_f32() * 4.0;
            }
        }
        let rows: Vec<Vec<f32>> = (0..50)
            .map(|_| (0..5).map(|_| rng.symmetric(3.0)).collect())
            .collect();
        let expected = outputs(&LAYERS, &weights, &rows);

        let (layers, folded_weights, folded) = fold_batch_norms(&LAYERS, &weights).unwrap();
        assert_eq!(folded, [0, 1]);
        assert!(!layers.iter().any(|l| matches!(l, Layer::BatchNorm { .. })));
        assert_eq!(layers.len(), LAYERS.len() - 2);
        assert!(folded_weights.batch_norms.is_empty());
        let got = outputs(&layers, &folded_weights, &rows);
        let mut worst = 0.0f32;
        for (want, got) in expected.iter().zip(&got) {
            for (&w, &g) in want.iter().zip(got) {
                worst = worst.max((g - w).abs() / w.abs().max(1.0));
            }
        }
        assert!(worst <= 1e-5, "worst relative difference {worst}");
    }

    #[test]
    fn a_batch_norm_after_an_activation_is_not_folded() {
        let layers = [
            Layer::dense(2, 3),
            Layer::Activation(Activation::Relu),
            Layer::batch_norm(3),
            Layer::dense(3, 1),
        ];
        let mut memory = VecMemory::new(&Plan::of(&layers).unwrap(), OptimizerKind::SGD);
        let net = Mlp::new(&layers, memory.buffers(), 1).unwrap();
        let message = fold_batch_norms(&layers, &Weights::of(&net))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("layer 2 is a batch norm with an activation between"),
            "{message}"
        );
    }
}
