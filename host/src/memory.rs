//! Heap memory for a network: the buffers a firmware keeps in static arrays
//! ([`StaticMemory`](tinytrain::network::StaticMemory)), as `Vec`s sized at run time from the
//! network's [`Plan`]. The core never allocates; hosts, tests and benches use this.

use tinytrain::network::Buffers;
use tinytrain::optim::{optimizer_state_len, OptimizerKind};
use tinytrain::spec::{Layer, Plan, ShapeError};
use tinytrain::train::TrainConfig;

/// Bytes of activations, deltas and masks up to which a mini-batch without batch norm is held whole
/// (batch-major, faster on the host); above, it runs one sample at a time with the same bits.
pub const BATCH_MAJOR_LIMIT: usize = 64 << 20;

/// Every buffer of a network and its optimiser, exactly as long as the plan says.
#[derive(Clone, Debug)]
pub struct VecMemory {
    params: Vec<f32>,
    grads: Vec<f32>,
    activations: Vec<f32>,
    deltas: Vec<f32>,
    masks: Vec<u32>,
    stats: Vec<f32>,
    state: Vec<f32>,
}

impl VecMemory {
    /// Zeroed buffers for `plan` (as many samples at once as its [`Plan::batch`]), with state for
    /// `optimizer`.
    pub fn new(plan: &Plan, optimizer: OptimizerKind) -> Self {
        Self {
            params: vec![0.0; plan.params],
            grads: vec![0.0; plan.params],
            activations: vec![0.0; plan.activations],
            deltas: vec![0.0; plan.deltas],
            masks: vec![0; plan.mask_words],
            stats: vec![0.0; plan.stats],
            state: vec![0.0; optimizer_state_len(optimizer, plan.params)],
        }
    }

    /// [`VecMemory::new`], or an error naming the bytes when they are more than this machine has
    /// available (Linux's `MemAvailable`) or than it can allocate: never an abort halfway.
    pub fn try_new(plan: &Plan, optimizer: OptimizerKind) -> anyhow::Result<Self> {
        Self::try_sized(plan, plan.params, plan.params, optimizer)
    }

    /// [`VecMemory::try_new`] for a training run with `config`: without a gradient buffer when every
    /// step is fused plain SGD ([`TrainConfig::trains_without_gradients`]), which never reads one;
    /// with room for the whole mini-batch when the network has a batch norm
    /// ([`VecMemory::run_plan`]). Gradients and optimiser state cover only the parameters that
    /// train: all but the `frozen` leading ones ([`frozen_params`](tinytrain::spec::frozen_params)
    /// of [`TrainConfig::freeze`]).
    pub fn try_for_run(plan: &Plan, config: &TrainConfig, frozen: usize) -> anyhow::Result<Self> {
        let (grads, trainable) = run_sizes(plan, config, frozen);
        Self::try_sized(
            &Self::run_plan(plan, config)?,
            grads,
            trainable,
            config.optimizer,
        )
    }

    /// The plan a run with `config` allocates: a mini-batch is held whole ([`Plan::batched`]), so
    /// that the trainer runs it batch-major with the host's batch kernels (the same bits as one
    /// sample at a time); a network with a batch norm needs it. Without a batch norm, a batch whose
    /// buffers would pass [`BATCH_MAJOR_LIMIT`] runs one sample at a time instead. Batch 1 holds
    /// one sample.
    pub fn run_plan(plan: &Plan, config: &TrainConfig) -> anyhow::Result<Plan> {
        let batch = config.batch_size.max(1) as usize;
        let batched = plan.batched(batch);
        if !plan.has_batch_norm() {
            let fits = batched
                .filter(|b| 4 * (b.activations + b.deltas + b.mask_words) <= BATCH_MAJOR_LIMIT);
            return Ok(fits.unwrap_or(*plan));
        }
        batched.ok_or_else(|| {
            anyhow::anyhow!(
                "a batch of {} samples needs more memory than a usize counts; use a smaller --batch",
                config.batch_size
            )
        })
    }

    /// Bytes [`VecMemory::try_for_run`] allocates (`None`: more than a `usize` counts), without
    /// allocating them.
    pub fn run_bytes(plan: &Plan, config: &TrainConfig, frozen: usize) -> Option<usize> {
        let (grads, trainable) = run_sizes(plan, config, frozen);
        let plan = Self::run_plan(plan, config).ok()?;
        bytes_of(&floats(&plan, grads, trainable, config.optimizer))
    }

    fn try_sized(
        plan: &Plan,
        grads: usize,
        trainable: usize,
        optimizer: OptimizerKind,
    ) -> anyhow::Result<Self> {
        let floats = floats(plan, grads, trainable, optimizer);
        let bytes = bytes_of(&floats);
        let too_much = |bytes: String, why: String| {
            anyhow::anyhow!(
                "the network needs {bytes} of memory ({} parameters{}{}{}) but {why}; use smaller --hidden layers{}",
                plan.params,
                if floats[1] > 0 { ", their gradients" } else { "" },
                if floats[5] > 0 { " and the optimiser's state" } else { "" },
                if plan.batch > 1 {
                    format!("; activations for a batch of {}", plan.batch)
                } else {
                    String::new()
                },
                if plan.batch > 1 {
                    " or a smaller --batch (a network with batch norm holds the whole mini-batch)"
                } else {
                    ""
                }
            )
        };
        let Some(bytes) = bytes else {
            return Err(too_much(
                "more bytes than a usize counts".into(),
                "no machine has them".into(),
            ));
        };
        if let Some(available) = available_bytes() {
            if bytes as u64 > available {
                return Err(too_much(
                    format_bytes(bytes as u64),
                    format!("this machine has {} available", format_bytes(available)),
                ));
            }
        }
        let zeros = |n: usize| -> anyhow::Result<Vec<f32>> {
            let mut v = Vec::new();
            v.try_reserve_exact(n).map_err(|_| {
                too_much(format_bytes(bytes as u64), "the allocation failed".into())
            })?;
            v.resize(n, 0.0);
            Ok(v)
        };
        Ok(Self {
            params: zeros(floats[0])?,
            grads: zeros(floats[1])?,
            activations: zeros(floats[2])?,
            deltas: zeros(floats[3])?,
            masks: vec![0; floats[4]],
            stats: zeros(floats[6])?,
            state: zeros(floats[5])?,
        })
    }

