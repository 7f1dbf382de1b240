//! Training cost and memory on every Cortex-M profile: instructions per training sample and per MAC,
//! RAM against the theoretical minimum, flash `.text`.
//!
//! Run it with `../scripts/bench-device.sh` (each profile's QEMU machine with `-icount shift=0`,
//! where SysTick counts executed instructions, see `src/clock.rs`). Each row trains one epoch of
//! [`SAMPLES`] digits rows (standardised, not shuffled, no validation) through the same
//! `Trainer::run_epoch` the firmware and the host use, after one warm-up epoch.
//!
//! The program is deliberately lean: no defmt, no `core::fmt`, no JSON — it prints with a hand-written
//! integer formatter over semihosting, and its panic handler only exits — so its `.text` is the
//! training code itself. It includes the firmware's `clock.rs`, `ram.rs` and `board.rs` (for the
//! board's name and SysTick clock) as modules instead of linking the firmware library (whose panic
//! handler and logger would pull `core::fmt` in).
//!
//! Plain SGD at batch 1 runs on memory without gradients (`FusedSgdMemory`), whose minimum is the
//! parameters and one sample's activations. The micro:bit's 16 KiB hold only the small SGD row.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

#[allow(dead_code, unused_imports)]
#[path = "../board.rs"]
mod board;
#[allow(dead_code)]
#[path = "../clock.rs"]
mod clock;
#[allow(dead_code)]
#[path = "../ram.rs"]
mod ram;
#[allow(dead_code)]
#[path = "../serial.rs"]
mod serial;

use semihosting::io::Write as _;
use tinytrain::data::Dataset;
use tinytrain::loss::Head;
use tinytrain::network::StaticMemory;
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::optim::{optimizer_state_len, OptimizerKind};
use tinytrain::spec::{Layer, Plan};
use tinytrain::train::{TrainConfig, Trainer};
use tinytrain_experiments::datasets::DIGITS;

/// Training samples per measured epoch.
const SAMPLES: usize = 256;

tinytrain::network! {
    /// The digits model of the anchors: 64 → 32 ReLU → 10.
    small = [Layer::dense(64, 32), Layer::Activation(tinytrain::layers::Activation::Relu), Layer::dense(32, 10)]
}
tinytrain::network! {
    /// A wider model: 64 → 128 ReLU → 64 ReLU → 10.
    large = [
        Layer::dense(64, 128),
        Layer::Activation(tinytrain::layers::Activation::Relu),
        Layer::dense(128, 64),
        Layer::Activation(tinytrain::layers::Activation::Relu),
        Layer::dense(64, 10),
    ]
}

#[cfg(not(feature = "microbit"))]
const SMALL_ADAM: usize = optimizer_state_len(OptimizerKind::ADAM, small::PARAMS);
#[cfg(not(feature = "microbit"))]
const LARGE_ADAM: usize = optimizer_state_len(OptimizerKind::ADAM, large::PARAMS);

// One zeroed static per configuration (`.bss`); the MPS2/MPS3 machines have 2 MiB or more of RAM.
static SMALL_SGD_MEM: static_cell::ConstStaticCell<small::FusedSgdMemory> =
    static_cell::ConstStaticCell::new(StaticMemory::new());
#[cfg(not(feature = "microbit"))]
static SMALL_ADAM_MEM: static_cell::ConstStaticCell<small::Memory<SMALL_ADAM>> =
    static_cell::ConstStaticCell::new(StaticMemory::new());
#[cfg(not(feature = "microbit"))]
static LARGE_SGD_MEM: static_cell::ConstStaticCell<large::FusedSgdMemory> =
    static_cell::ConstStaticCell::new(StaticMemory::new());
#[cfg(not(feature = "microbit"))]
static LARGE_ADAM_MEM: static_cell::ConstStaticCell<large::Memory<LARGE_ADAM>> =
    static_cell::ConstStaticCell::new(StaticMemory::new());

/// A benchmark row's configuration.
struct Case {
    name: &'static str,
    layers: &'static [Layer],
    optimizer: OptimizerKind,
    lr: f32,
    batch: u32,
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        exit(1)
    };
    clock::start(peripherals.SYST);
    let mut rows = [0u16; SAMPLES];
    rows.iter_mut().enumerate().for_each(|(i, r)| *r = i as u16);
    let mut standardizer = Standardizer::<64>::new(DIGITS.features);
    standardizer.fit(&DIGITS, &rows, &mut [0.0; 64]);
    let data = Standardized::features_only(&DIGITS, Some(&standardizer));

    let mut out = Output::new();
    out.str("board ");
    out.str(board::NAME);
    out.str("\nmodel        optimiser  batch  instr/sample  instr/MAC  MAC/sample  RAM(B)  min(B)  RAM/min  stack(B)\n");
    let sgd = |layers, batch| Case {
        name: if layers == small::LAYERS {
            "64-32-10    "
        } else {
            "64-128-64-10"
        },
        layers,
        optimizer: OptimizerKind::SGD,
        lr: 0.01,
        batch,
    };
    #[cfg(not(feature = "microbit"))]
    let adam = |layers, batch| Case {
        optimizer: OptimizerKind::ADAM,
        lr: 1e-3,
        ..sgd(layers, batch)
    };
    measure(
        &sgd(small::LAYERS, 1),
        SMALL_SGD_MEM.take().buffers(),
        &data,
        &mut rows,
        &mut out,
    );
    #[cfg(not(feature = "microbit"))]
    for (case, memory) in [
        (adam(small::LAYERS, 32), SMALL_ADAM_MEM.take().buffers()),
        (sgd(large::LAYERS, 1), LARGE_SGD_MEM.take().buffers()),
        (adam(large::LAYERS, 32), LARGE_ADAM_MEM.take().buffers()),
    ] {
        measure(&case, memory, &data, &mut rows, &mut out);
    }
    let (text, _) = ram::flash();
    out.str("flash .text of this program: ");
    out.num(text as u64);
    out.str(" B\n");
    exit(0)
}

