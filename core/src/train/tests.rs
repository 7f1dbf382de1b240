//! The epoch loop's bookkeeping, on a one-weight line `out = w·x + b` whose every step can be
//! written out: mini-batch boundaries and the last, smaller batch; `train_loss` measured before each
//! update; the progress calls; a mini-batch whose every sample was skipped; the class count.

use super::*;
use crate::data::SliceDataset;
use crate::optim::optimizer_state_len;

crate::network! {
    /// `out = w·x + b`.
    line = [Layer::dense(1, 1)]
}
crate::network! {
    /// Two inputs, three logits.
    three = [Layer::dense(2, 3)]
}

const SGD: TrainConfig = TrainConfig {
    lr: 0.1,
    optimizer: OptimizerKind::SGD,
    schedule: crate::optim::Schedule::Constant,
    batch_size: 3,
    shuffle: false,
    clip_norm: None,
    target_scale: (0.0, 1.0),
    divergence: DivergencePolicy::Skip,
    freeze: 0,
};

/// A line trainer with `w = 1`, `b = 0`.
fn line<const S: usize>(memory: &mut line::Memory<S>, config: TrainConfig) -> Trainer<'_, 2> {
    let mut trainer =
        Trainer::<2>::new(line::LAYERS, memory.buffers(), config, Head::LinearMse, 1).unwrap();
    trainer.net_mut().params_mut().copy_from_slice(&[1.0, 0.0]);
    trainer
}

/// Four samples at batch 3: one step with the mean gradient of the first three, then one with the
/// fourth alone, against the arithmetic in `f64`; the epoch's loss is the mean of the losses each
/// sample had before the step that followed it.
#[test]
fn the_last_smaller_batch_is_a_step_of_its_own() {
    let (x, y) = ([0.5f32, -0.25, 1.0, 0.75], [1.0f32, -0.5, 2.0, 1.5]);
    let data = SliceDataset::regression(&x, 1, &y);
    let mut memory = line::Memory::<0>::new();
    let mut trainer = line(&mut memory, SGD);
    let record = trainer.run_epoch(&data, &mut [0u16, 1, 2, 3], &[], |_| {});
    assert_eq!(trainer.optimizer().steps(), 2);
    assert_eq!(
        trainer.divergence_event(),
        None,
        "a clean last step is no divergence"
    );

    let (mut w, mut b, mut losses) = (1.0f64, 0.0f64, Vec::new());
    for batch in [0..3, 3..4] {
        let (mut dw, mut db) = (0.0, 0.0);
        for i in batch.clone() {
            let (x, y) = (f64::from(x[i]), f64::from(y[i]));
            let e = w * x + b - y;
            losses.push(e * e);
            dw += 2.0 * e * x;
            db += 2.0 * e;
        }
        let n = batch.len() as f64;
        w -= 0.1 * dw / n;
        b -= 0.1 * db / n;
    }
    let params = trainer.net().params();
    assert!(
        (f64::from(params[0]) - w).abs() < 1e-6,
        "w {} vs {w}",
        params[0]
    );
    assert!(
        (f64::from(params[1]) - b).abs() < 1e-6,
        "b {} vs {b}",
        params[1]
    );
    let mean = losses.iter().sum::<f64>() / 4.0;
    assert!((f64::from(record.train_loss) - mean).abs() < 1e-6);
    assert_eq!((record.val_loss, record.lr), (None, 0.1));
}

/// `progress(done)` every 64 training samples, and once at the end.
#[test]
fn progress_comes_every_64_samples_and_at_the_end() {
    let x: Vec<f32> = (0..150).map(|i| i as f32 / 150.0).collect();
    let data = SliceDataset::regression(&x, 1, &x);
    let mut memory = line::Memory::<0>::new();
    let mut trainer = line(&mut memory, SGD);
    let mut rows: Vec<u16> = (0..150).collect();
    let mut calls = Vec::new();
    trainer.run_epoch(&data, &mut rows, &[], |done| calls.push(done));
    assert_eq!(calls, [64, 128, 150]);
}

