//! Regression metrics come back in the target's units: the trainer sees standardised targets
//! `(y − m)/s` and un-scales both prediction and target with `TrainConfig::target_scale = (m, s)`
//! before the MAE and RMSE, as `train --normalize standard` does. Reference: the same predictions
//! un-scaled and averaged in `f64`, from the raw targets.

use tinytrain::data::SliceDataset;
use tinytrain::prelude::*;
use tinytrain_host::memory::VecMemory;

#[test]
fn mae_and_rmse_are_in_the_targets_units() {
    // y ≈ 150 + 40·x, the scale of the diabetes targets, with deterministic noise.
    let x: Vec<f32> = (0..40).map(|i| (i as f32 - 20.0) / 10.0).collect();
    let y: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &x)| 150.0 + 40.0 * x + ((i * 7) % 11) as f32 - 5.0)
        .collect();
    let n = y.len() as f64;
    let m = y.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let s = (y.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / n).sqrt();
    let (m32, s32) = (m as f32, s as f32);
    let standardised: Vec<f32> = y.iter().map(|&v| (v - m32) / s32).collect();
    let data = SliceDataset::regression(&x, 1, &standardised);

    let layers = [Layer::dense(1, 1)];
    let config = TrainConfig {
        target_scale: (m32, s32),
        ..TrainConfig::default()
    };
    let mut memory = VecMemory::of(&layers, config.optimizer).unwrap();
    let mut trainer =
        Trainer::<2>::new(&layers, memory.buffers(), config, Head::LinearMse, 1).unwrap();
    // A fixed line in standardised units: ŷ_std = 0.5·x + 0.3 (the data's slope is about 0.86).
    trainer.net_mut().params_mut().copy_from_slice(&[0.5, 0.3]);
    let rows: Vec<u32> = (0..40).collect();
    let summary = trainer.evaluate(&data, &rows);

    let errors: Vec<f64> = x
        .iter()
        .zip(&y)
        .map(|(&x, &y)| (f64::from(0.5 * x + 0.3) * s + m) - f64::from(y))
        .collect();
    let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / n;
    let rmse = (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    let close = |got: f32, want: f64| (f64::from(got) - want).abs() <= 1e-5 * want;
    assert!(
        close(summary.regression.mae(), mae),
        "MAE {} vs {mae}",
        summary.regression.mae()
    );
    assert!(
        close(summary.regression.rmse(), rmse),
        "RMSE {} vs {rmse}",
        summary.regression.rmse()
    );
    // In standardised units the MAE would be s (≈ 47) times smaller: the un-scaling happened.
    assert!(mae > 10.0 && s > 40.0, "{mae} {s}");
}