/// Trains one warm-up epoch, then one measured epoch, and prints a row of the table. Never inlined:
/// its trainer's frame is then the only one, whichever row runs.
#[inline(never)]
fn measure(
    case: &Case,
    memory: tinytrain::network::Buffers<'_>,
    data: &impl Dataset,
    rows: &mut [u16],
    out: &mut Output,
) {
    let Ok(plan) = Plan::of(case.layers) else {
        exit(2)
    };
    let config = TrainConfig {
        lr: case.lr,
        optimizer: case.optimizer,
        batch_size: case.batch,
        shuffle: false,
        ..TrainConfig::DEFAULT
    };
    let Ok(mut trainer) =
        Trainer::<10>::new(case.layers, memory, config, Head::SoftmaxCrossEntropy, 1)
    else {
        exit(3)
    };
    trainer.run_epoch(data, rows, &[], |_| {});
    ram::paint_stack();
    let start = clock::ticks();
    let record = trainer.run_epoch(data, rows, &[], |_| {});
    let ticks = clock::ticks() - start;
    let stack = ram::stack_peak();
    if !record.train_loss.is_finite() {
        exit(4)
    }
    let instructions = board::cost(ticks);
    let per_sample = instructions / SAMPLES as u64;
    let macs = macs_per_sample(case.layers);
    let state = optimizer_state_len(case.optimizer, plan.params);
    let (ram, minimum) = if config.trains_without_gradients() {
        // Fused SGD: parameters and one sample's activations.
        (plan.fused_sgd_bytes(), 4 * (plan.params + plan.activations))
    } else {
        // Parameters, gradients, optimiser state and one sample's activations.
        let minimum = 4 * (2 * plan.params + state + plan.activations);
        (plan.bytes() + 4 * state, minimum)
    };

    out.str(case.name);
    out.str("  ");
    out.str(match case.optimizer {
        OptimizerKind::Sgd { .. } => "SGD ",
        _ => "Adam",
    });
    out.str("       ");
    out.pad(case.batch as u64, 5);
    out.pad(per_sample, 14);
    out.fixed(instructions * 100 / (SAMPLES as u64 * macs), 11);
    out.pad(macs, 12);
    out.pad(ram as u64, 8);
    out.pad(minimum as u64, 8);
    out.fixed(ram as u64 * 100 / minimum as u64, 9);
    out.pad(stack as u64, 10);
    out.str("\n");
}

/// Multiply-accumulates of one training sample: forward `I·O` and weight gradients `I·O` per dense
/// layer, input gradients `I·O` for every dense layer but the first.
fn macs_per_sample(layers: &[Layer]) -> u64 {
    let mut first = true;
    let mut total = 0;
    for layer in layers {
        if let Layer::Dense { inputs, outputs } = *layer {
            let n = (inputs * outputs) as u64;
            total += if first { 2 * n } else { 3 * n };
            first = false;
        }
    }
    total
}

/// Text to semihosting stdout, formatted by hand (no `core::fmt`).
struct Output {
    stdout: Option<semihosting::io::Stdout>,
}

impl Output {
    fn new() -> Self {
        Self {
            stdout: semihosting::io::stdout().ok(),
        }
    }

    fn str(&mut self, s: &str) {
        if let Some(stdout) = &mut self.stdout {
            let _ = stdout.write_all(s.as_bytes());
        }
    }

    /// `value` right-aligned in `width` columns.
    fn pad(&mut self, value: u64, width: usize) {
        let mut digits = [b' '; 24];
        let mut v = value;
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let start = digits.len().saturating_sub(width).min(at);
        if let Ok(s) = core::str::from_utf8(&digits[start..]) {
            self.str(s);
        }
    }

    fn num(&mut self, value: u64) {
        self.pad(value, 0);
    }

    /// `hundredths / 100` with two decimals, right-aligned in `width` columns.
    fn fixed(&mut self, hundredths: u64, width: usize) {
        self.pad(hundredths / 100, width.saturating_sub(3));
        self.str(".");
        let cents = hundredths % 100;
        self.str(if cents < 10 { "0" } else { "" });
        self.num(cents);
    }
}

fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}

#[allow(unsafe_code)] // cortex-m-rt requires the HardFault handler to be an `unsafe fn`
#[cortex_m_rt::exception]
unsafe fn HardFault(_: &cortex_m_rt::ExceptionFrame) -> ! {
    exit(102)
}