/// A full mini-batch of skipped samples makes no step, and no skipped step either: there was no
/// gradient to apply (dividing the empty sum by 0 samples would have made a NaN step).
#[test]
fn a_batch_of_skipped_samples_is_no_step() {
    let x = [f32::NAN, f32::INFINITY, 0.5];
    let data = SliceDataset::regression(&x, 1, &[1.0, 1.0, 1.0]);
    let adam = TrainConfig {
        optimizer: OptimizerKind::ADAM,
        batch_size: 2,
        ..SGD
    };
    let mut memory = line::Memory::<{ optimizer_state_len(OptimizerKind::ADAM, 2) }>::new();
    let mut trainer = line(&mut memory, adam);
    trainer.run_epoch(&data, &mut [0u16, 1], &[], |_| {});
    let stats = trainer.epoch_divergence_stats();
    assert_eq!((stats.bad_inputs, stats.skipped_steps), (2, 0));
    assert_eq!(trainer.optimizer().steps(), 0);
    assert_eq!(trainer.net().params(), [1.0, 0.0]);
    // The third sample alone, the last batch of the next epoch, is a step.
    trainer.run_epoch(&data, &mut [0u16, 1, 2], &[], |_| {});
    assert_eq!(trainer.optimizer().steps(), 1);
}

#[test]
fn the_class_count_comes_from_the_head() {
    let mut memory = three::Memory::<0>::new();
    let trainer = Trainer::<4>::new(
        three::LAYERS,
        memory.buffers(),
        SGD,
        Head::SoftmaxCrossEntropy,
        1,
    )
    .unwrap();
    assert_eq!(trainer.classes(), 3);
    for (head, classes) in [(Head::SigmoidBinaryCrossEntropy, 2), (Head::LinearHuber, 0)] {
        let mut memory = line::Memory::<0>::new();
        let trainer = Trainer::<4>::new(line::LAYERS, memory.buffers(), SGD, head, 1).unwrap();
        assert_eq!(trainer.classes(), classes, "{head:?}");
    }
}

/// Plain SGD fuses into the backward pass exactly when the step needs nothing the fused pass
/// cannot do: not with momentum or weight decay, a mini-batch, a rate above 1, clipping, or a
/// `−0.0` parameter. (Both paths give the same bits; `tests/determinism.rs` compares them.)
#[test]
fn sgd_fuses_only_when_nothing_else_is_asked() {
    let batch_1 = TrainConfig {
        batch_size: 1,
        ..SGD
    };
    let fuses = |config: TrainConfig, lr: f32| {
        let mut memory = line::Memory::<4>::new(); // room for Adam's moments
        line(&mut memory, config).fuses_sgd(lr)
    };
    let sgd = |momentum, nesterov, weight_decay| OptimizerKind::Sgd {
        momentum,
        nesterov,
        weight_decay,
    };
    assert!(fuses(batch_1, 0.1));
    assert!(fuses(batch_1, 1.0));
    let with = |optimizer| TrainConfig {
        optimizer,
        ..batch_1
    };
    assert!(fuses(with(sgd(0.0, true, 0.0)), 0.1));
    assert!(!fuses(with(sgd(0.9, false, 0.0)), 0.1));
    assert!(!fuses(with(sgd(0.0, false, 0.01)), 0.1));
    assert!(!fuses(with(OptimizerKind::ADAM), 0.1));
    assert!(!fuses(batch_1, 1.5));
    assert!(!fuses(SGD, 0.1));
    let clipped = TrainConfig {
        clip_norm: Some(1.0),
        ..batch_1
    };
    assert!(!fuses(clipped, 0.1));
    let mut memory = line::Memory::<0>::new();
    let mut trainer = line(&mut memory, batch_1);
    trainer.net_mut().params_mut()[1] = -0.0;
    assert!(!trainer.fuses_sgd(0.1));
}

