//! Anomaly detection with an autoencoder (`train --task autoencoder`): a row whose reconstruction
//! error is above a threshold is an anomaly.
//!
//! A row's error is its loss, as training measured it: the mean over the features of the squared
//! (or `--loss` L1, Huber) difference between the standardised input and its reconstruction, in
//! eval mode. The threshold is a quantile of the validation rows' errors (`--threshold-quantile`,
//! 0.95 by default), with `numpy.quantile`'s default linear interpolation: on normal data like the
//! validation rows, about `1 − q` of the rows are flagged. With `--normal CLASS` the rows of the
//! other classes, never trained on, are the anomalies, and the flag is scored against them on the
//! held-out rows: precision (flagged rows that are anomalies) and recall (anomalies flagged).

use anyhow::Context;
use tinytrain::data::{Dataset, SliceDataset};
use tinytrain::loss::Head;
use tinytrain::network::{Mlp, Mode};
use tinytrain::normalize::Standardized;
use tinytrain::optim::OptimizerKind;
use tinytrain::spec::{Layer, Plan};

use crate::csv_data::Inputs;
use crate::memory::VecMemory;
use crate::model::Model;
use crate::pipeline::Setup;
use crate::weights::Weights;

/// File of the threshold in a run directory.
pub const THRESHOLD: &str = "threshold.json";

/// The threshold of a run, and how well it flags the held-out anomalies.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Threshold {
    /// What a row's error is.
    pub error: &'static str,
    /// The quantile of the validation rows' errors.
    pub quantile: f32,
    /// Rows above it are anomalies.
    pub threshold: f32,
    /// Validation rows the quantile is of.
    pub validation_rows: usize,
    /// Their median error.
    pub median_validation_error: f32,
    /// With `--normal CLASS`: the flag on held-out rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// The anomaly flag on held-out rows: the normal validation rows and every row of another class.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Scores {
    /// Held-out normal rows (the validation rows).
    pub normal_rows: usize,
    /// Rows of the other classes.
    pub anomaly_rows: usize,
    /// Anomalies flagged.
    pub true_positives: usize,
    /// Normal rows flagged.
    pub false_positives: usize,
    /// Anomalies not flagged.
    pub false_negatives: usize,
    /// `TP / (TP + FP)` (`None` when nothing was flagged).
    pub precision: Option<f32>,
    /// `TP / (TP + FN)`.
    pub recall: Option<f32>,
}

impl Threshold {
    /// The threshold of a trained autoencoder, `weights` its final parameters.
    pub fn of(setup: &Setup<'_>, weights: &Weights) -> anyhow::Result<Self> {
        let quantile = setup
            .spec
            .autoencoder
            .as_ref()
            .map_or(crate::options::defaults::THRESHOLD_QUANTILE, |a| a.quantile);
        let validation = errors(setup, weights, &setup.val_rows)?;
        let mut sorted = validation.clone();
        tinytrain::metrics::quantile::sort(&mut sorted);
        let threshold = quantile_of(&sorted, quantile);
        let scores = (!setup.anomaly_rows.is_empty())
            .then(|| -> anyhow::Result<Scores> {
                let anomalies = errors(setup, weights, &setup.anomaly_rows)?;
                Ok(Scores::of(&validation, &anomalies, threshold))
            })
            .transpose()?;
        Ok(Threshold {
            error: "mean over the features of the loss between the standardised row and its reconstruction (eval mode)",
            quantile,
            threshold,
            validation_rows: validation.len(),
            median_validation_error: quantile_of(&sorted, 0.5),
            scores,
        })
    }
}

impl Scores {
    /// The flag `error > threshold` on normal and anomalous rows' errors.
    pub fn of(normal: &[f32], anomalies: &[f32], threshold: f32) -> Self {
        let flagged = |errors: &[f32]| errors.iter().filter(|&&e| e > threshold).count();
        let (tp, fp) = (flagged(anomalies), flagged(normal));
        let fn_ = anomalies.len() - tp;
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f32 / b as f32);
        Scores {
            normal_rows: normal.len(),
            anomaly_rows: anomalies.len(),
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
        }
    }
}

/// `numpy.quantile(values, q)` of ascending `sorted` values: the core's, which a device computes
/// its threshold with.
pub use tinytrain::metrics::quantile as quantile_of;

