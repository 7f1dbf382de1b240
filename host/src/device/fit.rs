//! Does a run fit a board? Flash and RAM computed from the plan before anything is built, so that
//! a run that cannot fit fails in a second with the numbers and what to change, not after a
//! minute of compiling with a linker error.
//!
//! RAM is what the firmware's `Workspace` holds (the network's buffers, the optimiser state, the two
//! index buffers of the split, early stopping's snapshot) plus a budget for the firmware's own
//! statics and the stack; flash is the data tables and `--init`'s parameters plus a budget for the
//! code. The budgets are upper bounds of what the reporting firmware measured (its summary frame's
//! `stack_peak` and `flash_text`); `device.json` shows the measured figures beside these.

use tinytrain::data::RowIndex;
use tinytrain::optim::optimizer_state_len;
use tinytrain_experiments::run::{MAX_CLASSES, MAX_FEATURES};

use anyhow::bail;

use super::boards::{Board, Memory};
use super::generate::Generated;
use crate::pipeline::Setup;

/// Stack the training firmware may use: it peaked at 6,084 bytes on digits (64 features), the
/// widest table the device takes.
pub const STACK_BUDGET: u64 = 12 * 1024;
/// The firmware's own statics besides the workspace (serial and defmt buffers, the reporter).
pub const FIRMWARE_RAM: u64 = 4 * 1024;
/// Flash for the code (vector table, `.text`, `.rodata` besides the data): the reporting firmware's
/// `.text` is about 40 KB.
pub const CODE_BUDGET: u64 = 96 * 1024;

/// What a run needs, item by item, in bytes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Need {
    /// Parameters, activations, deltas and dropout masks (the parameters of a shipped model's
    /// frozen layers are read in place from flash, so not counted).
    pub network: u64,
    /// The gradient buffer: none for plain SGD fused into every backward pass
    /// ([`TrainConfig::trains_without_gradients`](tinytrain::train::TrainConfig::trains_without_gradients)).
    pub gradients: u64,
    /// The optimiser's per-parameter state.
    pub optimizer_state: u64,
    /// The training and validation index buffers (`u16` per row up to 65 536 rows, else `u32`).
    pub split_indices: u64,
    /// Early stopping's best-weights snapshot.
    pub snapshot: u64,
    /// [`FIRMWARE_RAM`] + [`STACK_BUDGET`].
    pub firmware_and_stack: u64,
    /// The data tables in flash.
    pub data: u64,
    /// `--init`'s parameters in flash.
    pub init: u64,
    /// [`CODE_BUDGET`].
    pub code: u64,
}

impl Need {
    /// The needs of `setup` with its data stored as `generated` holds it.
    pub fn of(setup: &Setup<'_>, generated: &Generated, init: bool) -> Self {
        let params = setup.plan.params;
        let trainable = params - setup.frozen_params();
        // A shipped model's frozen layers are read in place from flash
        // (`Experiment::in_place_params`).
        let in_place = if init { setup.frozen_params() } else { 0 };
        let spec = setup.spec;
        let bytes = |floats: usize| 4 * floats as u64;
        // With a batch norm the buffers hold the whole mini-batch.
        let plan = if setup.plan.has_batch_norm() {
            setup
                .plan
                .batched(setup.config.batch_size as usize)
                .unwrap_or(setup.plan)
        } else {
            setup.plan
        };
        Need {
            network: plan.fused_sgd_bytes() as u64 - bytes(in_place),
            gradients: if setup.config.trains_without_gradients() {
                0
            } else {
                bytes(trainable)
            },
            optimizer_state: bytes(optimizer_state_len(setup.config.optimizer, trainable)),
            // One index per row: training then validation (`split_in_place`).
            split_indices: index_width(generated.rows) * generated.rows as u64,
            snapshot: bytes(
                spec.early_stopping
                    .map_or(0, |c| c.snapshot_len(params - in_place)),
            ),
            firmware_and_stack: FIRMWARE_RAM + STACK_BUDGET,
            data: (generated.features.len() + generated.targets.len()) as u64,
            init: if init { bytes(params + plan.stats) } else { 0 },
            code: CODE_BUDGET,
        }
    }

    /// RAM in all.
    pub fn ram(&self) -> u64 {
        self.network
            + self.gradients
            + self.optimizer_state
            + self.split_indices
            + self.snapshot
            + self.firmware_and_stack
    }

    /// Flash in all.
    pub fn flash(&self) -> u64 {
        self.data + self.init + self.code
    }
}

/// Bytes of one row index for `rows` rows: the type the firmware's workspace picks.
fn index_width(rows: usize) -> u64 {
    if rows <= <u16 as RowIndex>::MAX_ROWS {
        2
    } else {
        4
    }
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// `name size, …` of the items that are not empty.
fn items(items: &[(&str, u64)]) -> String {
    let shown: Vec<String> = items
        .iter()
        .filter(|(_, bytes)| *bytes > 0)
        .map(|(name, bytes)| format!("{name} {}", kib(*bytes)))
        .collect();
    shown.join(", ")
}

/// Checks the limits the firmware is built with and `need` against `board`'s `memory`: an error
/// says what does not fit, by how much, and what to change.
pub fn check(setup: &Setup<'_>, need: &Need, board: &Board, memory: Memory) -> anyhow::Result<()> {
    let table = setup.table;
    if table.width() > MAX_FEATURES {
        bail!(
            "--device: {} has {} features; the firmware takes at most {MAX_FEATURES}",
            table.path.display(),
            table.width()
        );
    }
    if table.classes() > MAX_CLASSES {
        bail!(
            "--device: {} has {} classes; the firmware takes at most {MAX_CLASSES}",
            table.path.display(),
            table.classes()
        );
    }
    let mut problems = Vec::new();
    if need.ram() > memory.ram {
        let mut advice = Vec::new();
        if need.network + need.gradients + need.optimizer_state > memory.ram / 2 {
            advice.push("smaller --hidden layers");
        }
        if need.optimizer_state > 0 {
            advice.push("--optimizer sgd without --momentum (no optimiser state; Adam keeps 2 floats per parameter)");
        }
        if need.gradients > 0 {
            advice.push(
                "plain SGD with --batch 1 (fused into the backward pass, it keeps no gradients)",
            );
        }
        if need.snapshot > 0 {
            advice.push("--no-restore-best (no snapshot)");
        }
        if need.split_indices > memory.ram / 8 {
            advice.push("fewer rows");
        }
        problems.push(format!(
            "RAM: the run needs {} but {} has {} ({} over): {}.\n  To fit: {}",
            kib(need.ram()),
            board.name,
            kib(memory.ram),
            kib(need.ram() - memory.ram),
            items(&[
                ("network", need.network),
                ("gradients", need.gradients),
                ("optimiser state", need.optimizer_state),
                ("split indices", need.split_indices),
                ("early-stopping snapshot", need.snapshot),
                ("firmware and stack", need.firmware_and_stack),
            ]),
            if advice.is_empty() {
                "a board with more RAM".into()
            } else {
                advice.join("; ")
            }
        ));
    }
    if need.flash() > memory.flash {
        problems.push(format!(
            "flash: the run needs {} but {} has {} ({} over): {}.\n  To fit: fewer rows or features, or a board with more flash",
            kib(need.flash()),
            board.name,
            kib(memory.flash),
            kib(need.flash() - memory.flash),
            items(&[
                ("data tables", need.data),
                ("--init parameters", need.init),
                ("code", need.code),
            ]),
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    bail!(
        "--device {}: the run does not fit the board (nothing was built)\n{}",
        board.name,
        problems.join("\n")
    )
}
