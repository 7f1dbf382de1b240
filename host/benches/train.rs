//! Host training throughput: `cargo bench -p tinytrain-host --bench train` (criterion).
//!
//! For each model (the digits model 64→32→10 and 64→128→64→10, ReLU, softmax + cross-entropy) and
//! optimiser (plain SGD, Adam) at batch 1 and 32, on synthetic data of the digits shape (64 features
//! in [−2, 2), 10 classes):
//!
//! Mini-batches run batch-major (the buffers hold the batch: every layer takes its samples
//! together, with the host's batch kernels), as `tinytrain train` runs them.
//!
//! * `step/…`: one optimiser step — `batch` samples of forward, loss, backward, then the update —
//!   through `Trainer::run_epoch` over `batch` rows (so it includes the trainer's per-epoch work);
//! * `epoch/…`: one epoch of 1024 samples; criterion's throughput is samples per second.
//!
//! `TINYTRAIN_BENCH=64-32-10/sgd` (a part of the names) runs only the matching cases, table
//! included (criterion's own filter argument leaves the table's epochs running for every case).
//!
//! At the end a table gives samples/s and achieved GFLOP/s of the epochs. FLOPs are counted with the
//! usual `6·P` rule per sample (P = parameters): 2 per parameter forward (a multiply and an add),
//! 4 backward (weight gradient and input gradient) — 14,460 for the digits model, although the first
//! layer's input gradient is never computed, and neither the update nor the loss is counted.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tinytrain::data::SliceDataset;
use tinytrain::prelude::*;
use tinytrain::rng::Pcg32;
use tinytrain::spec::Plan;
use tinytrain_host::memory::VecMemory;

const ROWS: usize = 1024;
const FEATURES: usize = 64;

const SMALL: &[Layer] = &[
    Layer::dense(64, 32),
    Layer::Activation(Activation::Relu),
    Layer::dense(32, 10),
];
const LARGE: &[Layer] = &[
    Layer::dense(64, 128),
    Layer::Activation(Activation::Relu),
    Layer::dense(128, 64),
    Layer::Activation(Activation::Relu),
    Layer::dense(64, 10),
];

/// Synthetic digits-shaped data: features uniform in [−2, 2), labels `row % 10`.
fn data() -> (Vec<f32>, Vec<u16>) {
    let mut rng = Pcg32::new(7, 99);
    let features = (0..ROWS * FEATURES).map(|_| rng.symmetric(2.0)).collect();
    let labels = (0..ROWS).map(|r| (r % 10) as u16).collect();
    (features, labels)
}

struct Case {
    model: &'static str,
    layers: &'static [Layer],
    optimizer: (&'static str, OptimizerKind, f32),
    batch: u32,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (model, layers) in [("64-32-10", SMALL), ("64-128-64-10", LARGE)] {
        for optimizer in [
            ("sgd", OptimizerKind::SGD, 0.01),
            ("adam", OptimizerKind::ADAM, 1e-3),
        ] {
            for batch in [1, 32] {
                cases.push(Case {
                    model,
                    layers,
                    optimizer,
                    batch,
                });
            }
        }
    }
    cases
}

fn config(case: &Case) -> TrainConfig {
    TrainConfig {
        lr: case.optimizer.2,
        optimizer: case.optimizer.1,
        batch_size: case.batch,
        shuffle: false,
        ..TrainConfig::DEFAULT
    }
}

fn bench(c: &mut Criterion) {
    let (features, labels) = data();
    let dataset = SliceDataset::classification(&features, FEATURES, &labels);
    let mut summary = Vec::new();
    let only = std::env::var("TINYTRAIN_BENCH").unwrap_or_default();
    for case in cases() {
        let name = format!("{}/{}/b{}", case.model, case.optimizer.0, case.batch);
        if !name.contains(&only) {
            continue;
        }
        // Buffers for the whole mini-batch: the trainer runs it batch-major (`Trainer::batch_major`).
        let plan = Plan::of(case.layers).expect("valid layers");
        let plan = plan.batched(case.batch as usize).expect("small");
        let mut memory = VecMemory::new(&plan, case.optimizer.1);
        let mut trainer = Trainer::<10>::new(
            case.layers,
            memory.buffers(),
            config(&case),
            Head::SoftmaxCrossEntropy,
            1,
        )
        .expect("the network fits its buffers");
        let mut rows: Vec<u32> = (0..ROWS as u32).collect();

        let mut group = c.benchmark_group("step");
        group.throughput(Throughput::Elements(u64::from(case.batch)));
        let mut step_rows: Vec<u32> = (0..case.batch).collect();
        group.bench_function(&name, |b| {
            b.iter(|| black_box(trainer.run_epoch(&dataset, &mut step_rows, &[], |_| {})))
        });
        group.finish();

        let mut group = c.benchmark_group("epoch");
        group.throughput(Throughput::Elements(ROWS as u64));
        group.bench_function(&name, |b| {
            b.iter(|| black_box(trainer.run_epoch(&dataset, &mut rows, &[], |_| {})))
        });
        group.finish();

        // Derived figures for the table: best of a few timed epochs.
        let best = (0..20)
            .map(|_| {
                let start = Instant::now();
                black_box(trainer.run_epoch(&dataset, &mut rows, &[], |_| {}));
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::MAX);
        let params = Plan::of(case.layers).expect("valid").params;
        let samples_per_second = ROWS as f64 / best.as_secs_f64();
        let gflops = samples_per_second * 6.0 * params as f64 / 1e9;
        summary.push(format!(
            "{name:<22} {samples_per_second:>12.0} samples/s {gflops:>7.2} GFLOP/s (6·{params} FLOP/sample)"
        ));
    }
    println!("\nepochs of {ROWS} samples, best of 20:");
    for line in summary {
        println!("{line}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
