//! Determinism and the meaning of a mini-batch, on the bundled iris data (`data/iris.csv`, read by
//! a small CSV reader in `tinytrain_tests`).
//!
//! * Two `Trainer`s from the same seed, on the same data, produce bit-identical `EpochRecord`s
//!   (compared with `to_bits`) over 5 epochs and bit-identical parameters; another seed differs.
//! * With `batch_size = N` (full batch), no shuffling and SGD, one epoch equals one manual step:
//!   per-sample forward/loss/backward accumulating the gradients, then `Optimizer::step` with
//!   `grad_scale = 1/N`. Smaller batches equal one manual step per batch (the last, partial batch
//!   scaled by 1/its size). Reference values are that manual computation; equality is bit for bit
//!   (same operations in the same order), including the dropout masks drawn on the way.

use tinytrain::data::{split, Dataset};
use tinytrain::metrics::{ConfusionMatrix, Welford};
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::optim::Optimizer;
use tinytrain::prelude::*;
use tinytrain_host::csv_data;
use tinytrain_host::memory::VecMemory;

const LAYERS: [Layer; 5] = [
    Layer::dense(4, 12),
    Layer::Activation(Activation::Relu),
    Layer::Dropout { p: 0.2 },
    Layer::dense(12, 3),
    Layer::Activation(Activation::Tanh),
];

struct Iris {
    features: Vec<f32>,
    labels: Vec<u16>,
}

fn iris() -> Iris {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/iris.csv");
    // The project's one CSV reader, the host's.
    let table = csv_data::load(&path, None, None).unwrap();
    let width = table.width();
    let csv_data::Targets::Classes { labels, .. } = table.targets else {
        panic!("iris.csv is a classification dataset");
    };
    let features = table.features;
    assert_eq!(
        (labels.len(), width),
        (150, 4),
        "iris.csv: 150 samples of 4 features"
    );
    assert_eq!(labels.iter().copied().max(), Some(2));
    Iris { features, labels }
}

/// A stratified 80/20 split, fixed (seed 1) for all runs.
fn split_rows(data: &impl Dataset) -> (Vec<u32>, Vec<u32>) {
    let (mut train, mut val) = (vec![0u32; data.len()], vec![0u32; data.len()]);
    let (nt, nv) = split(data, 3, 0.2, 1, &mut train, &mut val).unwrap();
    train.truncate(nt);
    val.truncate(nv);
    assert_eq!((nt, nv), (120, 30));
    (train, val)
}

/// Every field of a record as bits (`None` stays `None`).
fn record_bits(r: &EpochRecord) -> Vec<Option<u32>> {
    let fields = [
        Some(r.train_loss),
        r.train_acc,
        r.val_loss,
        r.val_acc,
        Some(r.lr),
        r.val_f1,
        r.train_mae,
        r.val_mae,
        r.val_rmse,
    ];
    std::iter::once(Some(r.epoch))
        .chain(fields.iter().map(|f| f.map(f32::to_bits)))
        .collect()
}

/// Trains 5 epochs from `seed` (standardised features, Adam, cosine schedule, clipping, shuffling,
/// dropout); returns the records and the final parameters.
fn five_epochs(seed: u64) -> (Vec<EpochRecord>, Vec<f32>) {
    let iris = iris();
    let raw = SliceDataset::classification(&iris.features, 4, &iris.labels);
    let (mut train, val) = split_rows(&raw);
    let mut standardizer = Standardizer::<4>::new(4);
    standardizer.fit(&raw, &train, &mut [0.0; 4]);
    let data = Standardized::features_only(&raw, Some(&standardizer));
    let config = TrainConfig {
        lr: 0.02,
        optimizer: OptimizerKind::ADAM,
        schedule: Schedule::Cosine {
            t_max: 5,
            eta_min: 0.001,
        },
        batch_size: 16,
        shuffle: true,
        clip_norm: Some(1.0),
        ..TrainConfig::default()
    };
    let mut mem = VecMemory::of(&LAYERS, config.optimizer).unwrap();
    let mut trainer = Trainer::<3>::new(
        &LAYERS,
        mem.buffers(),
        config,
        Head::SoftmaxCrossEntropy,
        seed,
    )
    .unwrap();
    let records = (0..5)
        .map(|_| trainer.run_epoch(&data, &mut train, &val, |_| {}))
        .collect();
    (records, trainer.net().params().to_vec())
}

#[test]
fn same_seed_same_bits_other_seed_other_bits() {
    let (records_a, params_a) = five_epochs(42);
    let (records_b, params_b) = five_epochs(42);
    assert_eq!(records_a.len(), 5);
    for (a, b) in records_a.iter().zip(&records_b) {
        assert_eq!(record_bits(a), record_bits(b), "epoch {}", a.epoch);
    }
    let bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&params_a), bits(&params_b));
    // The records are complete and the run learns something.
    let last = records_a.last().unwrap();
    assert_eq!(last.epoch, 5);
    assert!(last.train_acc.is_some() && last.val_acc.is_some() && last.val_f1.is_some());
    assert!(last.train_loss < records_a[0].train_loss, "{records_a:?}");

    let (records_c, params_c) = five_epochs(43);
    assert_ne!(bits(&params_a), bits(&params_c));
    assert_ne!(record_bits(&records_a[0]), record_bits(&records_c[0]));
}

/// The losses and predictions of one pass over rows, computed by hand.
struct Tally {
    losses: Welford,
    confusion: ConfusionMatrix<3>,
}

