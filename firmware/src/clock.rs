//! A 64-bit tick counter from SysTick (24 bits) and a count of its wrap-arounds.
//!
//! SysTick runs on the core clock. DWT's cycle counter would be the usual choice on a board, but it
//! reads 0 in QEMU; with `-icount shift=0`, QEMU's virtual time — and so SysTick — advances one
//! nanosecond per instruction, which makes these ticks a deterministic instruction count.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;

const RELOAD: u32 = 0x00FF_FFFF;
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Starts SysTick from its full 24-bit reload, counting wrap-arounds in its interrupt.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Ticks since [`start`].
pub fn ticks() -> u64 {
    loop {
        let wraps = WRAPS.load(Ordering::Acquire);
        let current = SYST::get_current();
        // A wrap between the two loads shows as a changed count: read again.
        if WRAPS.load(Ordering::Acquire) == wraps {
            return u64::from(wraps) * u64::from(RELOAD + 1) + u64::from(RELOAD - current);
        }
    }
}

#[cortex_m_rt::exception]
fn SysTick() {
    // Only this handler writes the count, so a load and a store suffice (ARMv6-M has no atomic
    // read-modify-write).
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}
