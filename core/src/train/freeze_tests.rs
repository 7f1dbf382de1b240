//! Freezing and multi-output regression: a frozen network's gradients are the tail of the full
//! network's, bit for bit, and nothing below the lowest trainable layer is computed; frozen weights
//! stay bit-identical through training; multi-output heads (and an autoencoder) against finite
//! differences of an independent `f64` reference, with and without a frozen layer.

use super::*;
use crate::data::{Reconstruct, SliceDataset, Target};
use crate::layers::Activation;
use crate::rng::Pcg32;
use crate::spec::{frozen_params, Plan};

use super::test_memory::Mem;

fn uniform(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Pcg32::new(seed, 5);
    (0..n)
        .map(|_| (rng.next_u32() >> 8) as f32 / 8_388_608.0 - 1.0)
        .collect()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

const DEEP: [Layer; 7] = [
    Layer::dense(5, 8),
    Layer::batch_norm(8),
    Layer::Activation(Activation::Tanh),
    Layer::dense(8, 6),
    Layer::Activation(Activation::Relu),
    Layer::Dropout { p: 0.25 },
    Layer::dense(6, 3),
];

/// For every place to freeze, a batch through the frozen network gives exactly the full
/// network's gradients of the trainable parameters, in a gradient buffer that holds only those.
#[test]
fn frozen_gradients_are_the_full_networks_tail_bit_for_bit() {
    let batch = 4;
    let xs = uniform(batch * 5, 1);
    let labels = [0u16, 2, 1, 2];
    let run = |freeze: usize| {
        let mut mem = Mem::frozen(&DEEP, batch, freeze, OptimizerKind::SGD);
        let mut net = Mlp::new_frozen(&DEEP, mem.buffers(), 3, freeze).unwrap();
        for (s, x) in xs.chunks(5).enumerate() {
            net.input_mut_at(s).copy_from_slice(x);
        }
        net.forward_batch(batch);
        for (s, &c) in labels.iter().enumerate() {
            let (out, grad) = net.output_and_grad_mut_at(s);
            Head::SoftmaxCrossEntropy.loss_and_grad(out, Target::Class(c), grad);
        }
        net.backward_batch();
        (net.frozen(), net.grads().to_vec())
    };
    let (none, full) = run(0);
    assert_eq!(none, 0);
    let params = Plan::of(&DEEP).unwrap().params;
    for freeze in 1..DEEP.len() {
        let (frozen, grads) = run(freeze);
        assert_eq!(frozen, frozen_params(&DEEP, freeze), "freeze {freeze}");
        assert_eq!(grads.len(), params - frozen, "freeze {freeze}");
        assert_eq!(bits(&grads), bits(&full[frozen..]), "freeze {freeze}");
        assert!(grads.iter().any(|&g| g != 0.0), "freeze {freeze}");
    }
}

/// Backward stops at the lowest trainable layer: the deltas of the layers below are never
/// written (here, poisoned with NaN beforehand, they stay NaN below and the head's are finite).
#[test]
fn nothing_below_the_lowest_trainable_layer_is_computed() {
    let layers = [
        Layer::dense(4, 6),
        Layer::Activation(Activation::Relu),
        Layer::dense(6, 2),
    ];
    let mut mem = Mem::frozen(&layers, 1, 2, OptimizerKind::SGD);
    // The half a backward pass through the ReLU would write (dy of the output is the front half).
    let half = mem.deltas.len() / 2;
    mem.deltas[half..].iter_mut().for_each(|d| *d = f32::NAN);
    {
        let mut net = Mlp::new_frozen(&layers, mem.buffers(), 1, 2).unwrap();
        net.input_mut().copy_from_slice(&[0.5, -1.0, 0.25, 2.0]);
        net.forward();
        let (out, grad) = net.output_and_grad_mut();
        Head::SoftmaxCrossEntropy.loss_and_grad(out, Target::Class(1), grad);
        net.backward();
        assert_eq!(net.grads().len(), 6 * 2 + 2);
        assert!(net.grads().iter().all(|g| g.is_finite()));
    }
    assert!(
        mem.deltas[half..].iter().all(|d| d.is_nan()),
        "no input gradient below"
    );
}

/// Three epochs of Adam with the first dense layer (and its batch norm) frozen: their parameters
/// are the initial ones bit for bit, the rest moved, and the optimiser state is that of the
/// trainable part. Freezing every parametrised layer is refused.
#[test]
fn frozen_layers_keep_their_weights_through_training() {
    let rows = 30;
    let features = uniform(rows * 5, 2);
    let labels: Vec<u16> = (0..rows).map(|r| (r % 3) as u16).collect();
    let data = SliceDataset::classification(&features, 5, &labels);
    let config = TrainConfig {
        batch_size: 4,
        freeze: 3,
        ..TrainConfig::DEFAULT
    };
    let mut mem = Mem::frozen(&DEEP, 4, 3, config.optimizer);
    let frozen = frozen_params(&DEEP, 3);
    assert_eq!(frozen, 5 * 8 + 8 + 16);
    let mut trainer =
        Trainer::<3>::new(&DEEP, mem.buffers(), config, Head::SoftmaxCrossEntropy, 4).unwrap();
    let initial = trainer.net().params().to_vec();
    let mut order: Vec<u16> = (0..rows as u16).collect();
    for _ in 0..3 {
        trainer.run_epoch(&data, &mut order, &[], |_| {});
    }
    let params = trainer.net().params();
    assert_eq!(bits(&params[..frozen]), bits(&initial[..frozen]));
    assert_ne!(bits(&params[frozen..]), bits(&initial[frozen..]));
    // The frozen batch norm still tracked its running mean in train mode, as PyTorch does.
    let bn = trainer.net().batch_norm_layer(0).unwrap();
    assert!(bn.running_mean.iter().any(|&m| m != 0.0));
    // Adam's two moments of the trainable parameters only: the buffers were sized so.
    assert_eq!(
        trainer.net().state().len(),
        2 * (Plan::of(&DEEP).unwrap().params - frozen)
    );

    let everything = TrainConfig {
        freeze: DEEP.len() as u32,
        ..config
    };
    let mut mem = Mem::frozen(&DEEP, 4, 0, config.optimizer);
    let refused = Trainer::<3>::new(
        &DEEP,
        mem.buffers(),
        everything,
        Head::SoftmaxCrossEntropy,
        4,
    );
    assert_eq!(refused.err(), Some(ShapeError::NothingToTrain));
    // Freezing past the last parametrised layer (the trailing activation) is the same.
    let tail = [Layer::dense(2, 2), Layer::Activation(Activation::Relu)];
    let mut mem = Mem::frozen(&tail, 1, 0, OptimizerKind::SGD);
    assert_eq!(
        Mlp::new_frozen(&tail, mem.buffers(), 1, 1).err(),
        Some(ShapeError::NothingToTrain)
    );
}

/// The `f64` reference: `3 → 5 → tanh → 4`, a regression head averaged over the 4 outputs and the
/// batch (PyTorch's `reduction='mean'` over a `(batch, 4)` tensor). `p` is the flat parameter
/// layout (`W1`, `b1`, `W2`, `b2`).
fn reference_loss(head: Head, p: &[f64], xs: &[f32], ys: &[f32]) -> f64 {
    let (w1, rest) = p.split_at(15);
    let (b1, rest) = rest.split_at(5);
    let (w2, b2) = rest.split_at(20);
    let batch = xs.len() / 3;
    let mut total = 0.0;
    for (x, y) in xs.chunks(3).zip(ys.chunks(4)) {
        let h: Vec<f64> = (0..5)
            .map(|j| (b1[j] + (0..3).map(|i| w1[j * 3 + i] * f64::from(x[i])).sum::<f64>()).tanh())
            .collect();
        for o in 0..4 {
            let z = b2[o] + (0..5).map(|j| w2[o * 5 + j] * h[j]).sum::<f64>();
            let e = z - f64::from(y[o]);
            total += match head {
                Head::LinearMse => e * e,
                Head::LinearL1 => e.abs(),
                _ if e.abs() < 1.0 => 0.5 * e * e,
                _ => e.abs() - 0.5,
            };
        }
    }
    total / (4 * batch) as f64
}

/// Multi-output MSE, L1 and Huber heads: every trainable parameter's analytic gradient (batch
/// mean, as the trainer's step divides) against central differences of the reference; with the
/// first layer frozen the same values come out for the head, and none for the frozen layer.
#[test]
fn multi_output_gradients_match_finite_differences() {
    let layers = [
        Layer::dense(3, 5),
        Layer::Activation(Activation::Tanh),
        Layer::dense(5, 4),
    ];
    let batch = 3;
    let xs = uniform(batch * 3, 7);
    // Targets spread so that Huber sees both sides of δ = 1.
    let ys: Vec<f32> = uniform(batch * 4, 8).iter().map(|y| 2.5 * y).collect();
    for head in [Head::LinearMse, Head::LinearL1, Head::LinearHuber] {
        for freeze in [0, 2] {
            let mut mem = Mem::frozen(&layers, batch, freeze, OptimizerKind::SGD);
            let mut net = Mlp::new_frozen(&layers, mem.buffers(), 11, freeze).unwrap();
            for (s, x) in xs.chunks(3).enumerate() {
                net.input_mut_at(s).copy_from_slice(x);
            }
            net.forward_batch(batch);
            let mut loss = 0.0f64;
            for (s, y) in ys.chunks(4).enumerate() {
                let (out, grad) = net.output_and_grad_mut_at(s);
                loss += f64::from(head.regression_loss_and_grad(out, y, grad));
            }
            net.backward_batch();
            let params: Vec<f64> = net.params().iter().map(|&p| f64::from(p)).collect();
            let reference = reference_loss(head, &params, &xs, &ys);
            let mean = loss / batch as f64;
            assert!(
                (mean - reference).abs() <= 1e-6,
                "{head:?}: {mean} vs {reference}"
            );
            let frozen = net.frozen();
            assert_eq!(frozen, if freeze == 0 { 0 } else { 20 });
            for (k, &analytic) in net.grads().iter().enumerate() {
                let at = |delta: f64| {
                    let mut p = params.clone();
                    p[frozen + k] += delta;
                    reference_loss(head, &p, &xs, &ys)
                };
                let h = 1e-4;
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                let analytic = f64::from(analytic) / batch as f64;
                assert!(
                    (analytic - numeric).abs() <= 1e-5 + 1e-4 * numeric.abs(),
                    "{head:?}, freeze {freeze}, parameter {}: {analytic} vs {numeric}",
                    frozen + k
                );
            }
        }
    }
}

/// PyTorch's values for one sample of 3 outputs: `F.mse_loss(z, y)` = 17/3 with gradient
/// `2(z − y)/3`, `F.l1_loss` = 3/3 · … , `F.huber_loss` (δ = 1), all with `reduction='mean'`;
/// and one output gives [`Head::loss_and_grad`]'s bits.
#[test]
fn multi_output_losses_are_pytorch_means() {
    let (z, y) = ([1.0f32, -2.0, 0.5], [3.0f32, -2.0, 0.0]);
    let mut g = [0.0; 3];
    // errors (-2, 0, 0.5): squared 4 + 0 + 0.25
    assert_eq!(
        Head::LinearMse.regression_loss_and_grad(&z, &y, &mut g),
        4.25 / 3.0
    );
    assert_eq!(g, [-4.0 / 3.0, 0.0, 1.0 / 3.0]);
    assert_eq!(
        Head::LinearL1.regression_loss_and_grad(&z, &y, &mut g),
        2.5 / 3.0
    );
    assert_eq!(g, [-1.0 / 3.0, 0.0, 1.0 / 3.0]);
    // Huber: |−2| − 0.5 = 1.5, 0, 0.5·0.25 = 0.125
    assert_eq!(
        Head::LinearHuber.regression_loss_and_grad(&z, &y, &mut g),
        1.625 / 3.0
    );
    assert_eq!(g, [-1.0 / 3.0, 0.0, 0.5 / 3.0]);
    for head in [Head::LinearMse, Head::LinearL1, Head::LinearHuber] {
        for (z, y) in [(0.25f32, -1.5f32), (3.0, 0.5), (0.1, 0.1)] {
            let (mut a, mut b) = ([0.0], [0.0]);
            let one = head.loss_and_grad(&[z], Target::Value(y), &mut a);
            let many = head.regression_loss_and_grad(&[z], &[y], &mut b);
            assert_eq!(
                (one.to_bits(), a[0].to_bits()),
                (many.to_bits(), b[0].to_bits())
            );
        }
    }
}

/// An autoencoder (`5 → 2 → 5`, input = target) trains through the epoch loop: the
/// reconstruction error falls, and the epoch's MAE counts every output against its input.
#[test]
fn an_autoencoder_learns_to_reconstruct() {
    let layers = [
        Layer::dense(5, 3),
        Layer::Activation(Activation::Tanh),
        Layer::dense(3, 5),
    ];
    let rows = 64;
    // Rank-2 data: the bottleneck of 3 can hold it.
    let basis = uniform(10, 3);
    let codes = uniform(rows * 2, 4);
    let basis = &basis;
    let features: Vec<f32> = codes
        .chunks(2)
        .flat_map(|c| (0..5).map(move |i| c[0] * basis[i] + c[1] * basis[5 + i]))
        .collect();
    let labels = vec![0u16; rows];
    let raw = SliceDataset::classification(&features, 5, &labels);
    let data = Reconstruct(&raw);
    let config = TrainConfig {
        lr: 0.01,
        batch_size: 8,
        ..TrainConfig::DEFAULT
    };
    let mut mem = Mem::frozen(&layers, 1, 0, config.optimizer);
    let mut trainer =
        Trainer::<2>::new(&layers, mem.buffers(), config, Head::LinearMse, 1).unwrap();
    let mut order: Vec<u16> = (0..48).collect();
    let validation: Vec<u16> = (48..64).collect();
    let first = trainer.run_epoch(&data, &mut order, &validation, |_| {});
    let mut last = first;
    for _ in 0..150 {
        last = trainer.run_epoch(&data, &mut order, &validation, |_| {});
    }
    let (before, after) = (first.val_loss.unwrap(), last.val_loss.unwrap());
    assert!(
        after < 0.1 * before,
        "reconstruction error {before} -> {after}"
    );
    assert!(last.val_mae.is_some() && last.train_acc.is_none());
    // The MAE over 16 rows × 5 outputs, recomputed from the network's own reconstructions.
    trainer.net_mut().set_mode(crate::network::Mode::Eval);
    let mut sum = 0.0f64;
    for &row in &validation {
        let mut x = [0.0; 5];
        data.load(row as usize, &mut x);
        trainer.net_mut().input_mut().copy_from_slice(&x);
        let out = trainer.net_mut().forward();
        sum += out
            .iter()
            .zip(&x)
            .map(|(o, x)| f64::from((o - x).abs()))
            .sum::<f64>();
    }
    let mae = sum / (16.0 * 5.0);
    assert!(
        (mae - f64::from(last.val_mae.unwrap())).abs() < 1e-5,
        "{mae}"
    );
}

/// A frozen front read in place (`Buffers::front`, as a firmware reads a shipped model's first
/// layers from flash) trains exactly as the network that holds every parameter in RAM: the same
/// initial head (its draws are made either way), the same records and the same trainable
/// parameters after three epochs, for fused SGD at batch 1 and for Adam on mini-batches with a
/// batch norm in the front; a front of the wrong length is refused.
#[test]
fn a_front_read_in_place_trains_as_the_copy_in_ram() {
    let rows = 30;
    let features = uniform(rows * 5, 6);
    let labels: Vec<u16> = (0..rows).map(|r| (r % 3) as u16).collect();
    let data = SliceDataset::classification(&features, 5, &labels);
    for (freeze, config) in [
        (
            3,
            TrainConfig {
                batch_size: 4,
                freeze: 3,
                ..TrainConfig::DEFAULT
            },
        ),
        (
            1,
            TrainConfig {
                batch_size: 1,
                optimizer: OptimizerKind::SGD,
                lr: 0.05,
                freeze: 1,
                ..TrainConfig::DEFAULT
            },
        ),
    ] {
        // Plain SGD at batch 1 has no batch norm: DEEP without its first dense layer and norm.
        let layers: Vec<Layer> = match freeze {
            1 => [&[Layer::dense(5, 6)][..], &DEEP[4..]].concat(),
            _ => DEEP.to_vec(),
        };
        let frozen = frozen_params(&layers, freeze);
        let batch = config.batch_size as usize;
        // The network that holds everything: its frozen front is the one the other reads in place.
        let mut full = Mem::frozen(&layers, batch, freeze, config.optimizer);
        let mut a = Trainer::<3>::new(
            &layers,
            full.buffers(),
            config,
            Head::SoftmaxCrossEntropy,
            9,
        )
        .unwrap();
        let front = a.net().params()[..frozen].to_vec();
        let mut part = Mem::frozen(&layers, batch, freeze, config.optimizer);
        part.params.truncate(part.params.len() - frozen);
        let buffers = Buffers {
            front: &front,
            ..part.buffers()
        };
        let mut b =
            Trainer::<3>::new(&layers, buffers, config, Head::SoftmaxCrossEntropy, 9).unwrap();
        assert_eq!(
            (b.net().front().len(), b.net().params().len()),
            (frozen, a.net().params().len() - frozen)
        );
        assert_eq!(
            bits(b.net().params()),
            bits(&a.net().params()[frozen..]),
            "the head's init"
        );
        let mut order_a: Vec<u16> = (0..rows as u16).collect();
        let mut order_b = order_a.clone();
        for _ in 0..3 {
            let ra = a.run_epoch(&data, &mut order_a, &[0, 1, 2, 3, 4], |_| {});
            let rb = b.run_epoch(&data, &mut order_b, &[0, 1, 2, 3, 4], |_| {});
            assert_eq!(ra, rb, "freeze {freeze}");
        }
        assert_eq!(
            bits(b.net().params()),
            bits(&a.net().params()[frozen..]),
            "freeze {freeze}"
        );
        assert_eq!(bits(b.net().stats()), bits(a.net().stats()));
        assert_ne!(bits(b.net().params()), bits(&front), "it trained");
        for k in 0..2 {
            assert_eq!(
                a.net().dense_layer(k).map(|l| bits(l.2)),
                b.net().dense_layer(k).map(|l| bits(l.2))
            );
        }
    }
    // A front that is not the frozen layers' parameters.
    let mut mem = Mem::frozen(&DEEP, 4, 3, OptimizerKind::SGD);
    let short = vec![0.0; 5];
    let buffers = Buffers {
        front: &short,
        ..mem.buffers()
    };
    assert_eq!(
        Mlp::new_frozen(&DEEP, buffers, 1, 3).err(),
        Some(ShapeError::FrontMismatch)
    );
}
