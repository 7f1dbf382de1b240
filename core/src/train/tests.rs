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