impl Tally {
    fn new() -> Self {
        Self {
            losses: Welford::new(),
            confusion: ConfusionMatrix::new(3),
        }
    }

    /// Forward pass and loss of one row (its gradient left in the network for `backward`).
    fn add(&mut self, net: &mut Mlp<'_>, data: &impl Dataset, head: Head, row: u32) {
        data.load(row as usize, net.input_mut());
        net.forward();
        let target = data.target(row as usize);
        let (out, grad) = net.output_and_grad_mut();
        self.losses.update(head.loss_and_grad(out, target, grad));
        let predicted = head.predict_class(out).unwrap();
        self.confusion.update(target.class().unwrap(), predicted);
    }
}

/// SGD with momentum and weight decay: never the fused path.
const MOMENTUM: OptimizerKind = OptimizerKind::Sgd {
    momentum: 0.9,
    nesterov: false,
    weight_decay: 0.01,
};

/// One epoch of the trainer against manual steps (per-sample backward into the gradients, then
/// `Optimizer::step`), for a given batch size and optimiser, without shuffling. `fused`: whether the
/// trainer must take the fused SGD path (so that the manual steps check it against the unfused one).
fn trainer_equals_manual_steps(batch_size: u32, kind: OptimizerKind, fused: bool) {
    let iris = iris();
    let data = SliceDataset::classification(&iris.features, 4, &iris.labels);
    let (train, val) = split_rows(&data);
    let n = train.len();
    let config = TrainConfig {
        lr: 0.05,
        optimizer: kind,
        schedule: Schedule::Constant,
        batch_size,
        shuffle: false,
        clip_norm: None,
        ..TrainConfig::default()
    };
    let head = Head::SoftmaxCrossEntropy;
    let seed = 7;

    let mut trainer_mem = VecMemory::of(&LAYERS, kind).unwrap();
    let mut trainer =
        Trainer::<3>::new(&LAYERS, trainer_mem.buffers(), config, head, seed).unwrap();
    assert_eq!(
        trainer.fuses_sgd(config.lr),
        fused,
        "{kind:?} at batch {batch_size}"
    );
    let mut order = train.clone();
    let record = trainer.run_epoch(&data, &mut order, &val, |_| {});
    assert_eq!(order, train, "no shuffling");
    let expected_steps = n.div_ceil(batch_size as usize) as u32;
    assert_eq!(trainer.optimizer().steps(), expected_steps);

    // The same by hand.
    let mut mem = VecMemory::of(&LAYERS, kind).unwrap();
    let mut net = Mlp::new(&LAYERS, mem.buffers(), seed).unwrap();
    let mut optimizer = Optimizer::new(kind);
    let mut training = Tally::new();
    for rows in train.chunks(batch_size as usize) {
        net.zero_grad();
        for &row in rows {
            training.add(&mut net, &data, head, row);
            net.backward();
        }
        let (params, grads, state) = net.optimizer_parts();
        optimizer.step(params, grads, state, config.lr, 1.0 / rows.len() as f32);
    }
    let bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(trainer.net().params()),
        bits(net.params()),
        "batch size {batch_size}"
    );
    assert_eq!(
        record.train_loss.to_bits(),
        training.losses.mean().to_bits()
    );
    assert_eq!(record.train_acc, Some(training.confusion.accuracy()));
    assert_eq!(record.lr, config.lr);

    // Validation: eval mode, parameters after the last step.
    net.set_mode(Mode::Eval);
    let mut validation = Tally::new();
    for &row in &val {
        validation.add(&mut net, &data, head, row);
    }
    assert_eq!(
        record.val_loss.map(f32::to_bits),
        Some(validation.losses.mean().to_bits())
    );
    assert_eq!(record.val_acc, Some(validation.confusion.accuracy()));
    assert_eq!(record.val_f1, Some(validation.confusion.macro_f1()));
}

#[test]
fn full_batch_epoch_is_one_manual_step() {
    trainer_equals_manual_steps(120, MOMENTUM, false);
}

#[test]
fn mini_batches_are_manual_steps_with_a_partial_last_batch() {
    // 120 = 3·32 + 24: three full steps and one of 24 samples.
    trainer_equals_manual_steps(32, MOMENTUM, false);
    trainer_equals_manual_steps(1, MOMENTUM, false);
    trainer_equals_manual_steps(32, OptimizerKind::ADAM, false);
    trainer_equals_manual_steps(1, OptimizerKind::ADAMW, false);
}

/// Plain SGD at batch 1 takes the fused path (`Mlp::backward_sgd`: the update inside the backward
/// pass, no gradient buffer) and gives the same bits as backward, then the SGD step; Nesterov
/// without momentum is plain SGD too. (`tests/tests/firmware_qemu.rs` and
/// `host/tests/device_qemu.rs` compare it with the Cortex-M4 kernel.)
#[test]
fn plain_sgd_at_batch_1_is_fused_and_equals_backward_then_step() {
    trainer_equals_manual_steps(1, OptimizerKind::SGD, true);
    let nesterov = OptimizerKind::Sgd {
        momentum: 0.0,
        nesterov: true,
        weight_decay: 0.0,
    };
    trainer_equals_manual_steps(1, nesterov, true);
    // Batch 2 is not fused, and still the manual steps.
    trainer_equals_manual_steps(2, OptimizerKind::SGD, false);
}
