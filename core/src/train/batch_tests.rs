//! The batch-major epoch: the same bits as the sample-at-a-time loop without a batch norm (every
//! optimiser, two dropout layers, a bad input row and a sample whose loss overflows); with a batch
//! norm, the refusals, the skipped single-sample batch, and gradient checks through the batch
//! statistics by finite differences of an independent `f64` reference.

use super::*;
use crate::data::SliceDataset;
use crate::layers::Activation;
use crate::rng::Pcg32;
use crate::spec::Plan;

use super::test_memory::Mem;

/// `rows × width` features and 3 classes from a seed, values in `[-1, 1)`.
fn data(rows: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<u16>) {
    let mut rng = Pcg32::new(seed, 9);
    let features = (0..rows * width)
        .map(|_| (rng.next_u32() >> 8) as f32 / 8_388_608.0 - 1.0)
        .collect();
    let labels = (0..rows).map(|_| (rng.next_u32() % 3) as u16).collect();
    (features, labels)
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn record_bits(r: &EpochRecord) -> [u32; 4] {
    [
        r.train_loss.to_bits(),
        r.train_mae.unwrap_or(-1.0).to_bits(),
        r.val_loss.unwrap_or(-1.0).to_bits(),
        r.val_mae.unwrap_or(-1.0).to_bits(),
    ]
}

const TWO_DROPOUTS: [Layer; 7] = [
    Layer::dense(6, 16),
    Layer::Activation(Activation::Relu),
    Layer::Dropout { p: 0.2 },
    Layer::dense(16, 12),
    Layer::Activation(Activation::Tanh),
    Layer::Dropout { p: 0.1 },
    Layer::dense(12, 1),
];

/// Wide enough for every block of the host's batch kernels (64 and 8 inputs, 8 rows, 8 samples)
/// and their remainders.
const WIDE: [Layer; 5] = [
    Layer::dense(75, 19),
    Layer::Activation(Activation::Relu),
    Layer::dense(19, 70),
    Layer::Activation(Activation::LeakyRelu { slope: 0.1 }),
    Layer::dense(70, 1),
];

/// Four epochs of `config` over 53 rows (the last batch smaller), one of them with a NaN input and
/// one whose target makes the loss infinite: records, parameters and skip counts, on memory holding
/// `slots` samples.
fn train(
    layers: &'static [Layer],
    config: TrainConfig,
    slots: usize,
) -> (Vec<[u32; 4]>, Vec<u32>, DivergenceStats, bool) {
    let width = Plan::of(layers).unwrap().inputs;
    let (mut features, labels) = data(53, width, 5);
    features[7 * width + 2] = f32::NAN;
    let mut targets: Vec<f32> = labels.iter().map(|&c| f32::from(c) - 1.0).collect();
    targets[20] = f32::MAX;
    let dataset = SliceDataset::regression(&features, width, &targets);
    let plan = Plan::of(layers).unwrap().batched(slots).unwrap();
    let mut mem = Mem::new(&plan, config.optimizer);
    let mut trainer =
        Trainer::<3>::new(layers, mem.buffers(), config, Head::LinearMse, 11).unwrap();
    let batch_major = trainer.batch_major();
    let mut order: Vec<u32> = (0..45).collect();
    let validation: Vec<u32> = (45..53).collect();
    let records = (0..4)
        .map(|_| record_bits(&trainer.run_epoch(&dataset, &mut order, &validation, |_| {})))
        .collect();
    let params = bits(trainer.net().params());
    (records, params, trainer.divergence_stats(), batch_major)
}

#[test]
fn batch_major_equals_sample_at_a_time_for_every_optimiser() {
    let momentum = OptimizerKind::Sgd {
        momentum: 0.9,
        nesterov: true,
        weight_decay: 0.01,
    };
    let cases = [
        (OptimizerKind::SGD, None, 8),
        (momentum, None, 8),
        (OptimizerKind::ADAM, None, 16),
        (OptimizerKind::ADAMW, Some(0.5), 8),
    ];
    for (layers, (optimizer, clip_norm, batch)) in cases
        .iter()
        .flat_map(|&case| [(&TWO_DROPOUTS[..], case), (&WIDE[..], case)])
    {
        let config = TrainConfig {
            lr: 0.01,
            optimizer,
            batch_size: batch,
            clip_norm,
            ..TrainConfig::DEFAULT
        };
        let (records, params, stats, one_at_a_time) = train(layers, config, 1);
        let (batch_records, batch_params, batch_stats, batch_major) =
            train(layers, config, batch as usize);
        assert!(
            !one_at_a_time && batch_major,
            "{optimizer:?}: the paths compared"
        );
        assert_eq!(records, batch_records, "{optimizer:?}: records");
        assert_eq!(params, batch_params, "{optimizer:?}: parameters");
        assert_eq!(stats, batch_stats, "{optimizer:?}: what the guard skipped");
        assert_eq!(
            (stats.bad_inputs, stats.bad_losses),
            (4, 4),
            "{optimizer:?}: the NaN row and the infinite loss, every epoch"
        );
    }
}

const BN: [Layer; 5] = [
    Layer::dense(3, 5),
    Layer::batch_norm(5),
    Layer::Activation(Activation::Tanh),
    Layer::dense(5, 3),
    Layer::batch_norm(3),
];

#[test]
fn batch_norm_refuses_batch_one_and_buffers_short_of_the_batch() {
    let plan = Plan::of(&BN).unwrap();
    let config = |batch_size| TrainConfig {
        batch_size,
        ..TrainConfig::DEFAULT
    };
    let head = Head::SoftmaxCrossEntropy;
    let mut mem = Mem::new(&plan.batched(4).unwrap(), OptimizerKind::ADAM);
    let error = Trainer::<3>::new(&BN, mem.buffers(), config(1), head, 1).unwrap_err();
    assert_eq!(error, ShapeError::BatchNormNeedsBatch);
    let error = Trainer::<3>::new(&BN, mem.buffers(), config(5), head, 1).unwrap_err();
    assert_eq!(error, ShapeError::BatchBuffersTooSmall);
    assert!(Trainer::<3>::new(&BN, mem.buffers(), config(4), head, 1).is_ok());
    assert!(error.to_string().contains("batch"), "{error}");
}

/// 9 rows at batch 4: two steps, and the ninth row (a batch of one) neither trains nor counts.
#[test]
fn a_single_sample_batch_is_skipped_with_batch_norm() {
    let (features, labels) = data(9, 3, 2);
    let dataset = SliceDataset::classification(&features, 3, &labels);
    let config = TrainConfig {
        batch_size: 4,
        shuffle: false,
        ..TrainConfig::DEFAULT
    };
    let plan = Plan::of(&BN).unwrap().batched(4).unwrap();
    let mut mem = Mem::new(&plan, config.optimizer);
    let mut trainer =
        Trainer::<3>::new(&BN, mem.buffers(), config, Head::SoftmaxCrossEntropy, 3).unwrap();
    let mut order: Vec<u32> = (0..9).collect();
    trainer.run_epoch(&dataset, &mut order, &[], |_| {});
    assert_eq!(trainer.optimizer().steps(), 2);
    assert_eq!(trainer.train_summary().loss.count(), 8);
    let stats = trainer.net().batch_norm_layer(0).unwrap();
    assert!(stats.running_var.iter().all(|v| v.is_finite() && *v != 1.0));
}

// ---- gradient checks through the batch statistics ----

/// The summed cross-entropy of a batch through `BN` in train mode, plainly in `f64`.
fn reference_loss(params: &[f64], xs: &[[f32; 3]], labels: &[u16]) -> f64 {
    let dense = |v: &[Vec<f64>], at: usize, inputs: usize, outputs: usize| -> Vec<Vec<f64>> {
        let (w, b) = params[at..].split_at(inputs * outputs);
        v.iter()
            .map(|x| {
                (0..outputs)
                    .map(|o| b[o] + (0..inputs).map(|i| w[o * inputs + i] * x[i]).sum::<f64>())
                    .collect()
            })
            .collect()
    };
    let norm = |v: Vec<Vec<f64>>, at: usize, n: usize| -> Vec<Vec<f64>> {
        let b = v.len() as f64;
        let (gamma, beta) = params[at..at + 2 * n].split_at(n);
        let mean: Vec<f64> = (0..n)
            .map(|j| v.iter().map(|x| x[j]).sum::<f64>() / b)
            .collect();
        let var: Vec<f64> = (0..n)
            .map(|j| v.iter().map(|x| (x[j] - mean[j]).powi(2)).sum::<f64>() / b)
            .collect();
        v.iter()
            .map(|x| {
                (0..n)
                    .map(|j| gamma[j] * (x[j] - mean[j]) / (var[j] + 1e-5).sqrt() + beta[j])
                    .collect()
            })
            .collect()
    };
    let v: Vec<Vec<f64>> = xs
        .iter()
        .map(|x| x.iter().map(|&x| f64::from(x)).collect())
        .collect();
    let v = dense(&v, 0, 3, 5);
    let v: Vec<Vec<f64>> = norm(v, 20, 5)
        .into_iter()
        .map(|x| x.into_iter().map(f64::tanh).collect())
        .collect();
    let v = norm(dense(&v, 30, 5, 3), 48, 3);
    v.iter()
        .zip(labels)
        .map(|(z, &c)| {
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + z.iter().map(|z| (z - m).exp()).sum::<f64>().ln() - z[usize::from(c)]
        })
        .sum()
}

/// Analytic gradients (the core, `f32`) against Richardson-extrapolated central differences of
/// the reference for every parameter, at batch sizes 2, 3 and 32.
#[test]
fn batch_norm_gradients_match_finite_differences() {
    for batch in [2usize, 3, 32] {
        let (features, labels) = data(batch, 3, 40 + batch as u64);
        let xs: Vec<[f32; 3]> = features.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
        let plan = Plan::of(&BN).unwrap().batched(batch).unwrap();
        let mut mem = Mem::new(&plan, OptimizerKind::SGD);
        let mut net = Mlp::new(&BN, mem.buffers(), 7).unwrap();
        // Non-trivial γ and β (the initial 1 and 0 would hide a swapped term).
        let mut rng = Pcg32::new(3, 1);
        for p in &mut net.params_mut()[20..30] {
            *p = 0.5 + (rng.next_u32() >> 8) as f32 / 16_777_216.0;
        }
        for p in &mut net.params_mut()[48..54] {
            *p = (rng.next_u32() >> 8) as f32 / 16_777_216.0 - 0.5;
        }
        for (s, x) in xs.iter().enumerate() {
            net.input_mut_at(s).copy_from_slice(x);
        }
        net.zero_grad();
        net.forward_batch(batch);
        let mut loss = 0.0f64;
        for (s, &c) in labels.iter().enumerate() {
            let (out, grad) = net.output_and_grad_mut_at(s);
            loss += f64::from(Head::SoftmaxCrossEntropy.loss_and_grad(
                out,
                crate::data::Target::Class(c),
                grad,
            ));
        }
        net.backward_batch();
        let params: Vec<f64> = net.params().iter().map(|&p| f64::from(p)).collect();
        let reference = reference_loss(&params, &xs, &labels);
        assert!(
            (loss - reference).abs() <= 1e-5 * reference.abs(),
            "batch {batch}: loss {loss} vs reference {reference}"
        );
        let h = 1e-3;
        let mut worst = 0.0f64;
        for (k, &analytic) in net.grads().iter().enumerate() {
            let at = |delta: f64| {
                let mut p = params.clone();
                p[k] += delta;
                reference_loss(&p, &xs, &labels)
            };
            let d = |h: f64| (at(h) - at(-h)) / (2.0 * h);
            let numeric = d(h) + (d(h) - d(2.0 * h)) / 3.0;
            let error = (f64::from(analytic) - numeric).abs();
            // Relative 1e-5, as the dense gradient check; the absolute floor grows with the batch,
            // since a gradient is a sum over the batch's samples carrying about one f32 rounding
            // each. It matters where the true gradient is exactly 0: the bias of a dense layer
            // before a batch norm, which the mean subtraction removes (the worst case seen, at
            // batch 32, is 0.2 of this tolerance).
            let tolerance = 1e-7 * batch as f64 + 1e-5 * numeric.abs();
            worst = worst.max(error / tolerance);
            assert!(
                error <= tolerance,
                "batch {batch}, parameter {k}: analytic {analytic} vs numeric {numeric}"
            );
        }
        assert!(worst > 0.0, "batch {batch}: every gradient compared");
    }
}
