//! The tiny experiment, iris (4 → 8 → 3, Adam), trained on the device.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use static_cell::ConstStaticCell;
use tinytrain_experiments::iris;

/// Every buffer of the run, zeroed, so in `.bss`.
static WORKSPACE: ConstStaticCell<iris::Workspace> = ConstStaticCell::new(iris::workspace());

#[cortex_m_rt::entry]
fn main() -> ! {
    tinytrain_firmware::train(&iris::EXPERIMENT, WORKSPACE.take())
}