/// Clipping scales the mean gradient to the limit; a gradient whose squares overflow (a finite
/// gradient with an infinite norm) is clipped to nothing rather than skipped.
#[test]
fn clipping_scales_the_step_to_the_limit() {
    let clipped = TrainConfig {
        batch_size: 1,
        clip_norm: Some(1.0),
        ..SGD
    };
    // x = 1, y = 0: e = 1, ∂/∂w = ∂/∂b = 2, norm 2√2, clipped to 1.
    let data = SliceDataset::regression(&[1.0], 1, &[0.0]);
    let mut memory = line::Memory::<0>::new();
    let mut trainer = line(&mut memory, clipped);
    trainer.run_epoch(&data, &mut [0u16], &[], |_| {});
    let step = 0.1 * 2.0 / (8.0f64.sqrt() + 1e-6);
    let params = trainer.net().params();
    assert!(
        (f64::from(params[0]) - (1.0 - step)).abs() < 1e-6,
        "{params:?}"
    );
    assert!((f64::from(params[1]) + step).abs() < 1e-6, "{params:?}");

    // x = 1e19: ∂/∂w = 2e38 is finite, its square is not.
    let data = SliceDataset::regression(&[1e19], 1, &[0.0]);
    let mut memory = line::Memory::<0>::new();
    let mut trainer = line(&mut memory, clipped);
    trainer.run_epoch(&data, &mut [0u16], &[], |_| {});
    assert_eq!(trainer.epoch_divergence_stats().skipped_steps, 0);
    assert_eq!(trainer.optimizer().steps(), 1);
    assert_eq!(trainer.net().params(), [1.0, 0.0]);
}

/// What a record holds is the task's: accuracy and F1 for classification, MAE and RMSE (in the
/// target's units, through `target_scale`) for regression, validation values only with validation
/// rows. Rate 0, so every value follows from the fixed parameters.
#[test]
fn the_record_holds_the_tasks_metrics() {
    let still = TrainConfig { lr: 0.0, ..SGD };
    // Zero weights and biases (0, 1, 0): every row is predicted class 1.
    let features = [0.5, 1.0, -1.0, 2.0, 0.0, 0.0, 3.0, -2.0];
    let data = SliceDataset::classification(&features, 2, &[1, 1, 0, 2]);
    let mut memory = three::Memory::<0>::new();
    let mut trainer = Trainer::<4>::new(
        three::LAYERS,
        memory.buffers(),
        still,
        Head::SoftmaxCrossEntropy,
        1,
    )
    .unwrap();
    let params = trainer.net_mut().params_mut();
    params.fill(0.0);
    params[7] = 1.0;
    let record = trainer.run_epoch(&data, &mut [0u16, 1, 2, 3], &[0, 2], |_| {});
    assert_eq!(record.train_acc, Some(0.5));
    assert_eq!(record.val_acc, Some(0.5));
    // Class 1: precision 1/2, recall 1, F1 2/3; classes 0 and 2 score 0.
    assert_eq!(record.val_f1, Some((2.0 / 3.0) / 3.0));
    assert_eq!(
        (record.train_mae, record.val_mae, record.val_rmse),
        (None, None, None)
    );

    // out = x; targets standardised with mean 10 and std 2: errors of 0.5 and 0.25 are 1 and 0.5.
    let scaled = TrainConfig {
        target_scale: (10.0, 2.0),
        ..still
    };
    let data = SliceDataset::regression(&[0.5, -0.25], 1, &[1.0, -0.5]);
    let mut memory = line::Memory::<0>::new();
    let mut trainer = line(&mut memory, scaled);
    let record = trainer.run_epoch(&data, &mut [0u16, 1], &[0, 1], |_| {});
    assert_eq!((record.train_mae, record.val_mae), (Some(0.75), Some(0.75)));
    assert_eq!(record.val_rmse, Some(libm::sqrtf(0.625)));
    assert_eq!(
        (record.train_acc, record.val_acc, record.val_f1),
        (None, None, None)
    );
    let record = trainer.run_epoch(&data, &mut [0u16, 1], &[], |_| {});
    assert_eq!(record.train_mae, Some(0.75));
    assert_eq!(
        (record.val_loss, record.val_mae, record.val_rmse),
        (None, None, None)
    );
}

crate::network! {
    /// Two inputs, a tanh hidden layer of eight, three logits: the M4 kernels take neither dense
    /// layer (two inputs), so the fixed settings keep the Rust loops, and tanh but no other activation.
    tanh_net = [
        Layer::dense(2, 8),
        Layer::Activation(crate::layers::Activation::Tanh),
        Layer::dense(8, 3),
    ]
}