/// The reconstruction error of each of `rows`.
pub fn errors(setup: &Setup<'_>, weights: &Weights, rows: &[u32]) -> anyhow::Result<Vec<f32>> {
    let raw = setup.table.dataset();
    let data = Standardized::features_only(&raw, setup.features.as_deref());
    let rows = rows.iter().map(|&r| r as usize);
    errors_of(&setup.layers, setup.head, weights, &data, rows)
}

/// The reconstruction error of each of `rows` of `data` (as the network reads them, standardised)
/// through the network `layers` with `weights`, in eval mode.
pub fn errors_of(
    layers: &[Layer],
    head: Head,
    weights: &Weights,
    data: &impl Dataset,
    rows: impl Iterator<Item = usize>,
) -> anyhow::Result<Vec<f32>> {
    let plan = Plan::of(layers).map_err(|e| anyhow::anyhow!("internal error: {e}"))?;
    let mut memory = VecMemory::try_new(&plan, OptimizerKind::SGD)?;
    let mut net = Mlp::new(layers, memory.buffers(), 0)
        .map_err(|e| anyhow::anyhow!("internal error: {e}"))?;
    weights
        .load_into(&mut net)
        .context("the autoencoder's weights")?;
    net.set_mode(Mode::Eval);
    let width = data.features();
    let (mut x, mut grad) = (vec![0.0; width], vec![0.0; width]);
    Ok(rows
        .map(|row| {
            data.load(row, &mut x);
            net.input_mut().copy_from_slice(&x);
            let out = net.forward();
            head.regression_loss_and_grad(out, &x, &mut grad)
        })
        .collect())
}

/// `tinytrain predict` of an autoencoder's run: per row its reconstruction error and the flag
/// `error > threshold` (threshold.json's), as CSV `reconstruction_error,anomaly`; and, when the
/// rows carry the label and the run had `--normal CLASS`, the flag's precision and recall on them
/// (the other classes are the anomalies).
pub fn predict(model: &Model, inputs: &Inputs) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let path = model.dir.join(THRESHOLD);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (the run's anomaly threshold)",
            path.display()
        )
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let threshold = json["threshold"]
        .as_f64()
        .with_context(|| format!("{} has no threshold", path.display()))?
        as f32;
    let features = model.feature_standardizer();
    let none = vec![0u16; inputs.rows()];
    let unlabelled = SliceDataset::classification(&inputs.features, inputs.width, &none);
    let raw = inputs.dataset().unwrap_or(unlabelled);
    let data = Standardized::features_only(&raw, features.as_deref());
    let errors = errors_of(
        &model.layers,
        model.head,
        &model.weights,
        &data,
        0..inputs.rows(),
    )?;
    let mut csv = String::from("reconstruction_error,anomaly\n");
    for &e in &errors {
        csv.push_str(&format!("{e},{}\n", u8::from(e > threshold)));
    }
    let normal = model
        .spec
        .autoencoder
        .as_ref()
        .and_then(|a| a.normal.as_ref());
    let scored = match (normal, inputs.dataset()) {
        (Some(normal), Some(labelled)) => model
            .class_names
            .iter()
            .position(|c| c == normal)
            .map(|class| {
                let (mut normal_errors, mut anomalies) = (Vec::new(), Vec::new());
                for (row, &e) in errors.iter().enumerate() {
                    match labelled.target(row).class() == Some(class as u16) {
                        true => normal_errors.push(e),
                        false => anomalies.push(e),
                    }
                }
                let s = Scores::of(&normal_errors, &anomalies, threshold);
                let percent = |v: Option<f32>| v.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
                format!(
                    "error > {threshold} flags {} of {} anomalies (label ≠ {normal}) and {} of {} normal rows: precision {}, recall {}",
                    s.true_positives, s.anomaly_rows, s.false_positives, s.normal_rows,
                    percent(s.precision), percent(s.recall)
                )
            }),
        _ => None,
    };
    Ok((csv.into_bytes(), scored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_and_recall_count_the_flag() {
        // Threshold 1: normal rows 0.5, 2 (one false positive); anomalies 3, 0.2, 5 (two found).
        let s = Scores::of(&[0.5, 2.0], &[3.0, 0.2, 5.0], 1.0);
        assert_eq!(
            (s.true_positives, s.false_positives, s.false_negatives),
            (2, 1, 1)
        );
        assert_eq!((s.precision, s.recall), (Some(2.0 / 3.0), Some(2.0 / 3.0)));
        assert_eq!(Scores::of(&[0.5], &[0.2], 1.0).precision, None);
    }
}
