//! The training step's panic paths, made visible: this program builds a trainer and calls
//! `Trainer::run_epoch` twice, with everything a run can choose behind `black_box` so that nothing is
//! specialised away: the layer list (every layer kind: dense layers on both the Rust loops and the
//! M4 kernels, ReLU, dropout, tanh, and the other activations through the opaque list), the head
//! (all five, a regression one over several outputs too), the optimiser (SGD with momentum or
//! Adam(W)), the schedule, clipping, the divergence policy and the frozen layers; the second epoch is
//! plain SGD at batch 1, the fused path; after each epoch a few samples stream through
//! `Trainer::learn` and `Trainer::end_epoch`. Its panic handler is
//! a separate, never-inlined function, so every panic path the optimiser could not prove unreachable
//! stays a call to a `core::panicking` function in the disassembly. `scripts/panic-paths.sh` builds
//! it, lists those calls by function, and links it with `--features no-panic-strict`, where the
//! panic handler calls a symbol that exists nowhere: that link succeeds only when no panic path is
//! left (see firmware/README.md, "Panic paths"; `.ci/run` requires it).
//!
//! Nothing here is meant to run: it is only linked.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::hint::black_box;

use tinytrain::data::Dataset;
use tinytrain::loss::Head;
use tinytrain::optim::{optimizer_state_len, OptimizerKind, Schedule};
use tinytrain::spec::Layer;
use tinytrain::train::{DivergencePolicy, TrainConfig, Trainer};
use tinytrain_experiments::datasets::DataSource;

tinytrain::network! {
    /// Every layer kind; 16 inputs (a multiple of eight) take the M4 kernels, 4 and 3 the Rust loops.
    net = [
        Layer::dense(4, 16),
        Layer::Activation(Activation::Relu),
        Layer::Dropout { p: 0.2 },
        Layer::dense(16, 8),
        Layer::Activation(Activation::Tanh),
        Layer::dense(8, 3),
    ]
}

tinytrain::network! {
    /// Batch norms after a kernel-sized and a Rust-loop dense layer, the buffers holding a batch of 8:
    /// the batch-major engine.
    bn_net = [
        Layer::dense(4, 16),
        Layer::batch_norm(16),
        Layer::Activation(Activation::Relu),
        Layer::Dropout { p: 0.2 },
        Layer::dense(16, 3),
        Layer::batch_norm(3),
    ],
    batch = 8
}

type AdamMemory = net::Memory<{ optimizer_state_len(OptimizerKind::ADAM, net::PARAMS) }>;
type BnMemory = bn_net::Memory<{ optimizer_state_len(OptimizerKind::ADAM, bn_net::PARAMS) }>;

/// Rows are opaque to the optimiser: `black_box` keeps it from specialising the loop.
fn train(
    buffers: tinytrain::network::Buffers<'_>,
    layers: &'static [Layer],
    config: TrainConfig,
    head: Head,
    data: &impl Dataset,
    rows: &mut [u32],
    validation: &[u32],
) -> u32 {
    let Ok(mut trainer) = Trainer::<3>::new(layers, buffers, config, head, 1) else {
        return 0;
    };
    let record = trainer.run_epoch(data, rows, validation, |_| {});
    // The same steps from a stream: `learn` (a network with batch norm refuses it) and the
    // epoch's end.
    let mut streamed = 0;
    let mut x = [0.0f32; 4];
    for &row in rows.iter().take(black_box(5)) {
        data.load(row as usize, &mut x);
        if let Ok(learned) = trainer.learn(&x, data.target(row as usize)) {
            streamed ^= learned.loss.to_bits();
        }
    }
    let streamed = streamed ^ trainer.end_epoch(data, validation).train_loss.to_bits();
    record.train_loss.to_bits() ^ trainer.divergence_stats().skipped_samples() ^ streamed
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let data = black_box(DataSource::IRIS);
    let layers = black_box(net::LAYERS);
    let mut rows = [0u32; 150];
    rows.iter_mut().enumerate().for_each(|(i, r)| *r = i as u32);
    let Some((train_rows, validation)) = rows.split_at_mut_checked(black_box(120)) else {
        loop {
            cortex_m::asm::wfi();
        }
    };
    let adam = TrainConfig {
        lr: black_box(0.01),
        optimizer: black_box(OptimizerKind::ADAM),
        schedule: black_box(Schedule::Constant),
        batch_size: black_box(8),
        shuffle: black_box(true),
        clip_norm: black_box(Some(1.0)),
        target_scale: (0.0, 1.0),
        divergence: black_box(DivergencePolicy::ReduceLr { factor: 0.5 }),
        freeze: black_box(0),
    };
    let sgd = TrainConfig {
        optimizer: OptimizerKind::SGD,
        batch_size: black_box(1),
        clip_norm: None,
        ..adam
    };
    let head = black_box(Head::SoftmaxCrossEntropy);
    let mut adam_memory = AdamMemory::new();
    let mut sgd_memory = net::Memory::<0>::new();
    let mut bn_memory = BnMemory::new();
    let a = train(
        adam_memory.buffers(),
        layers,
        adam,
        head,
        &data,
        train_rows,
        validation,
    );
    let b = train(
        sgd_memory.buffers(),
        layers,
        sgd,
        head,
        &data,
        train_rows,
        validation,
    );
    let c = train(
        bn_memory.buffers(),
        black_box(bn_net::LAYERS),
        adam,
        head,
        &data,
        train_rows,
        validation,
    );
    black_box(a ^ b ^ c);
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "no-panic-strict"))]
#[panic_handler]
#[inline(never)]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::asm::udf()
}

#[cfg(feature = "no-panic-strict")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    extern "Rust" {
        fn tinytrain_training_step_can_panic() -> !;
    }
    #[allow(unsafe_code)]
    // SAFETY: never called — the symbol does not exist, so a surviving call fails the link.
    unsafe {
        tinytrain_training_step_can_panic()
    }
}
