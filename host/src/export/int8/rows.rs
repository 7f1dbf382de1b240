//! The rows a run was trained and validated on, read again: the calibration set of the int8
//! export (its training rows) and the rows its accuracy is measured on (its validation rows).
//!
//! The run's manifest holds its options and its split (`split.train_rows`, `split.val_rows`, data
//! row indices) but not the data, so the data file is read again with the run's options
//! (`config.data`, or another path given with `export --data`) and the split made again
//! ([`pipeline::prepare`]); both the split and the standardiser's statistics must come out as the
//! manifest records them, bit for bit, or the file is not the one the run was trained on.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use tinytrain::network::{Mlp, Mode};
use tinytrain::optim::OptimizerKind;

use crate::csv_data::Targets;
use crate::memory::VecMemory;
use crate::model::Model;
use crate::pipeline;
use crate::run_dir;

/// The raw feature rows and classes of a run's two sides.
#[derive(Clone, Debug)]
pub struct RunRows {
    /// The data file as read.
    pub path: String,
    /// Training rows' raw features, in the manifest's order.
    pub train: Vec<Vec<f32>>,
    /// Validation rows' raw features, in the manifest's order.
    pub val: Vec<Vec<f32>>,
    /// The class of each validation row.
    pub val_classes: Vec<u16>,
}

#[derive(serde::Deserialize)]
struct ManifestSplit {
    split: Split,
}

#[derive(serde::Deserialize)]
struct Split {
    train_rows: Vec<u32>,
    val_rows: Vec<u32>,
}

impl RunRows {
    /// Reads the rows of the classification run `model` from its data file (`data` in place of
    /// the manifest's `config.data`).
    pub fn load(model: &Model, data: Option<&Path>) -> anyhow::Result<RunRows> {
        let manifest_path = model.dir.join(run_dir::MANIFEST);
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        let split = serde_json::from_str::<ManifestSplit>(&text)
            .with_context(|| format!("{} has no split", manifest_path.display()))?
            .split;
        let mut spec = model.spec.clone();
        if let Some(data) = data {
            spec.data = data.to_path_buf();
        }
        let hint = "pass the file it was trained on with --data FILE.csv";
        let table = pipeline::load_table(&spec).with_context(|| {
            format!(
                "cannot read the run's data to calibrate the int8 model on its training rows ({hint})"
            )
        })?;
        let setup = pipeline::prepare(&spec, &table)?;
        let file = table.path.display().to_string();
        if table.feature_names != model.feature_names {
            bail!(
                "{file} does not have the run's feature columns: not the data of {} ({hint})",
                model.dir.display()
            );
        }
        if setup.train_rows != split.train_rows || setup.val_rows != split.val_rows {
            bail!(
                "the split of {file} differs from the run's (has the data file changed?): not the \
                 data of {} ({hint})",
                model.dir.display()
            );
        }
        let same_statistics = match (&setup.features, &model.normalization) {
            (None, None) => true,
            (Some(s), Some(n)) => {
                bits(s.mean()) == bits(&n.feature_mean) && bits(s.scale()) == bits(&n.feature_scale)
            }
            _ => false,
        };
        if !same_statistics {
            bail!(
                "the training rows of {file} do not give the run's standardiser statistics: not \
                 the data of {} ({hint})",
                model.dir.display()
            );
        }
        let Targets::Classes { labels, .. } = &table.targets else {
            bail!("{file} is not a classification dataset");
        };
        let width = table.width();
        let row = |r: u32| table.features[r as usize * width..][..width].to_vec();
        Ok(RunRows {
            path: file,
            train: split.train_rows.iter().map(|&r| row(r)).collect(),
            val: split.val_rows.iter().map(|&r| row(r)).collect(),
            val_classes: split.val_rows.iter().map(|&r| labels[r as usize]).collect(),
        })
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The float network's class for each raw row: the core's forward pass in eval mode on the rows
/// standardised with the run's statistics, and the head's rule (what `tinytrain predict` says).
pub fn float_classes(model: &Model, rows: &[Vec<f32>]) -> anyhow::Result<Vec<u16>> {
    let mut memory = VecMemory::try_new(&model.plan, OptimizerKind::SGD)?;
    let mut net = Mlp::new(&model.layers, memory.buffers(), 0)
        .map_err(|e| anyhow!("cannot build the network: {e}"))?;
    model.weights.load_into(&mut net)?;
    net.set_mode(Mode::Eval);
    let standardizer = model.feature_standardizer();
    rows.iter()
        .map(|row| {
            let input = net.input_mut();
            input.copy_from_slice(row);
            if let Some(s) = &standardizer {
                s.apply(input);
            }
            model
                .head
                .predict_class(net.forward())
                .ok_or_else(|| anyhow!("{} is not a classification run", model.dir.display()))
        })
        .collect()
}
