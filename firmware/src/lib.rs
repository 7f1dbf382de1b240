//! # tinytrain-firmware — train on the device, report every epoch
//!
//! What every program needs (knurling's app-template layout): the defmt global logger, the panic
//! and HardFault handlers, [`exit`], and [`train`], which runs one experiment of
//! `tinytrain-experiments` and reports it. Each program in `src/bin/` is a few lines that pick the
//! experiment and give it a zeroed `static` workspace.
//!
//! Features pick the transport and the board (see `Cargo.toml` and `README.md`):
//! `qemu` (defmt over semihosting, semihosting exit) or `rtt` (defmt-rtt, panic-probe); and one of
//! `mps2-an386`, `netduinoplus2`, `stm32f411`, `nrf52840`.
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(all(feature = "qemu", feature = "rtt"))]
compile_error!("enable only one of the features `qemu` and `rtt`");

#[cfg(feature = "rtt")]
use defmt_rtt as _;
#[cfg(feature = "qemu")]
use defmt_semihosting as _;
#[cfg(feature = "rtt")]
use panic_probe as _;

pub mod board;
pub mod clock;
pub mod ram;
pub mod report;
pub mod serial;
// The nRF UART drivers here only transmit.
#[cfg(not(any(feature = "microbit", feature = "nrf52840")))]
mod stream;
mod train;

mod mem;

// The nRF UART drivers here only transmit.
#[cfg(not(any(feature = "microbit", feature = "nrf52840")))]
pub use stream::stream;
pub use train::train;

/// What every program does first: paints the stack (for the peak the summary reports), starts
/// the tick counter and returns the board's serial port.
fn start() -> board::Serial {
    ram::paint_stack();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        defmt::panic!("the core peripherals were already taken");
    };
    clock::start(peripherals.SYST);
    board::serial()
}

/// Ends the program successfully: QEMU exits with status 0 (semihosting); under `probe-rs run`
/// the breakpoint ends the session.
pub fn exit() -> ! {
    end(0)
}

/// Ends the program with a failure: QEMU exits with status 1; on a board the core halts on a
/// breakpoint, which probe-rs reports.
pub fn exit_failure() -> ! {
    end(1)
}

fn end(_status: i32) -> ! {
    #[cfg(feature = "qemu")]
    semihosting::process::exit(_status);
    #[cfg(not(feature = "qemu"))]
    loop {
        cortex_m::asm::bkpt();
    }
}

/// The whole of a training program: `program!(iris)` trains `tinytrain_experiments::iris` with
/// every buffer of the run zeroed in `.bss`; `program!(iris, fault = NanInput { row: 0 })` injects
/// a [`Fault`](tinytrain_experiments::Fault) into its data.
#[macro_export]
macro_rules! program {
    ($experiment:ident $(, fault = $fault:expr)?) => {
        /// Every buffer of the run, zeroed, so in `.bss`.
        static WORKSPACE: static_cell::ConstStaticCell<tinytrain_experiments::$experiment::Workspace> =
            static_cell::ConstStaticCell::new(tinytrain_experiments::$experiment::workspace());

        #[cortex_m_rt::entry]
        fn main() -> ! {
            $crate::train::<tinytrain_experiments::$experiment::Fixed, _, _, _, _, _>(
                &tinytrain_experiments::$experiment::EXPERIMENT,
                $crate::program!(@fault $($fault)?),
                WORKSPACE.take(),
            )
        }
    };
    (@fault) => { tinytrain_experiments::NoFault };
    (@fault $fault:expr) => { $fault };
}

/// The whole of a streaming program: `stream_program!(device)` learns from the samples streamed to
/// it, starting from `tinytrain_experiments::device`'s model (see [`stream()`]).
#[macro_export]
macro_rules! stream_program {
    ($experiment:ident) => {
        /// Every buffer of the run, zeroed, so in `.bss`.
        static WORKSPACE: static_cell::ConstStaticCell<
            tinytrain_experiments::$experiment::Workspace,
        > = static_cell::ConstStaticCell::new(tinytrain_experiments::$experiment::workspace());
        /// An autoencoder's errors until its threshold (none for other networks).
        static ERRORS: static_cell::ConstStaticCell<
            [f32; tinytrain_experiments::$experiment::SCORES],
        > = static_cell::ConstStaticCell::new([0.0; tinytrain_experiments::$experiment::SCORES]);

        #[cortex_m_rt::entry]
        fn main() -> ! {
            $crate::stream::<tinytrain_experiments::$experiment::Fixed, _, _, _, _>(
                &tinytrain_experiments::$experiment::EXPERIMENT,
                WORKSPACE.take(),
                ERRORS.take(),
            )
        }
    };
}

/// Under QEMU a panic is logged and ends the emulator with status 1 (with `rtt`, panic-probe does
/// the same through the probe). The message is printed when it is a plain string and the place
/// always, without `core::fmt` (2.5 KB of flash): a formatted message says so (`defmt::panic!`
/// logs its own message before it panics).
#[cfg(feature = "qemu")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let message = info.message().as_str().unwrap_or("(a formatted message)");
    match info.location() {
        Some(at) => defmt::error!(
            "panic at {=str}:{=u32}: {=str}",
            at.file(),
            at.line(),
            message
        ),
        None => defmt::error!("panic: {=str}", message),
    }
    exit_failure()
}

/// A fault (a stack overflow into flip-link's guard, a bad address) is logged and ends the run with
/// a failure instead of looping forever.
#[allow(unsafe_code)] // cortex-m-rt requires the HardFault handler to be an `unsafe fn`
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!(
        "HardFault: pc={=u32:#010x} lr={=u32:#010x}",
        frame.pc(),
        frame.lr()
    );
    exit_failure()
}