/// Settings fixing `tanh_net`, Adam and the softmax head.
#[derive(Debug)]
enum TanhFixed {}
impl Settings for TanhFixed {
    const CONFIG: Option<TrainConfig> = Some(TrainConfig {
        optimizer: OptimizerKind::ADAM,
        ..SGD
    });
    const HEAD: Option<Head> = Some(Head::SoftmaxCrossEntropy);
    const LAYERS: Option<&'static [Layer]> = Some(tanh_net::LAYERS);
}

const TANH_STATE: usize = 2 * tanh_net::PARAMS;

/// A trainer whose settings are constants gives the bits of one that reads them at run time: the
/// constants only remove code that cannot run.
#[test]
fn fixed_settings_train_the_same_bits_as_runtime_ones() {
    let x = [0.5f32, -1.0, 1.5, 0.25, -0.75, 2.0, 0.0, -0.5];
    let labels = [0u16, 1, 2, 1];
    let data = SliceDataset::classification(&x, 2, &labels);
    let config = TanhFixed::CONFIG.unwrap();
    let (mut fixed_memory, mut runtime_memory) = (
        tanh_net::Memory::<TANH_STATE>::new(),
        tanh_net::Memory::<TANH_STATE>::new(),
    );
    let head = Head::SoftmaxCrossEntropy;
    let mut fixed =
        Trainer::<3, TanhFixed>::new(tanh_net::LAYERS, fixed_memory.buffers(), config, head, 7)
            .unwrap();
    let mut runtime =
        Trainer::<3>::new(tanh_net::LAYERS, runtime_memory.buffers(), config, head, 7).unwrap();
    const { assert!(TanhFixed::NEEDS.tanh && !TanhFixed::NEEDS.relu && TanhFixed::NEEDS.scalar_dense) };
    for _ in 0..3 {
        let a = fixed.run_epoch(&data, &mut [0u16, 1, 2, 3], &[1, 3], |_| {});
        let b = runtime.run_epoch(&data, &mut [0u16, 1, 2, 3], &[1, 3], |_| {});
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }
    let bits = |p: &[f32]| p.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(fixed.net().params()), bits(runtime.net().params()));
}

/// Fixed settings refuse a trainer built with other layers, another head or another configuration
/// (but for the target scale, which comes from the data): the constants and the trainer's own copy,
/// which checkpoints save, never disagree.
#[test]
fn fixed_settings_refuse_anything_else() {
    let config = TanhFixed::CONFIG.unwrap();
    let head = Head::SoftmaxCrossEntropy;
    let mut memory = tanh_net::Memory::<TANH_STATE>::new();
    let relu = [
        Layer::dense(2, 8),
        Layer::Activation(crate::layers::Activation::Relu),
        Layer::dense(8, 3),
    ];
    let mismatch = |r: Result<Trainer<'_, 3, TanhFixed>, ShapeError>| {
        assert_eq!(r.err(), Some(ShapeError::SettingsMismatch))
    };
    mismatch(Trainer::new(&relu, memory.buffers(), config, head, 7));
    mismatch(Trainer::new(
        tanh_net::LAYERS,
        memory.buffers(),
        config,
        Head::LinearMse,
        7,
    ));
    let slower = TrainConfig { lr: 0.01, ..config };
    mismatch(Trainer::new(
        tanh_net::LAYERS,
        memory.buffers(),
        slower,
        head,
        7,
    ));
    let scaled = TrainConfig {
        target_scale: (3.0, 0.5),
        ..config
    };
    assert!(
        Trainer::<3, TanhFixed>::new(tanh_net::LAYERS, memory.buffers(), scaled, head, 7).is_ok()
    );
}

