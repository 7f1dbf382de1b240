//! The training step's panic paths, made visible: this program builds a trainer and calls
//! `Trainer::run_epoch` twice (iris network; Adam with clipping and `ReduceLr` at batch 8, and plain
//! SGD at batch 1, the fused path), with every hyper-parameter behind `black_box` so that nothing is
//! specialised away. Its panic handler is a separate, never-inlined function, so every panic path the
//! optimiser could not prove unreachable stays a call to a `core::panicking` function in the
//! disassembly. `scripts/panic-paths.sh` builds it, lists those calls by function, and also links it
//! with `--features no-panic-strict`, where the panic handler calls a symbol that exists nowhere: that
//! link succeeds only once no panic path is left (see firmware/README.md, "Panic paths").
//!
//! Nothing here is meant to run: it is only linked.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use tinytrain::data::Dataset;
use tinytrain::loss::Head;
use tinytrain::optim::{optimizer_state_len, OptimizerKind, Schedule};
use tinytrain::train::{DivergencePolicy, TrainConfig, Trainer};
use tinytrain_experiments::datasets::DataSource;
use tinytrain_experiments::iris;

type AdamMemory =
    iris::net::Memory<{ optimizer_state_len(OptimizerKind::ADAM, iris::net::PARAMS) }>;

/// Rows are opaque to the optimiser: `core::hint::black_box` keeps it from specialising the loop.
fn train<const S: usize>(
    memory: &mut iris::net::Memory<S>,
    config: TrainConfig,
    data: &impl Dataset,
    rows: &mut [u32],
    validation: &[u32],
) -> u32 {
    let Ok(mut trainer) = Trainer::<3>::new(
        iris::net::LAYERS,
        memory.buffers(),
        config,
        Head::SoftmaxCrossEntropy,
        1,
    ) else {
        return 0;
    };
    let record = trainer.run_epoch(data, rows, validation, |_| {});
    record.train_loss.to_bits() ^ trainer.divergence_stats().skipped_samples()
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let data = core::hint::black_box(DataSource::IRIS);
    let mut rows = [0u32; 150];
    rows.iter_mut().enumerate().for_each(|(i, r)| *r = i as u32);
    let (train_rows, validation) = rows.split_at_mut(core::hint::black_box(120));
    let adam = TrainConfig {
        lr: 0.01,
        optimizer: OptimizerKind::ADAM,
        schedule: Schedule::Constant,
        batch_size: core::hint::black_box(8),
        shuffle: true,
        clip_norm: core::hint::black_box(Some(1.0)),
        target_scale: (0.0, 1.0),
        divergence: core::hint::black_box(DivergencePolicy::ReduceLr { factor: 0.5 }),
    };
    let sgd = TrainConfig {
        optimizer: OptimizerKind::SGD,
        batch_size: core::hint::black_box(1),
        clip_norm: None,
        ..adam
    };
    let mut adam_memory = AdamMemory::new();
    let mut sgd_memory = iris::net::Memory::<0>::new();
    let a = train(&mut adam_memory, adam, &data, train_rows, validation);
    let b = train(&mut sgd_memory, sgd, &data, train_rows, validation);
    core::hint::black_box(a ^ b);
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
