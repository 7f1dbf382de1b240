//! The report of a run, on two channels: one defmt line and one serial frame per epoch and per
//! diagnosis event, the early-stopping outcome (experiments with early stopping), then the summary.
//! The formats are specified in `README.md` ("Output formats"); the frames are encoded by
//! `tinytrain_experiments::wire`, which the host parses them with.
//!
//! Every float is logged twice in defmt, as a number and as its bit pattern, because a defmt decoder
//! only gives formatted text; the serial frames are JSON with a `bits` object for the same reason
//! (and because JSON has no NaN).

use core::convert::Infallible;
use embedded_io::Write;
use serde::Serialize;
use tinytrain::diagnose::Event;
use tinytrain::early_stop::Outcome;
use tinytrain::record::EpochRecord;
use tinytrain::spec::Plan;
use tinytrain_experiments::cost;
use tinytrain_experiments::wire::outcome::Count;
use tinytrain_experiments::wire::{self, frame, FRAME_CAPACITY};
use tinytrain_experiments::{Experiment, Observer, Rows, Summary};

use crate::{board, clock, ram};

/// Bit pattern logged for a field the record does not have (a NaN no arithmetic produces).
pub const ABSENT: u32 = 0xFFFF_FFFF;

/// Writes one serial frame: the JSON text, `*`, its CRC-32 in 8 hex digits, `\n` (see
/// [`tinytrain_experiments::frame`]).
pub fn send_frame<W: Write>(serial: &mut W, json: &[u8]) -> Result<(), W::Error> {
    serial.write_all(json)?;
    serial.write_all(&frame::trailer(json))
}

/// Sends the model (its parameters, a `front` read in place then `params`, and the batch-norm
/// `stats` of a network of `layers`) as weights
/// frames (`tinytrain_experiments::weights_frame`; the host's monitor, or `tinytrain decode
/// --serial-log`, writes them to weights.json), then flushes the port.
pub fn send_weights<W: Write>(
    serial: &mut W,
    layers: &[tinytrain::spec::Layer],
    front: &[f32],
    params: &[f32],
    stats: &[f32],
) {
    wire::weights::for_each_frame(layers, front, params, stats, |json| {
        if send_frame(serial, json).is_err() {
            defmt::panic!("the serial port failed");
        }
    });
    let _ = serial.flush();
}

/// What the device measured about itself.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Resources {
    /// Board feature.
    pub board: &'static str,
    /// `.data` + `.bss` + `.uninit` bytes.
    pub static_ram: u32,
    /// Stack high-water mark in bytes (stack painting).
    pub stack_peak: u32,
    /// `static_ram + stack_peak`: all the RAM the run needed.
    pub ram_total: u32,
    /// Size of the stack region in bytes.
    pub stack_region: u32,
    /// `.text` bytes.
    pub flash_text: u32,
    /// `.rodata` bytes (including the embedded datasets).
    pub flash_rodata: u32,
    /// SysTick's clock.
    pub clock_hz: u32,
    /// SysTick ticks spent in training passes (all epochs).
    pub train_ticks: Count,
    /// SysTick ticks spent in validation passes (all epochs).
    pub validation_ticks: Count,
    /// `instructions` (QEMU with `-icount shift=0`) or `cycles` (board).
    pub cost_unit: &'static str,
    /// Cost of one training sample: forward, loss, backward, and its share of the optimiser steps.
    pub per_train_sample: u32,
    /// Cost of one validation sample: forward and loss.
    pub per_validation_sample: u32,
}

/// An [`Observer`] that reports every epoch over defmt and `serial`, and times the passes.
#[derive(Debug)]
pub struct Reporter<'a, W> {
    serial: W,
    buffer: [u8; FRAME_CAPACITY],
    experiment: &'a Experiment,
    rows: Rows,
    mark: u64,
    trained_at: u64,
    train_ticks: u64,
    validation_ticks: u64,
}

impl<'a, W: Write> Reporter<'a, W> {
    /// A reporter for a run of `experiment` that writes frames to `serial`.
    pub fn new(serial: W, experiment: &'a Experiment) -> Self {
        let rows = Rows {
            train: 0,
            validation: 0,
        };
        Self {
            serial,
            buffer: [0; FRAME_CAPACITY],
            experiment,
            rows,
            mark: 0,
            trained_at: 0,
            train_ticks: 0,
            validation_ticks: 0,
        }
    }

