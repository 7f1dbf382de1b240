//! `manifest.json`: everything needed to reproduce a run exactly — the options, the resolved data
//! (label, task, class and feature names), the network, the core's configuration, the split and the
//! normaliser's statistics; once training ends, which epoch's weights `weights.json` holds.

use std::path::Path;

use anyhow::Context;
use tinytrain::loss::Head;
use tinytrain::spec::Layer;
use tinytrain::train::TrainConfig;

use crate::csv_data::{Column, Task};
use crate::model::Normalization;
use crate::options::TrainSpec;
use crate::pipeline::Setup;

/// The manifest of a run.
#[derive(Debug, serde::Serialize)]
pub struct Manifest<'a> {
    /// Version of tinytrain that trained.
    pub tinytrain_version: &'static str,
    /// The options as given (paths as typed).
    pub config: &'a TrainSpec,
    /// The data as read.
    pub data: DataInfo<'a>,
    /// The network.
    pub network: NetworkInfo<'a>,
    /// The configuration handed to the core's trainer.
    pub train_config: TrainConfig,
    /// Which rows trained and which validated.
    pub split: SplitInfo<'a>,
    /// Standardisation statistics (absent with `--normalize none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
    /// `train --device`: the board and the fit check's figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<serde_json::Value>,
    /// Which epoch's parameters `weights.json` holds (absent until the run has ended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsInfo>,
}

/// Which epoch's parameters a run's `weights.json` holds, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeightsInfo {
    /// The epoch (1-based) whose parameters were saved.
    pub epoch: u32,
    /// `"last"`, or `"best val_loss"` (or another monitor) when `--restore-best` or early stopping
    /// restored the best epoch's.
    pub chosen: String,
}

impl WeightsInfo {
    /// The weights a run ended with: early stopping's restored epoch, else the last epoch.
    pub fn of(last_epoch: u32, early_stop: Option<&tinytrain::early_stop::Outcome>) -> Self {
        match early_stop.and_then(|o| o.restored_epoch.map(|epoch| (epoch, o.monitor))) {
            Some((epoch, monitor)) => Self {
                epoch,
                chosen: format!("best {}", monitor.name()),
            },
            None => Self {
                epoch: last_epoch,
                chosen: "last".into(),
            },
        }
    }
}

/// The data as read.
#[derive(Debug, serde::Serialize)]
pub struct DataInfo<'a> {
    /// The file actually read.
    pub path: String,
    /// Data rows.
    pub rows: usize,
    /// The label column.
    pub label: &'a Column,
    /// Classification or regression, after detection.
    pub task: Task,
    /// Feature columns, in input order.
    pub feature_names: &'a [String],
    /// Label text of each class index (classification).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub class_names: &'a [String],
}

/// The network.
#[derive(Debug, serde::Serialize)]
pub struct NetworkInfo<'a> {
    /// Layers, in order.
    pub layers: &'a [Layer],
    /// Output head.
    pub head: Head,
    /// Trainable parameters.
    pub params: usize,
}

/// The split, as 0-based data row indices (file line − 2 for a file without blank lines).
#[derive(Debug, serde::Serialize)]
pub struct SplitInfo<'a> {
    /// Training rows, sorted.
    pub train_rows: &'a [u32],
    /// Validation rows, sorted.
    pub val_rows: &'a [u32],
}

impl<'a> Manifest<'a> {
    /// The manifest of a prepared run.
    pub fn of(setup: &'a Setup<'a>) -> Self {
        let table = setup.table;
        let normalization = Normalization::of(setup);
        Manifest {
            tinytrain_version: env!("CARGO_PKG_VERSION"),
            config: setup.spec,
            data: DataInfo {
                path: table.path.display().to_string(),
                rows: table.rows(),
                label: table.label(),
                task: table.task(),
                feature_names: &table.feature_names,
                class_names: table.class_names(),
            },
            network: NetworkInfo {
                layers: &setup.layers,
                head: setup.head,
                params: setup.plan.params,
            },
            train_config: setup.config,
            split: SplitInfo {
                train_rows: &setup.train_rows,
                val_rows: &setup.val_rows,
            },
            normalization,
            device: None,
            weights: None,
        }
    }

    /// Writes the manifest as indented JSON, lists of numbers or names on one line each.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let pretty = serde_json::to_string_pretty(self).context("cannot serialise the manifest")?;
        std::fs::write(path, collapse_scalar_arrays(&pretty) + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Puts every array of plain values (numbers, strings) of serde_json's pretty output on one line, so
/// a list of 1,000 row numbers takes one line instead of 1,000.
fn collapse_scalar_arrays(pretty: &str) -> String {
    let lines: Vec<&str> = pretty.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.ends_with('[') {
            // In pretty output an element that opens a container ends its line with `{` or `[`.
            let end = lines[i + 1..].iter().position(|l| {
                l.trim_start().starts_with(']') || l.ends_with('{') || l.ends_with('[')
            });
            if let Some(offset) = end.filter(|&k| lines[i + 1 + k].trim_start().starts_with(']')) {
                let close = lines[i + 1 + offset].trim_start();
                let items: Vec<&str> = lines[i + 1..i + 1 + offset]
                    .iter()
                    .map(|l| l.trim())
                    .collect();
                out.push(format!("{}{}{}", line, items.join(" "), close));
                i += offset + 2;
                continue;
            }
        }
        out.push(line.to_string());
        i += 1;
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_arrays_go_on_one_line() {
        let value = serde_json::json!({"rows": [1, 2, 3], "names": ["a]", "b{"], "layers": [{"w": [0.5]}], "empty": []});
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let collapsed = collapse_scalar_arrays(&pretty);
        assert!(collapsed.contains("\"rows\": [1, 2, 3]"), "{collapsed}");
        assert!(
            collapsed.contains("\"names\": [\"a]\", \"b{\"]"),
            "{collapsed}"
        );
        assert!(collapsed.contains("\"w\": [0.5]"), "{collapsed}");
        assert!(collapsed.contains("\"layers\": [\n"), "{collapsed}");
        let back: serde_json::Value = serde_json::from_str(&collapsed).unwrap();
        assert_eq!(back, value);
    }
}
