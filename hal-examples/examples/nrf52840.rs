//! nRF52840 (e.g. the nRF52840-DK) through `nrf52840-hal`: digits trains in thread mode while
//! UARTE0's end-of-transfer interrupt sends the queued frames by EasyDMA on P0.06 (the DK's VCOM)
//! at 115,200 baud; defmt over RTT. `cargo run-nrf52840` with a probe attached.
#![no_std]
#![no_main]

use core::cell::RefCell;

use critical_section::Mutex;
use defmt_rtt as _;
use embedded_io::Write as _;
use nrf52840_hal::gpio::{p0, Level};
use nrf52840_hal::pac::{self, interrupt};
use nrf52840_hal::uarte::{Baudrate, Parity, Pins, Uarte, UarteRx, UarteTx};
use panic_probe as _;
use static_cell::{ConstStaticCell, StaticCell};
use tinytrain_hal_examples::{FrameQueue, Frames, UartSlot};

/// Bytes per EasyDMA transfer (EasyDMA reads RAM only, so they are copied out of the queue).
const CHUNK: usize = 64;

static QUEUE: StaticCell<FrameQueue> = StaticCell::new();
static TX_DMA: ConstStaticCell<[u8; CHUNK]> = ConstStaticCell::new([0; CHUNK]);
static RX_DMA: ConstStaticCell<[u8; 1]> = ConstStaticCell::new([0; 1]);
/// The UART's transmit half and the queue's consumer end, owned by the interrupt.
static UART: UartSlot<UarteTx<pac::UARTE0>> = Mutex::new(RefCell::new(None));

/// UARTE0's registers, for the one thing the HAL leaves out: its interrupt enable.
fn uarte0() -> &'static pac::uarte0::RegisterBlock {
    // SAFETY: only INTENSET (read and written) and INTENCLR are used through it, write-1-to-change
    // registers that hold no state the HAL driver keeps.
    unsafe { &*pac::UARTE0::ptr() }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some(p) = pac::Peripherals::take() else {
        defmt::panic!("the peripherals were already taken")
    };
    let port0 = p0::Parts::new(p.P0);
    let pins = Pins {
        txd: port0.p0_06.into_push_pull_output(Level::High).degrade(),
        rxd: port0.p0_08.into_floating_input().degrade(),
        cts: None,
        rts: None,
    };
    let uarte = Uarte::new(p.UARTE0, pins, Parity::EXCLUDED, Baudrate::BAUD115200);
    let Ok((tx, rx)) = uarte.split(TX_DMA.take(), RX_DMA.take()) else {
        defmt::panic!("the DMA buffers do not suit UARTE0")
    };
    // Kept, unused: dropping the receive half would cancel reception on the shared peripheral.
    let _rx: UarteRx<pac::UARTE0> = rx;
    let (producer, consumer) = QUEUE.init(FrameQueue::new()).split();
    critical_section::with(|cs| UART.borrow_ref_mut(cs).replace((tx, consumer)));
    // SAFETY: the handler below only touches what `UART` hands it inside a critical section.
    unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::UARTE0_UART0) };

    // When the transmitter is idle, run the interrupt now; it then runs at the end of every transfer
    // until the queue is empty (while a transfer runs, its end will).
    let kick = || {
        critical_section::with(|_| {
            if uarte0().intenset.read().endtx().is_disabled() {
                uarte0().intenset.write(|w| w.endtx().set());
                cortex_m::peripheral::NVIC::pend(pac::Interrupt::UARTE0_UART0);
            }
        })
    };
    tinytrain_hal_examples::train_digits(Frames::new(producer, kick))
}

/// A transfer ended (or the trainer queued bytes): finish it, start the next chunk, or stop
/// listening when the queue is empty.
#[interrupt]
fn UARTE0_UART0() {
    critical_section::with(|cs| {
        let mut uart = UART.borrow_ref_mut(cs);
        let Some((tx, queue)) = uart.as_mut() else {
            return;
        };
        // Returns at once: the interrupt runs when the last transfer has ended (or none was started).
        if tx.flush().is_err() {
            defmt::warn!("UARTE0: a transfer was stopped");
        }
        let mut chunk = [0u8; CHUNK];
        let mut len = 0;
        while len < CHUNK {
            let Some(byte) = queue.dequeue() else { break };
            chunk[len] = byte;
            len += 1;
        }
        if len == 0 {
            uarte0().intenclr.write(|w| w.endtx().clear());
        } else if tx.write_all(&chunk[..len]).is_err() {
            defmt::warn!("UARTE0: a transfer failed");
        }
    })
}