    /// An epoch's line and frame.
    fn report_epoch(&mut self, record: &EpochRecord) {
        log_epoch(record, self.experiment.epochs);
        let length = wire::epoch::encode(record, &mut self.buffer);
        self.send(length);
    }

    /// A stream's epoch: reported as [`Observer::epoch`] reports one, its cost the `learning`
    /// ticks the samples' standardising and learning took (not the waiting for them, nor their
    /// parsing), which the summary's `per_train_sample` divides.
    pub fn stream_epoch(&mut self, record: &EpochRecord, learning: u64) {
        self.train_ticks += learning;
        self.report_epoch(record);
    }

    /// The serial port (a stream's samples arrive on it).
    pub fn serial_mut(&mut self) -> &mut W {
        &mut self.serial
    }

    /// Sends the first `length` bytes of the buffer (`None`: the JSON did not fit).
    fn send(&mut self, length: Option<usize>) {
        let Some(json) = length.and_then(|n| self.buffer.get(..n)) else {
            defmt::panic!("a serial frame exceeds {=usize} bytes", FRAME_CAPACITY);
        };
        if send_frame(&mut self.serial, json).is_err() {
            defmt::panic!("the serial port failed");
        }
    }

    /// Measures the resources, reports the summary on both channels and flushes the serial port.
    pub fn finish(&mut self, summary: &Summary) -> Resources {
        let (stack_peak, static_ram) = (ram::stack_peak() as u32, ram::static_ram() as u32);
        let (text, rodata) = ram::flash();
        let per = |ticks: u64, samples: u32| cost::divide(board::cost(ticks), samples) as u32;
        let resources = Resources {
            board: board::NAME,
            static_ram,
            stack_peak,
            ram_total: static_ram + stack_peak,
            stack_region: ram::stack_region() as u32,
            flash_text: text as u32,
            flash_rodata: rodata as u32,
            clock_hz: board::SYSTICK_HZ,
            train_ticks: Count(self.train_ticks),
            validation_ticks: Count(self.validation_ticks),
            cost_unit: board::COST_UNIT,
            per_train_sample: per(self.train_ticks, summary.samples_trained),
            per_validation_sample: per(
                self.validation_ticks,
                summary.epochs * summary.rows.validation,
            ),
        };
        log_summary(summary);
        log_resources(&resources);
        // In pieces: the summary frame is longer than the buffer, which holds its longer half.
        let (serial, mut crc, mut failed) = (&mut self.serial, !0, false);
        let fits = wire::outcome::encode_summary_in_parts(
            summary,
            &resources,
            &mut self.buffer,
            |piece| {
                crc = tinytrain::crc::update(crc, piece);
                failed |= serial.write_all(piece).is_err();
            },
        );
        if fits.is_none() {
            defmt::panic!("the summary exceeds {=usize} bytes", FRAME_CAPACITY);
        }
        if failed || serial.write_all(&frame::trailer_of_crc(!crc)).is_err() {
            defmt::panic!("the serial port failed");
        }
        let _ = self.serial.flush();
        resources
    }
}

impl<W: Write> Observer for Reporter<'_, W> {
    fn started(&mut self, rows: &Rows) -> Result<(), Infallible> {
        self.rows = *rows;
        let params = Plan::of(self.experiment.layers).map_or(0, |plan| plan.params) as u32;
        defmt::info!(
            "start experiment={=str} board={=str} epochs={=u32} train_rows={=u32} val_rows={=u32} params={=u32}",
            self.experiment.name,
            board::NAME,
            self.experiment.epochs,
            rows.train,
            rows.validation,
            params
        );
        self.mark = clock::ticks();
        Ok(())
    }

    fn progress(&mut self, _epoch: u32, done: usize) {
        if done == self.rows.train as usize {
            self.trained_at = clock::ticks();
        }
    }

    fn epoch(&mut self, record: &EpochRecord) -> Result<(), Infallible> {
        let now = clock::ticks();
        self.train_ticks += self.trained_at - self.mark;
        self.validation_ticks += now - self.trained_at;
        self.report_epoch(record);
        // Reporting is not part of the next epoch's cost.
        self.mark = clock::ticks();
        Ok(())
    }

    fn event(&mut self, detected: u32, event: &Event) -> Result<(), Infallible> {
        log_event(detected, event);
        let length = wire::event::encode(detected, event, &mut self.buffer);
        self.send(length);
        self.mark = clock::ticks();
        Ok(())
    }

    fn early_stop(&mut self, outcome: &Outcome) -> Result<(), Infallible> {
        defmt::info!(
            "early_stop monitor={=str} stopped_epoch={=u32} best_epoch={=u32} best={=f32} restored_epoch={=u32} bits={=u32:#010x}",
            outcome.monitor.name(),
            outcome.stopped_epoch.unwrap_or(0),
            outcome.best_epoch,
            outcome.best,
            outcome.restored_epoch.unwrap_or(0),
            outcome.best.to_bits()
        );
        let length = wire::outcome::encode_early_stop(outcome, &mut self.buffer);
        self.send(length);
        Ok(())
    }
}