/// A run whose every step is fused plain SGD trains on memory without gradients and without
/// optimiser state ([`TrainConfig::trains_without_gradients`]), to the same bits, record for record,
/// as on the full memory; dropout included, whose masks backward still reads.
#[test]
fn fused_sgd_trains_the_same_bits_without_gradients() {
    crate::network! {
        dropout_net = [
            Layer::dense(2, 8),
            Layer::Activation(crate::layers::Activation::Relu),
            Layer::Dropout { p: 0.25 },
            Layer::dense(8, 3),
        ]
    }
    let config = TrainConfig {
        batch_size: 1,
        shuffle: true,
        schedule: crate::optim::Schedule::Step {
            step_size: 1,
            gamma: 0.5,
        },
        ..SGD
    };
    assert!(config.trains_without_gradients());
    let x = [0.5f32, -1.0, 1.5, 0.25, -0.75, 2.0, 0.0, -0.5];
    let data = SliceDataset::classification(&x, 2, &[0u16, 1, 2, 1]);
    let head = Head::SoftmaxCrossEntropy;
    let mut full = dropout_net::Memory::<0>::new();
    let mut lean = dropout_net::FusedSgdMemory::new();
    assert_eq!(
        core::mem::size_of_val(&lean),
        dropout_net::PLAN.fused_sgd_bytes()
    );
    assert_eq!(
        core::mem::size_of_val(&full) - core::mem::size_of_val(&lean),
        4 * dropout_net::PARAMS
    );
    let mut a = Trainer::<3>::new(dropout_net::LAYERS, full.buffers(), config, head, 5).unwrap();
    let mut b = Trainer::<3>::new(dropout_net::LAYERS, lean.buffers(), config, head, 5).unwrap();
    assert!(b.net().grads().is_empty());
    let bits = |p: &[f32]| p.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    let initial = bits(a.net().params());
    let (mut rows_a, mut rows_b) = ([0u16, 1, 2, 3], [0u16, 1, 2, 3]);
    for _ in 0..4 {
        let ra = a.run_epoch(&data, &mut rows_a, &[1, 3], |_| {});
        let rb = b.run_epoch(&data, &mut rows_b, &[1, 3], |_| {});
        assert_eq!(format!("{ra:?}"), format!("{rb:?}"));
    }
    assert_eq!(bits(a.net().params()), bits(b.net().params()));
    assert_ne!(bits(a.net().params()), initial, "it trained");
    assert_eq!(a.optimizer().steps(), 16);
    assert_eq!(b.optimizer().steps(), 16);
}

/// An empty gradient buffer is refused, by name, for every configuration that would need it: one
/// that is not plain SGD at batch 1, clips, starts above a rate of 1, or may rise above it.
#[test]
fn an_empty_gradient_buffer_is_refused_where_a_step_needs_one() {
    let batch_1 = TrainConfig {
        batch_size: 1,
        ..SGD
    };
    let needs = [
        TrainConfig {
            batch_size: 2,
            ..batch_1
        },
        TrainConfig {
            optimizer: OptimizerKind::ADAM,
            ..batch_1
        },
        TrainConfig {
            optimizer: OptimizerKind::Sgd {
                momentum: 0.9,
                nesterov: false,
                weight_decay: 0.0,
            },
            ..batch_1
        },
        TrainConfig {
            clip_norm: Some(1.0),
            ..batch_1
        },
        TrainConfig { lr: 1.5, ..batch_1 },
        TrainConfig {
            lr: f32::NAN,
            ..batch_1
        },
        TrainConfig {
            schedule: crate::optim::Schedule::Step {
                step_size: 1,
                gamma: 1.5,
            },
            ..batch_1
        },
        TrainConfig {
            schedule: crate::optim::Schedule::Cosine {
                t_max: 4,
                eta_min: 2.0,
            },
            ..batch_1
        },
        TrainConfig {
            divergence: DivergencePolicy::ReduceLr { factor: 3.0 },
            ..batch_1
        },
    ];
    for config in needs {
        assert!(!config.trains_without_gradients(), "{config:?}");
        let mut memory = line::FusedSgdMemory::new();
        let refused = Trainer::<2>::new(line::LAYERS, memory.buffers(), config, Head::LinearMse, 1);
        assert_eq!(
            refused.err(),
            Some(ShapeError::GradientsNeeded),
            "{config:?}"
        );
    }
    let mut memory = line::FusedSgdMemory::new();
    let reduce = TrainConfig {
        divergence: DivergencePolicy::REDUCE_LR,
        ..batch_1
    };
    assert!(Trainer::<2>::new(line::LAYERS, memory.buffers(), reduce, Head::LinearMse, 1).is_ok());
    assert!(ShapeError::GradientsNeeded
        .message()
        .contains("gradient buffer"));
}
