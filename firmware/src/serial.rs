//! Register-level UART transmitters behind `embedded_io::Write`.
//!
//! The report only needs a byte sink, so a board with a HAL plugs its HAL's UART (anything that
//! implements [`embedded_io::Write`]) into [`Reporter`](crate::report::Reporter) instead. The three
//! drivers here need no HAL and no interrupts: they poll a status flag per byte.
//!
//! The CMSDK and STM32 drivers can also receive ([`Receiver`]), for the host handshake of the
//! `handshake` feature ([`wait_for`]) and for the frames of a stream ([`read_line`]).

use core::convert::Infallible;
use core::ptr;

use embedded_io::{ErrorType, Write};

/// A UART's receiver: polled, one byte at a time.
pub trait Receiver {
    /// Turns the receiver on (the drivers start with the transmitter only).
    fn enable_receiver(&mut self);
    /// Waits for the next received byte.
    fn read_byte(&mut self) -> u8;
}

impl<R: Receiver> Receiver for &mut R {
    fn enable_receiver(&mut self) {
        (**self).enable_receiver();
    }

    fn read_byte(&mut self) -> u8 {
        (**self).read_byte()
    }
}

/// Reads one frame's line into `line`: skips bytes until a `{` (a frame's first byte: handshake
/// bytes and noise between frames are dropped), then keeps bytes up to the `\n`. Returns its
/// length without the `\n`, or `None` for a line longer than `line` (read to its end and dropped).
pub fn read_line(receiver: &mut impl Receiver, line: &mut [u8]) -> Option<usize> {
    let mut byte = receiver.read_byte();
    while byte != b'{' {
        byte = receiver.read_byte();
    }
    let mut len = 0;
    let mut fits = true;
    while byte != b'\n' {
        match line.get_mut(len) {
            Some(slot) if fits => {
                *slot = byte;
                len += 1;
            }
            _ => fits = false,
        }
        byte = receiver.read_byte();
    }
    fits.then_some(len)
}

/// Waits until `byte` arrives, skipping any other byte (line noise, a repeated start byte). The
/// `handshake` feature waits for `frame::HANDSHAKE_START` before training and for
/// `frame::HANDSHAKE_ACK` after the summary (see `tinytrain_experiments::frame`).
pub fn wait_for(receiver: &mut impl Receiver, byte: u8) {
    while receiver.read_byte() != byte {}
}

/// A memory-mapped peripheral's register block.
#[derive(Debug)]
struct Registers(usize);

#[allow(unsafe_code)] // MMIO: the constructor's caller vouched for the base address
impl Registers {
    fn read(&self, offset: usize) -> u32 {
        // SAFETY: `self.0 + offset` is a register of the peripheral (see the drivers' `new`).
        unsafe { ptr::read_volatile((self.0 + offset) as *const u32) }
    }

    fn write(&self, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { ptr::write_volatile((self.0 + offset) as *mut u32, value) }
    }

    fn modify(&self, offset: usize, f: impl FnOnce(u32) -> u32) {
        self.write(offset, f(self.read(offset)));
    }
}

/// Arm CMSDK APB UART (the UARTs of the MPS2 boards; QEMU's `-serial` shows UART0's output).
#[derive(Debug)]
pub struct CmsdkUart(Registers);

impl CmsdkUart {
    /// UART0 of the MPS2 boards.
    pub const MPS2_UART0: usize = 0x4000_4000;
    const DATA: usize = 0x00;
    const STATE: usize = 0x04;
    const CTRL: usize = 0x08;
    const BAUDDIV: usize = 0x10;
    const STATE_TX_FULL: u32 = 1 << 0;
    const STATE_RX_FULL: u32 = 1 << 1;
    const CTRL_TX_ENABLE: u32 = 1 << 0;
    const CTRL_RX_ENABLE: u32 = 1 << 1;

    /// Enables the transmitter with baud divider `bauddiv` (≥ 16; the emulator ignores it).
    ///
    /// # Safety
    /// `base` must be the address of a CMSDK APB UART that nothing else drives.
    #[allow(unsafe_code)]
    pub unsafe fn new(base: usize, bauddiv: u32) -> Self {
        let uart = Registers(base);
        uart.write(Self::BAUDDIV, bauddiv);
        uart.write(Self::CTRL, Self::CTRL_TX_ENABLE);
        Self(uart)
    }
}

impl Receiver for CmsdkUart {
    fn enable_receiver(&mut self) {
        self.0
            .modify(Self::CTRL, |ctrl| ctrl | Self::CTRL_RX_ENABLE);
    }

    fn read_byte(&mut self) -> u8 {
        while self.0.read(Self::STATE) & Self::STATE_RX_FULL == 0 {}
        (self.0.read(Self::DATA) & 0xFF) as u8
    }
}

