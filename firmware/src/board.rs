//! What differs between boards: the name, SysTick's clock and the serial port of the report.
//!
//! Exactly one board feature is enabled (`build.rs` checks it and picks `memory/<board>.x`).

use crate::serial;
use tinytrain_experiments::cost;

/// The Arm MPS2/MPS3 boards QEMU emulates: a CMSDK UART and SysTick on the core clock (`SYSCLK`
/// of QEMU's `hw/arm/mps2.c` and `hw/arm/mps2-tz.c`).
#[cfg(any(
    feature = "mps2-an386",
    feature = "mps2-an385",
    feature = "mps2-an500",
    feature = "mps2-an505",
    feature = "mps3-an547"
))]
mod imp {
    use super::serial::CmsdkUart;

    /// The report's serial port.
    pub type Serial = CmsdkUart;

    /// Board name, as in the feature; SysTick's clock; UART0's address (QEMU's first `-serial`).
    #[cfg(feature = "mps2-an386")]
    const BOARD: (&str, u32, usize) = ("mps2-an386", 25_000_000, CmsdkUart::MPS2_UART0);
    #[cfg(feature = "mps2-an385")]
    const BOARD: (&str, u32, usize) = ("mps2-an385", 25_000_000, CmsdkUart::MPS2_UART0);
    #[cfg(feature = "mps2-an500")]
    const BOARD: (&str, u32, usize) = ("mps2-an500", 25_000_000, CmsdkUart::MPS2_UART0);
    /// The SSE-200 boots secure: UART0's secure alias.
    #[cfg(feature = "mps2-an505")]
    const BOARD: (&str, u32, usize) = ("mps2-an505", 20_000_000, 0x5020_0000);
    /// The SSE-300 boots secure: UART0's secure alias.
    #[cfg(feature = "mps3-an547")]
    const BOARD: (&str, u32, usize) = ("mps3-an547", 32_000_000, 0x5930_3000);

    /// Board name, as in the feature.
    pub const NAME: &str = BOARD.0;
    /// SysTick's clock.
    pub const SYSTICK_HZ: u32 = BOARD.1;

    /// UART0, QEMU's first `-serial`.
    pub fn serial() -> Serial {
        #[allow(unsafe_code)]
        // SAFETY: UART0's address on this board; the report is its only user.
        unsafe {
            CmsdkUart::new(BOARD.2, 16)
        }
    }
}

#[cfg(any(feature = "netduinoplus2", feature = "stm32f411"))]
mod imp {
    use super::serial::Stm32Usart;

    /// Board name, as in the feature.
    #[cfg(feature = "netduinoplus2")]
    pub const NAME: &str = "netduinoplus2";
    /// Board name, as in the feature.
    #[cfg(feature = "stm32f411")]
    pub const NAME: &str = "stm32f411";
    /// SysTick's clock: QEMU's STM32F405 model runs its core at 168 MHz.
    #[cfg(feature = "netduinoplus2")]
    pub const SYSTICK_HZ: u32 = 168_000_000;
    /// SysTick's clock: the 16 MHz HSI an STM32F4 runs on after reset (this firmware sets no PLL).
    #[cfg(feature = "stm32f411")]
    pub const SYSTICK_HZ: u32 = 16_000_000;
    /// The report's serial port.
    pub type Serial = Stm32Usart;

    const RCC: usize = 0x4002_3800;
    const RCC_AHB1ENR: usize = RCC + 0x30;
    const RCC_APB2ENR: usize = RCC + 0x44;
    const GPIOA: usize = 0x4002_0000;
    const GPIOA_MODER: usize = GPIOA;
    const GPIOA_AFRH: usize = GPIOA + 0x24;
    /// 16 MHz / 115 200 baud with 16× oversampling: mantissa 8, fraction 11.
    const BRR_115200_AT_16MHZ: u32 = 0x8B;

    /// USART1 on PA9 (TX) and PA10 (RX, for a stream's samples), both AF7, at 115 200 baud; QEMU's
    /// first `-serial` on `netduinoplus2` (QEMU ignores the clock and pin set-up).
    pub fn serial() -> Serial {
        #[allow(unsafe_code)]
        // SAFETY: fixed STM32F4 register addresses (RM0090/RM0383); read-modify-write of the bits
        // for GPIOA, PA9, PA10 and USART1 only, which nothing else in this firmware uses.
        unsafe {
            use core::ptr::{read_volatile, write_volatile};
            let modify = |address: usize, clear: u32, set: u32| {
                let register = address as *mut u32;
                write_volatile(register, read_volatile(register) & !clear | set);
            };
            modify(RCC_AHB1ENR, 0, 1 << 0); // GPIOAEN
            modify(RCC_APB2ENR, 0, 1 << 4); // USART1EN
            modify(GPIOA_MODER, 0b1111 << 18, 0b1010 << 18); // PA9, PA10: alternate function
            modify(GPIOA_AFRH, 0xFF << 4, 0x77 << 4); // PA9, PA10: AF7 = USART1_TX, USART1_RX
            Stm32Usart::new(Stm32Usart::USART1, BRR_115200_AT_16MHZ)
        }
    }
}

/// Nordic parts: the nRF51's UART and the nRF52's UART0 are the same register block at the same
/// address (QEMU's `microbit` emulates the nRF51 one, so the nRF52840 driver is tested there).
#[cfg(any(feature = "nrf52840", feature = "microbit"))]
mod imp {
    use super::serial::NrfUart;

    /// Board name, as in the feature.
    #[cfg(feature = "nrf52840")]
    pub const NAME: &str = "nrf52840";
    /// Board name, as in the feature.
    #[cfg(feature = "microbit")]
    pub const NAME: &str = "microbit";
    /// SysTick's clock: the 64 MHz core clock.
    #[cfg(feature = "nrf52840")]
    pub const SYSTICK_HZ: u32 = 64_000_000;
    /// SysTick's clock: the nRF51's 16 MHz core clock.
    #[cfg(feature = "microbit")]
    pub const SYSTICK_HZ: u32 = 16_000_000;
    /// The report's serial port.
    pub type Serial = NrfUart;

    /// UART TX pin: P0.06 on the nRF52840-DK (its debugger's USB serial port), P0.24 on the
    /// micro:bit (its interface chip's).
    #[cfg(feature = "nrf52840")]
    const TX_PIN: u32 = 6;
    #[cfg(feature = "microbit")]
    const TX_PIN: u32 = 24;

    /// UART0 at 115 200 baud.
    pub fn serial() -> Serial {
        #[allow(unsafe_code)]
        // SAFETY: UART0's address; the report is the only user of UART0 and its TX pin.
        unsafe {
            NrfUart::new(NrfUart::UART0, TX_PIN, NrfUart::BAUD_115200)
        }
    }
}

pub use imp::{serial, Serial, NAME, SYSTICK_HZ};

/// What SysTick ticks count, for the cost per sample: under QEMU with `-icount shift=0` one
/// nanosecond of virtual time is one instruction; on a board SysTick counts core cycles.
pub const COST_UNIT: &str = if cfg!(feature = "qemu") {
    "instructions"
} else {
    "cycles"
};

/// `ticks` of SysTick in [`COST_UNIT`]s: `ticks · 10⁹ / SYSTICK_HZ` instructions under QEMU (virtual
/// nanoseconds, [`cost::nanoseconds`]), `ticks` cycles on a board.
pub fn cost(ticks: u64) -> u64 {
    if cfg!(feature = "qemu") {
        cost::nanoseconds(ticks, SYSTICK_HZ)
    } else {
        ticks
    }
}
