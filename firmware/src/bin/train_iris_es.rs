//! Iris with early stopping (up to 300 epochs, patience 10 on the validation loss, best weights
//! restored from a snapshot in the workspace), trained on the device. Run by
//! `tests/tests/early_stop_qemu.rs`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use static_cell::ConstStaticCell;
use tinytrain_experiments::iris_es;

/// Every buffer of the run, the best-weights snapshot included, zeroed, so in `.bss`.
static WORKSPACE: ConstStaticCell<iris_es::Workspace> = ConstStaticCell::new(iris_es::workspace());

#[cortex_m_rt::entry]
fn main() -> ! {
    tinytrain_firmware::train(&iris_es::EXPERIMENT, WORKSPACE.take())
}