    /// [`VecMemory::new`] for `layers`' plan.
    pub fn of(layers: &[Layer], optimizer: OptimizerKind) -> Result<Self, ShapeError> {
        Ok(Self::new(&Plan::of(layers)?, optimizer))
    }

    /// Bytes held, optimiser state included.
    pub fn bytes(&self) -> usize {
        let floats =
            self.params.len() + self.grads.len() + self.activations.len() + self.deltas.len();
        4 * (floats + self.masks.len() + self.stats.len() + self.state.len())
    }

    /// Lends every buffer to the core.
    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            front: &[],
            grads: &mut self.grads,
            activations: &mut self.activations,
            deltas: &mut self.deltas,
            masks: &mut self.masks,
            stats: &mut self.stats,
            state: &mut self.state,
        }
    }
}

/// A run's gradient floats (none when every step is fused plain SGD) and its trainable parameters
/// (all but the `frozen` leading ones).
fn run_sizes(plan: &Plan, config: &TrainConfig, frozen: usize) -> (usize, usize) {
    let trainable = plan.params.saturating_sub(frozen);
    let grads = if config.trains_without_gradients() {
        0
    } else {
        trainable
    };
    (grads, trainable)
}

/// The lengths of the seven buffers: parameters, gradients, activations, deltas, masks,
/// optimiser state (of the `trainable` parameters), batch-norm statistics.
fn floats(plan: &Plan, grads: usize, trainable: usize, optimizer: OptimizerKind) -> [usize; 7] {
    [
        plan.params,
        grads,
        plan.activations,
        plan.deltas,
        plan.mask_words,
        optimizer_state_len(optimizer, trainable),
        plan.stats,
    ]
}

/// Their bytes (`None`: more than a `usize` counts).
fn bytes_of(floats: &[usize; 7]) -> Option<usize> {
    floats
        .iter()
        .try_fold(0usize, |sum, &n| sum.checked_add(n.checked_mul(4)?))
}

/// The memory this machine has available (`MemAvailable` of `/proc/meminfo`; `None` elsewhere).
fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `1.5 GB`, `320.0 MB`, `12.0 KB` (decimal units, as memory is sold).
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..=999_999 => format!("{:.1} KB", b / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_plan() {
        // Dense, ReLU, dropout (mask words), dense.
        let plan = Plan::of(tinytrain_experiments::digits::net::LAYERS).unwrap();
        let memory = VecMemory::new(&plan, OptimizerKind::ADAM);
        assert_eq!(memory.bytes(), plan.bytes() + 4 * 2 * plan.params);
        assert_eq!(
            VecMemory::new(&plan, OptimizerKind::SGD).bytes(),
            plan.bytes()
        );
        assert_eq!(
            VecMemory::try_new(&plan, OptimizerKind::ADAM)
                .unwrap()
                .bytes(),
            memory.bytes()
        );
        // Fused plain SGD at batch 1 keeps no gradients; a mini-batch does.
        let sgd = TrainConfig {
            optimizer: OptimizerKind::SGD,
            batch_size: 1,
            lr: 0.01,
            ..TrainConfig::DEFAULT
        };
        let lean = VecMemory::try_for_run(&plan, &sgd, 0).unwrap();
        assert_eq!(lean.bytes(), plan.fused_sgd_bytes());
        let batched = TrainConfig {
            batch_size: 8,
            ..sgd
        };
        // ... and holds the whole mini-batch (batch-major): activations, deltas and masks × 8.
        let per_sample = 4 * (plan.activations + plan.deltas + plan.mask_words);
        assert_eq!(
            VecMemory::try_for_run(&plan, &batched, 0).unwrap().bytes(),
            plan.bytes() + 7 * per_sample
        );
    }

    /// Found by hostile input: `--hidden 100000,100000` aborted with "memory allocation of N bytes
    /// failed". Too much memory is an error that names the bytes.
    #[test]
    fn too_much_memory_is_an_error_naming_the_bytes() {
        let layers = [
            Layer::dense(100_000, 100_000),
            Layer::dense(100_000, 100_000),
        ];
        let plan = Plan::of(&layers).unwrap();
        let message = VecMemory::try_new(&plan, OptimizerKind::ADAM)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("the network needs 320.0 GB of memory (20000200000 parameters, their gradients and the optimiser's state) but "),
            "{message}"
        );
        let sgd = TrainConfig {
            optimizer: OptimizerKind::SGD,
            batch_size: 1,
            ..TrainConfig::DEFAULT
        };
        let message = VecMemory::try_for_run(&plan, &sgd, 0)
            .unwrap_err()
            .to_string();
        assert!(
            message
                .starts_with("the network needs 80.0 GB of memory (20000200000 parameters) but "),
            "{message}"
        );
    }
}
