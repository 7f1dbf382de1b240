//! tinytrain on real boards through the ecosystem's HAL crates (`stm32f4xx-hal`, `nrf52840-hal`).
//!
//! Each example trains the default digits experiment in thread mode, the lowest priority, and
//! reports every epoch twice: a defmt line over RTT, and the serial frame of
//! [`tinytrain_experiments::frame`] (the JSON text, `*`, its CRC-32, `\n`) through a byte queue that
//! the UART's interrupt drains. Training never waits for the wire unless the queue is full (two
//! frames). The frames are the ones `tinytrain monitor --port` and `tinytrain decode --serial-log`
//! read; the QEMU firmware of `firmware/` keeps its own register-level drivers.

#![no_std]
#![deny(missing_docs)]

use core::convert::Infallible;

use heapless::spsc::{Consumer, Producer, Queue};
use tinytrain::record::EpochRecord;
use tinytrain_experiments::wire::{epoch, frame, FRAME_CAPACITY};
use tinytrain_experiments::{digits, NoFault, Observer, Rows};

/// Bytes the queue holds: two frames, so one can be sent while the next is encoded.
pub const QUEUE_BYTES: usize = 2 * FRAME_CAPACITY;

/// The queue between the trainer (producer, thread mode) and the UART interrupt (consumer).
/// heapless' queue of capacity `N` holds `N − 1` elements.
pub type FrameQueue = Queue<u8, { QUEUE_BYTES + 1 }>;
/// The trainer's end of a [`FrameQueue`].
pub type FrameProducer = Producer<'static, u8, { QUEUE_BYTES + 1 }>;
/// The UART interrupt's end of a [`FrameQueue`].
pub type FrameConsumer = Consumer<'static, u8, { QUEUE_BYTES + 1 }>;

/// A UART and the queue's consumer end, handed to the UART's interrupt (in a `static`).
pub type UartSlot<T> = critical_section::Mutex<core::cell::RefCell<Option<(T, FrameConsumer)>>>;

/// An [`Observer`] that logs every epoch over defmt and queues its serial frame. `kick` makes the
/// UART's interrupt run (it enables the "transmitter ready" interrupt, or starts a transfer).
pub struct Frames<K: FnMut()> {
    queue: FrameProducer,
    buffer: [u8; FRAME_CAPACITY],
    kick: K,
}

impl<K: FnMut()> Frames<K> {
    /// Frames into `queue`; `kick` after each frame, and while waiting for room.
    pub fn new(queue: FrameProducer, kick: K) -> Self {
        Self {
            queue,
            buffer: [0; FRAME_CAPACITY],
            kick,
        }
    }
}

/// Queues `bytes`, waiting for the interrupt to make room when the queue is full. (Spinning, not
/// `wfi`: the interrupt that made room may come between the check and the sleep.)
fn send(queue: &mut FrameProducer, kick: &mut impl FnMut(), bytes: &[u8]) {
    for &byte in bytes {
        while queue.enqueue(byte).is_err() {
            kick();
            core::hint::spin_loop();
        }
    }
}

impl<K: FnMut()> Observer for Frames<K> {
    fn started(&mut self, rows: &Rows) -> Result<(), Infallible> {
        defmt::info!(
            "start train_rows={=u32} val_rows={=u32}",
            rows.train,
            rows.validation
        );
        Ok(())
    }

    fn epoch(&mut self, record: &EpochRecord) -> Result<(), Infallible> {
        defmt::info!(
            "epoch {=u32} train_loss={=f32} val_loss={=f32} val_acc={=f32}",
            record.epoch,
            record.train_loss,
            record.val_loss.unwrap_or(f32::NAN),
            record.val_acc.unwrap_or(f32::NAN)
        );
        match epoch::encode(record, &mut self.buffer) {
            Some(len) => {
                let json = &self.buffer[..len];
                send(&mut self.queue, &mut self.kick, json);
                send(&mut self.queue, &mut self.kick, &frame::trailer(json));
                (self.kick)();
            }
            None => defmt::warn!("epoch {=u32}: the frame does not fit", record.epoch),
        }
        Ok(())
    }
}

impl<K: FnMut()> Frames<K> {
    /// Waits until the UART interrupt has taken every queued byte.
    pub fn drain(&mut self) {
        while self.queue.len() > 0 {
            (self.kick)();
            core::hint::spin_loop();
        }
    }
}

/// Every buffer of the run, zeroed, in `.bss`.
static WORKSPACE: static_cell::ConstStaticCell<digits::Workspace> =
    static_cell::ConstStaticCell::new(digits::workspace());

/// Trains the default digits experiment, reporting through `frames`, waits until the UART has sent
/// every frame, and sleeps. Call it once, from thread mode, after the UART's interrupt is set up.
pub fn train_digits<K: FnMut()>(mut frames: Frames<K>) -> ! {
    let workspace = WORKSPACE.take();
    match workspace.run_fixed::<digits::Fixed>(&digits::EXPERIMENT, NoFault, &mut frames) {
        Ok(summary) => defmt::info!(
            "done epochs={=u32} best_epoch={=u32} final_val_acc={=f32}",
            summary.epochs,
            summary.best_epoch,
            summary.last.val_acc.unwrap_or(f32::NAN)
        ),
        Err(error) => defmt::error!("cannot run digits: {}", error),
    }
    frames.drain();
    loop {
        cortex_m::asm::wfi();
    }
}