impl ErrorType for CmsdkUart {
    type Error = Infallible;
}

impl Write for CmsdkUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &byte in buf {
            while self.0.read(Self::STATE) & Self::STATE_TX_FULL != 0 {}
            self.0.write(Self::DATA, u32::from(byte));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// STM32F4 USART (reference manual RM0090 §30.6 / RM0383 §19.6), 8N1, transmit only.
#[derive(Debug)]
pub struct Stm32Usart(Registers);

impl Stm32Usart {
    /// USART1 (APB2): QEMU's first `-serial` on `netduinoplus2`; PA9 on an STM32F411 "Black Pill".
    pub const USART1: usize = 0x4001_1000;
    const SR: usize = 0x00;
    const DR: usize = 0x04;
    const BRR: usize = 0x08;
    const CR1: usize = 0x0C;
    const SR_RXNE: u32 = 1 << 5;
    const SR_TC: u32 = 1 << 6;
    const SR_TXE: u32 = 1 << 7;
    const CR1_RE: u32 = 1 << 2;
    const CR1_TE: u32 = 1 << 3;
    const CR1_UE: u32 = 1 << 13;

    /// Sets the baud rate register (`f_PCLK / baud` with 16× oversampling) and enables the
    /// transmitter. The peripheral's clock and TX pin must already be set up.
    ///
    /// # Safety
    /// `base` must be the address of an STM32F4 USART that nothing else drives.
    #[allow(unsafe_code)]
    pub unsafe fn new(base: usize, brr: u32) -> Self {
        let usart = Registers(base);
        usart.write(Self::BRR, brr);
        usart.modify(Self::CR1, |cr1| cr1 | Self::CR1_UE | Self::CR1_TE);
        Self(usart)
    }
}

/// Receiving needs the RX pin (PA10 for USART1) in its alternate function too (`board::serial`
/// sets it; QEMU needs no pin set-up).
impl Receiver for Stm32Usart {
    fn enable_receiver(&mut self) {
        self.0.modify(Self::CR1, |cr1| cr1 | Self::CR1_RE);
    }

    fn read_byte(&mut self) -> u8 {
        while self.0.read(Self::SR) & Self::SR_RXNE == 0 {}
        (self.0.read(Self::DR) & 0xFF) as u8
    }
}

impl ErrorType for Stm32Usart {
    type Error = Infallible;
}

impl Write for Stm32Usart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &byte in buf {
            while self.0.read(Self::SR) & Self::SR_TXE == 0 {}
            self.0.write(Self::DR, u32::from(byte));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while self.0.read(Self::SR) & Self::SR_TC == 0 {}
        Ok(())
    }
}

/// nRF52840 UART0 in its legacy (non-DMA) mode (product specification §6.33), 8N1, transmit only.
#[derive(Debug)]
pub struct NrfUart(Registers);

impl NrfUart {
    /// UART0.
    pub const UART0: usize = 0x4000_2000;
    /// GPIO port P0.
    const P0: usize = 0x5000_0000;
    const P0_OUTSET: usize = 0x508;
    const P0_DIRSET: usize = 0x518;
    const TASKS_STARTTX: usize = 0x008;
    const EVENTS_TXDRDY: usize = 0x11C;
    const ENABLE: usize = 0x500;
    const PSEL_TXD: usize = 0x50C;
    const TXD: usize = 0x51C;
    const BAUDRATE: usize = 0x524;
    /// `BAUDRATE` value for 115 200 baud.
    pub const BAUD_115200: u32 = 0x01D7_E000;

    /// Routes TX to pin `P0.tx_pin` (driven high while idle) and starts the transmitter.
    ///
    /// # Safety
    /// `base` must be the address of an nRF51/nRF52 UART0 and nothing else may drive it or the pin.
    #[allow(unsafe_code)]
    pub unsafe fn new(base: usize, tx_pin: u32, baudrate: u32) -> Self {
        let gpio = Registers(Self::P0);
        gpio.write(Self::P0_OUTSET, 1 << tx_pin);
        gpio.write(Self::P0_DIRSET, 1 << tx_pin);
        let uart = Registers(base);
        uart.write(Self::PSEL_TXD, tx_pin);
        uart.write(Self::BAUDRATE, baudrate);
        uart.write(Self::ENABLE, 4);
        uart.write(Self::TASKS_STARTTX, 1);
        Self(uart)
    }
}

impl ErrorType for NrfUart {
    type Error = Infallible;
}

impl Write for NrfUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &byte in buf {
            self.0.write(Self::EVENTS_TXDRDY, 0);
            self.0.write(Self::TXD, u32::from(byte));
            while self.0.read(Self::EVENTS_TXDRDY) == 0 {}
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
