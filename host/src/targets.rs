//! Several regression targets (`train --targets a,b`): each target's error in its own units.
//!
//! The per-epoch metrics of such a run average the error over every output, as PyTorch's
//! `reduction='mean'` averages its loss; since the columns have different units, those errors are
//! in standard deviations of each target (with `--normalize standard`). This is the per-column
//! view: each target's MAE and RMSE in its column's units, over the validation rows after the last
//! epoch (`targets.json` in the run directory), and over the rows `tinytrain predict` reads.

use anyhow::Context;
use tinytrain::data::Dataset;
use tinytrain::metrics::RegressionMetrics;
use tinytrain::network::{Mlp, Mode};
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::optim::OptimizerKind;

use crate::csv_data::Targets;
use crate::memory::VecMemory;
use crate::pipeline::Setup;
use crate::weights::Weights;
use crate::MAX_TARGETS;

/// The file in a run directory.
pub const FILE: &str = "targets.json";

/// One target's errors.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TargetError {
    /// Its column.
    pub column: String,
    /// Mean absolute error, in the column's units.
    pub mae: f32,
    /// Root mean squared error, in the column's units.
    pub rmse: f32,
}

/// Every target's errors over some rows.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PerTarget {
    /// What the rows are (`validation` for a run's file).
    pub rows: &'static str,
    /// How many.
    pub count: usize,
    /// One entry per target, in output order.
    pub targets: Vec<TargetError>,
}

/// Output `j` of the network in target `j`'s units: `out · std + mean` with `std = 1 / scale`, as
/// the core maps a single target's output back ([`tinytrain::train::TrainConfig::target_scale`]).
pub fn to_units(target: Option<&Standardizer<MAX_TARGETS>>, j: usize, out: f32) -> f32 {
    match target {
        Some(t) => match (t.mean().get(j), t.scale().get(j)) {
            (Some(&mean), Some(&scale)) => out * (1.0 / scale) + mean,
            _ => out,
        },
        None => out,
    }
}

/// The errors of `outputs` (the network's, row-major, `names.len()` per row) against `truth` (the
/// rows' values in their units, same layout), with `target` the standardiser the network was
/// trained behind (`None`: `--normalize none`).
pub fn errors(
    rows: &'static str,
    names: &[String],
    outputs: &[f32],
    truth: &[f32],
    target: Option<&Standardizer<MAX_TARGETS>>,
) -> PerTarget {
    let k = names.len().max(1);
    let mut metrics = vec![RegressionMetrics::new(); k];
    for (out, want) in outputs.chunks_exact(k).zip(truth.chunks_exact(k)) {
        for (j, (&z, &y)) in out.iter().zip(want).enumerate() {
            metrics[j].update(to_units(target, j, z), y);
        }
    }
    PerTarget {
        rows,
        count: truth.len() / k,
        targets: names
            .iter()
            .zip(&metrics)
            .map(|(column, m)| TargetError {
                column: column.clone(),
                mae: m.mae(),
                rmse: m.rmse(),
            })
            .collect(),
    }
}

/// A `--targets` run's errors per target on its validation rows, with `weights` (`None`: the run
/// has a single target, its label).
pub fn of_run(setup: &Setup<'_>, weights: &Weights) -> anyhow::Result<Option<PerTarget>> {
    let (names, Targets::Values(values)) = (&setup.spec.targets, &setup.table.targets) else {
        return Ok(None);
    };
    if names.is_empty() {
        return Ok(None);
    }
    let raw = setup.table.dataset();
    let data = Standardized::new(&raw, setup.features.as_deref(), setup.target.as_ref());
    let mut memory = VecMemory::try_new(&setup.plan, OptimizerKind::SGD)?;
    let mut net = Mlp::new(&setup.layers, memory.buffers(), 0)
        .map_err(|e| anyhow::anyhow!("internal error: {e}"))?;
    weights.load_into(&mut net).context("the run's weights")?;
    net.set_mode(Mode::Eval);
    let k = names.len();
    let (mut outputs, mut truth) = (Vec::new(), Vec::new());
    for &row in &setup.val_rows {
        let row = row as usize;
        data.load(row, net.input_mut());
        outputs.extend_from_slice(net.forward());
        truth.extend_from_slice(&values[row * k..(row + 1) * k]);
    }
    Ok(Some(errors(
        "validation",
        names,
        &outputs,
        &truth,
        setup.target.as_ref(),
    )))
}

impl std::fmt::Display for PerTarget {
    /// `per target, on 30 validation rows: petal_length_cm MAE 0.21 RMSE 0.27 | petal_width_cm …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "per target, on {} {} rows:", self.count, self.rows)?;
        for (i, t) in self.targets.iter().enumerate() {
            let sep = if i == 0 { " " } else { " | " };
            write!(f, "{sep}{} MAE {:.4} RMSE {:.4}", t.column, t.mae, t.rmse)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_is_measured_in_its_own_units() {
        // Two targets: the first standardised with mean 10 and std 2 (scale 0.5), the second not.
        let target = Standardizer::<MAX_TARGETS>::from_stats(&[10.0, 0.0], &[0.5, 1.0]);
        let names = ["a".to_string(), "b".to_string()];
        // Outputs 1 and -1 for `a` are 12 and 8; truth 13 and 8 gives errors 1 and 0.
        let outputs = [1.0, 0.5, -1.0, -0.5];
        let truth = [13.0, 0.0, 8.0, 0.5];
        let e = errors("validation", &names, &outputs, &truth, Some(&target));
        assert_eq!(e.count, 2);
        assert_eq!(
            (e.targets[0].mae, e.targets[0].rmse),
            (0.5, (0.5f32).sqrt())
        );
        assert_eq!(e.targets[1].mae, 0.75);
        assert!((e.targets[1].rmse - 0.625f32.sqrt()).abs() <= 1e-7);
        assert_eq!(
            e.to_string(),
            "per target, on 2 validation rows: a MAE 0.5000 RMSE 0.7071 | b MAE 0.7500 RMSE 0.7906"
        );
    }
}