/// Logs a diagnosis event's line: its fields as `key=value`, named as in its frame (see
/// `tinytrain_experiments::wire::event`).
fn log_event(detected: u32, event: &Event) {
    match event.non_finite() {
        Some(non_finite) => defmt::info!(
            "event={=str} epoch={=u32} detected={=u32} non_finite={=bool}",
            event.name(),
            event.epoch(),
            detected,
            non_finite
        ),
        None => defmt::info!(
            "event={=str} epoch={=u32} detected={=u32}",
            event.name(),
            event.epoch(),
            detected
        ),
    }
}

/// Logs an epoch's `epoch` line (classification or regression form).
pub fn log_epoch(r: &EpochRecord, epochs: u32) {
    let value = |v: Option<f32>| v.unwrap_or(f32::NAN);
    let bits = |v: Option<f32>| v.map_or(ABSENT, f32::to_bits);
    if r.train_acc.is_some() {
        defmt::info!(
            "epoch {=u32}/{=u32} train_loss={=f32} train_acc={=f32} val_loss={=f32} val_acc={=f32} val_f1={=f32} lr={=f32} bits={=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x}",
            r.epoch,
            epochs,
            r.train_loss,
            value(r.train_acc),
            value(r.val_loss),
            value(r.val_acc),
            value(r.val_f1),
            r.lr,
            r.train_loss.to_bits(),
            bits(r.train_acc),
            bits(r.val_loss),
            bits(r.val_acc),
            bits(r.val_f1),
            r.lr.to_bits()
        );
    } else {
        defmt::info!(
            "epoch {=u32}/{=u32} train_loss={=f32} train_mae={=f32} val_loss={=f32} val_mae={=f32} val_rmse={=f32} lr={=f32} bits={=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x}",
            r.epoch,
            epochs,
            r.train_loss,
            value(r.train_mae),
            value(r.val_loss),
            value(r.val_mae),
            value(r.val_rmse),
            r.lr,
            r.train_loss.to_bits(),
            bits(r.train_mae),
            bits(r.val_loss),
            bits(r.val_mae),
            bits(r.val_rmse),
            r.lr.to_bits()
        );
    }
}

fn log_summary(s: &Summary) {
    let value = |v: Option<f32>| v.unwrap_or(f32::NAN);
    let bits = |v: Option<f32>| v.map_or(ABSENT, f32::to_bits);
    defmt::info!(
        "summary experiment={=str} epochs={=u32} train_rows={=u32} val_rows={=u32} samples_trained={=u32} best_epoch={=u32} best_val_acc={=f32} final_train_loss={=f32} final_val_loss={=f32} final_val_acc={=f32} bits={=u32:#010x},{=u32:#010x},{=u32:#010x},{=u32:#010x}",
        s.experiment,
        s.epochs,
        s.rows.train,
        s.rows.validation,
        s.samples_trained,
        s.best_epoch,
        value(s.best_val_acc),
        s.last.train_loss,
        value(s.last.val_loss),
        value(s.last.val_acc),
        bits(s.best_val_acc),
        s.last.train_loss.to_bits(),
        bits(s.last.val_loss),
        bits(s.last.val_acc)
    );
}

fn log_resources(r: &Resources) {
    defmt::info!(
        "resources board={=str} static_ram={=u32} stack_peak={=u32} ram_total={=u32} stack_region={=u32} flash_text={=u32} flash_rodata={=u32} clock_hz={=u32} train_ticks={=u64} validation_ticks={=u64} per_train_sample={=u32} per_validation_sample={=u32} cost_unit={=str}",
        r.board,
        r.static_ram,
        r.stack_peak,
        r.ram_total,
        r.stack_region,
        r.flash_text,
        r.flash_rodata,
        r.clock_hz,
        r.train_ticks.0,
        r.validation_ticks.0,
        r.per_train_sample,
        r.per_validation_sample,
        r.cost_unit
    );
}
