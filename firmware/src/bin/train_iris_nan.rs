//! The iris experiment with a NaN in one training row's features: the core's divergence guard
//! must skip that sample every epoch (20 in all) and keep every parameter finite. Run by
//! `tests/tests/nan_qemu.rs`; its report ends with `WARN divergence skipped_samples=20 ...`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use static_cell::ConstStaticCell;
use tinytrain_experiments::{iris, NanInput};

/// Every buffer of the run, zeroed, so in `.bss`.
static WORKSPACE: ConstStaticCell<iris::Workspace> = ConstStaticCell::new(iris::workspace());

/// A training row of iris's split (`experiments/src/run.rs` checks it on the host).
const NAN_ROW: u32 = 0;

#[cortex_m_rt::entry]
fn main() -> ! {
    tinytrain_firmware::train_with_fault(
        &iris::EXPERIMENT,
        NanInput { row: NAN_ROW },
        WORKSPACE.take(),
    )
}
