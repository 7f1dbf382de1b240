//! STM32F411 (e.g. the "Black Pill" or Nucleo-F411RE) through `stm32f4xx-hal`: digits trains in
//! thread mode while USART1's TXE interrupt sends the queued frames on PA9 at 115,200 baud; defmt
//! over RTT. `cargo run-f411` with a probe attached.
#![no_std]
#![no_main]

use core::cell::RefCell;

use critical_section::Mutex;
use defmt_rtt as _;
use panic_probe as _;
use static_cell::StaticCell;
use stm32f4xx_hal::pac::{self, interrupt};
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::serial::{Tx, TxISR, TxListen};
use tinytrain_hal_examples::{FrameQueue, Frames, UartSlot};

static QUEUE: StaticCell<FrameQueue> = StaticCell::new();
/// The UART and the queue's consumer end, owned by the interrupt once training starts.
static UART: UartSlot<Tx<pac::USART1>> = Mutex::new(RefCell::new(None));

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some(dp) = pac::Peripherals::take() else {
        defmt::panic!("the peripherals were already taken")
    };
    let rcc = dp.RCC.constrain();
    let clocks = rcc.cfgr.sysclk(84.MHz()).freeze();
    let gpioa = dp.GPIOA.split();
    let Ok(tx) = dp.USART1.tx(gpioa.pa9, 115_200.bps(), &clocks) else {
        defmt::panic!("USART1 cannot run at 115,200 baud from this clock")
    };
    let (producer, consumer) = QUEUE.init(FrameQueue::new()).split();
    critical_section::with(|cs| UART.borrow_ref_mut(cs).replace((tx, consumer)));
    // SAFETY: the handler below only touches what `UART` hands it inside a critical section.
    unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::USART1) };

    let kick = || {
        critical_section::with(|cs| {
            if let Some((tx, _)) = UART.borrow_ref_mut(cs).as_mut() {
                tx.listen();
            }
        })
    };
    tinytrain_hal_examples::train_digits(Frames::new(producer, kick))
}

/// Transmit register empty: the next queued byte, or stop listening when the queue is empty.
#[interrupt]
fn USART1() {
    critical_section::with(|cs| {
        if let Some((tx, queue)) = UART.borrow_ref_mut(cs).as_mut() {
            if tx.is_tx_empty() {
                match queue.dequeue() {
                    Some(byte) => {
                        let _ = embedded_hal_nb::serial::Write::write(tx, byte);
                    }
                    None => tx.unlisten(),
                }
            }
        }
    })
}
