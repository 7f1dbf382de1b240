//! The default experiment, handwritten digits (64 → 32 → 10, Adam), trained on the device.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use static_cell::ConstStaticCell;
use tinytrain_experiments::digits;

/// Every buffer of the run, zeroed, so in `.bss`: 47 KB, most of the RAM the run needs.
static WORKSPACE: ConstStaticCell<digits::Workspace> = ConstStaticCell::new(digits::workspace());

#[cortex_m_rt::entry]
fn main() -> ! {
    tinytrain_firmware::train(&digits::EXPERIMENT, WORKSPACE.take())
}
