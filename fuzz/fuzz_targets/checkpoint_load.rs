//! A checkpoint (`tinytrain::checkpoint`) of arbitrary bytes into a trainer: `verify` and
//! `load_checkpoint` accept it or refuse it, never panic; and what they accept is a state the
//! trainer can train from and save again, bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain::data::SliceDataset;
use tinytrain::layers::Activation;
use tinytrain::loss::Head;
use tinytrain::spec::{Layer, Plan};
use tinytrain::train::{TrainConfig, Trainer};
use tinytrain_host::memory::VecMemory;

const LAYERS: [Layer; 3] = [
    Layer::dense(2, 3),
    Layer::Activation(Activation::Tanh),
    Layer::dense(3, 2),
];

fuzz_target!(|data: &[u8]| {
    let _ = tinytrain::checkpoint::verify(data);
    let config = TrainConfig::DEFAULT;
    let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), config.optimizer);
    let mut trainer = Trainer::<2>::new(
        &LAYERS,
        memory.buffers(),
        config,
        Head::SoftmaxCrossEntropy,
        1,
    )
    .unwrap();
    let (mut order, mut extra) = ([0u32; 4], [0.0f32; 2]);
    if trainer
        .load_checkpoint(data, &mut order, &mut extra)
        .is_err()
    {
        return;
    }
    // An accepted checkpoint saves back to the same bytes ...
    let mut again = vec![0u8; trainer.checkpoint_len(order.len(), extra.len())];
    let sequence = tinytrain::checkpoint::verify(data).unwrap().sequence;
    let n = trainer
        .save_checkpoint(sequence, &order, &extra, &mut again)
        .unwrap();
    assert_eq!(&again[..n], &data[..n]);
    // ... and training on from it never panics, whatever rows its order names.
    let features = [0.5f32, -1.0, 1.5, 0.25, -0.5, 2.0, 1.0, 0.0];
    let labels = [0u16, 1, 0, 1];
    let rows = SliceDataset::classification(&features, 2, &labels);
    order.iter_mut().for_each(|r| *r %= 4);
    let _ = trainer.run_epoch(&rows, &mut order, &[0, 1], |_| {});
});
