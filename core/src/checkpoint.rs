//! Checkpoints: everything a [`Trainer`] needs to continue a run bit-identically, as bytes in a
//! caller-provided buffer (no allocation), sealed with a CRC-32.
//!
//! A checkpoint taken between two epochs holds the model (the parameters, then the batch-norm
//! statistics: [`Mlp::model`](crate::network::Mlp::model)), the optimiser state (momentum or Adam
//! moments) and its counters (steps, `β₁ᵗ`, `β₂ᵗ`), the epoch count, both generators (shuffling and
//! dropout), the training order as it stands (each epoch shuffles it in place, starting from the last
//! epoch's order, so the order is part of the state), the divergence guard's counters and learning
//! rate factor, and the caller's `extra` floats (e.g. the normaliser's statistics, so that a resume
//! can check that the data are the same), and the last-good snapshot of
//! [`DivergencePolicy::ReduceLr`](crate::train::DivergencePolicy) when the trainer holds a valid one
//! (after an epoch that diverged, the next restore goes back to an older epoch's parameters, which
//! only the checkpoint still has), and the state of a [`Schedule::Plateau`](crate::optim::Schedule)
//! (its rate, best value, wait and cooldown counters). Gradients are zero between epochs and the other buffers are
//! scratch, so they are not saved.
//!
//! ## Layout (version 1, little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `TTCK` |
//! | 4 | 2 | version (1) |
//! | 6 | 2 | flags (bit 0: the run was stopped by the divergence policy; bit 1: a last-good snapshot follows the extra floats; bit 2: the last epoch diverged, so the next keeps that snapshot; bit 3: a ReduceLROnPlateau state follows) |
//! | 8 | 4 | total length in bytes, CRC included |
//! | 12 | 4 | sequence number (see *Two slots* below) |
//! | 16 | 4 | epochs completed |
//! | 20 | 12 | optimiser steps, `β₁ᵗ`, `β₂ᵗ` (f32 bits) |
//! | 32 | 4 | learning-rate factor (f32 bits) |
//! | 36 | 20 | bad inputs, bad losses, skipped steps, restores, epoch of the first divergence (0: none) |
//! | 56 | 32 | shuffle generator (state, increment), dropout generator (state, increment), u64 each |
//! | 88 | 16 | lengths: model, optimiser state, order, extra |
//! | 104 | … | model (f32: parameters, then batch-norm statistics), optimiser state (f32), order (u32), extra (f32), with flag bit 1 the last-good snapshot (as many f32 as the model), with flag bit 3 the plateau state (rate and best as f32 bits, wait, cooldown counter: 4 × u32) |
//! | end − 4 | 4 | CRC-32 ([`crate::crc`]) of every byte before it |
//!
//! [`verify`] checks, in order: the length covers a header, the magic, the version, the total length
//! against the section lengths and against the bytes available, then the CRC. Loading also checks
//! that each section has the length the trainer expects — before it changes anything.
//!
//! ## Two slots in flash
//!
//! Flash is erased in sectors and a reset can strike halfway through a write, so a device keeps two
//! slots (two sectors, each at least [`checkpoint_len`] bytes) and alternates between them:
//!
//! 1. At start-up, [`newest`] checks both slots and picks the valid one with the higher sequence
//!    number (compared with wrap-around, [`is_newer`]); an erased or half-written slot fails its CRC
//!    and is ignored. Load it with [`Trainer::load_checkpoint`], or start afresh if neither is valid.
//! 2. After an epoch, erase the *other* slot ([`next_slot`]) and write a checkpoint there with the
//!    sequence number plus one. Until that write completes, the previous checkpoint stays intact.
//!
//! So a power cut loses at most the epoch in progress. Bytes after a checkpoint's length (an erased
//! slot's `0xFF` tail) are ignored.

use crate::crc;
use crate::data::RowIndex;
use crate::optim::plateau::Plateau;
use crate::optim::{Optimizer, Schedule};
use crate::rng::Pcg32;
use crate::train::{DivergenceStats, Trainer};

/// The first four bytes of every checkpoint.
pub const MAGIC: [u8; 4] = *b"TTCK";
/// The layout version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Bytes before the first section.
pub const HEADER_LEN: usize = 104;
const CRC_LEN: usize = 4;
const FLAG_STOPPED: u16 = 1;
const FLAG_LAST_GOOD: u16 = 2;
const FLAG_LAST_EPOCH_DIVERGED: u16 = 4;
const FLAG_PLATEAU: u16 = 8;
/// Words of a ReduceLROnPlateau state ([`Plateau::to_words`]).
const PLATEAU_WORDS: usize = 4;

/// Bytes of a checkpoint with these section lengths (in elements of 4 bytes), without a last-good
/// snapshot (a trainer with [`DivergencePolicy::ReduceLr`](crate::train::DivergencePolicy)'s adds
/// `4·params`: [`Trainer::checkpoint_len`]).
pub const fn checkpoint_len(params: usize, state: usize, order: usize, extra: usize) -> usize {
    HEADER_LEN + 4 * (params + state + order + extra) + CRC_LEN
}

/// Why bytes are not a checkpoint this trainer can load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CheckpointError {
    /// The output buffer cannot hold the checkpoint.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// Fewer bytes than the header or its length field say (a truncated file or write).
    Truncated {
        /// Bytes the checkpoint needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The bytes do not start with [`MAGIC`] (not a checkpoint, or an erased slot).
    BadMagic,
    /// A layout version this crate does not read.
    UnsupportedVersion {
        /// The version found.
        found: u16,
    },
    /// The length field disagrees with the section lengths.
    BadLength {
        /// The length field.
        stated: usize,
        /// The length the sections add up to.
        computed: usize,
    },
    /// The CRC does not match: the bytes were damaged.
    Crc {
        /// The CRC stored in the checkpoint.
        stored: u32,
        /// The CRC of the bytes as read.
        computed: u32,
    },
    /// A section's length differs from what the trainer and the caller expect (another network,
    /// optimiser, dataset or normaliser).
    Mismatch {
        /// `"parameters"`, `"optimizer state"`, `"order"`, `"extra"`, `"last-good snapshot"` or
        /// `"plateau state"`.
        section: &'static str,
        /// Elements in the checkpoint.
        found: usize,
        /// Elements expected.
        expected: usize,
    },
}

impl core::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CheckpointError::BufferTooSmall { needed, available } => write!(
                f,
                "the checkpoint needs {needed} bytes, the buffer has {available}"
            ),
            CheckpointError::Truncated { needed, available } => write!(
                f,
                "truncated checkpoint: {available} bytes of {needed}"
            ),
            CheckpointError::BadMagic => f.write_str("not a tinytrain checkpoint (bad magic)"),
            CheckpointError::UnsupportedVersion { found } => write!(
                f,
                "checkpoint version {found} is not supported (this build reads version {VERSION})"
            ),
            CheckpointError::BadLength { stated, computed } => write!(
                f,
                "corrupted checkpoint: its header says {stated} bytes, its sections {computed}"
            ),
            CheckpointError::Crc { stored, computed } => write!(
                f,
                "corrupted checkpoint: CRC-32 {computed:08x} of the bytes differs from the stored {stored:08x}"
            ),
            CheckpointError::Mismatch {
                section,
                found,
                expected,
            } => write!(
                f,
                "the checkpoint's {section} has {found} values, this run has {expected}"
            ),
        }
    }
}

/// What a valid checkpoint's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Total bytes, CRC included.
    pub length: usize,
    /// Sequence number (two-slot scheme).
    pub sequence: u32,
    /// Epochs completed when it was taken.
    pub epoch: u32,
    /// Parameters.
    pub params: usize,
    /// Optimiser state floats.
    pub state: usize,
    /// Training order length.
    pub order: usize,
    /// Extra floats.
    pub extra: usize,
    /// Floats of the last-good snapshot: `params` (flag bit 1) or 0.
    pub last_good: usize,
    /// Words of a ReduceLROnPlateau state: 4 (flag bit 3) or 0.
    pub plateau: usize,
}

/// Everything before the sections, in layout order (see the [module documentation](self)).
/// [`Fixed::write`] and [`Fixed::read`] state that order, field for field, in the same sequence.
#[derive(Default)]
struct Fixed {
    magic: [u8; 4],
    version: u16,
    flags: u16,
    /// Total bytes, CRC included.
    length: u32,
    sequence: u32,
    epoch: u32,
    steps: u32,
    /// `β₁ᵗ`, `β₂ᵗ`.
    beta_powers: [f32; 2],
    lr_scale: f32,
    /// Bad inputs, bad losses, skipped steps, restores, epoch of the first divergence.
    divergence: [u32; 5],
    /// Shuffle generator (state, increment), dropout generator (state, increment).
    rngs: [u64; 4],
    /// Parameters, optimiser state, order, extra.
    sections: [u32; 4],
}

impl Fixed {
    fn write(&self, w: &mut Writer<'_>) {
        w.bytes(&self.magic);
        w.u16(self.version);
        w.u16(self.flags);
        w.u32(self.length);
        w.u32(self.sequence);
        w.u32(self.epoch);
        w.u32(self.steps);
        w.f32s(&self.beta_powers);
        w.f32s(&[self.lr_scale]);
        w.u32s(&self.divergence);
        self.rngs.iter().for_each(|&v| w.u64(v));
        w.u32s(&self.sections);
    }

    fn read(r: &mut Reader<'_>) -> Fixed {
        let mut fixed = Fixed::default();
        r.bytes(&mut fixed.magic);
        fixed.version = r.u16();
        fixed.flags = r.u16();
        fixed.length = r.u32();
        fixed.sequence = r.u32();
        fixed.epoch = r.u32();
        fixed.steps = r.u32();
        r.f32s(&mut fixed.beta_powers);
        fixed.lr_scale = r.f32();
        r.u32s(&mut fixed.divergence);
        fixed.rngs.iter_mut().for_each(|v| *v = r.u64());
        r.u32s(&mut fixed.sections);
        fixed
    }

    fn header(&self) -> Header {
        let [params, state, order, extra] = self.sections.map(|n| n as usize);
        Header {
            length: self.length as usize,
            sequence: self.sequence,
            epoch: self.epoch,
            params,
            state,
            order,
            extra,
            last_good: if self.flags & FLAG_LAST_GOOD != 0 {
                params
            } else {
                0
            },
            plateau: if self.flags & FLAG_PLATEAU != 0 {
                PLATEAU_WORDS
            } else {
                0
            },
        }
    }
}

/// Little-endian writer over a buffer known to be long enough (bytes past its end are dropped).
struct Writer<'b> {
    out: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, src: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.at..self.at + src.len()) {
            dst.copy_from_slice(src);
        }
        self.at += src.len();
    }

    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    fn u32s(&mut self, values: &[u32]) {
        values.iter().for_each(|&v| self.u32(v));
    }

    /// Row indices, whatever their type, as `u32`s (one format for `u16` and `u32` buffers).
    fn rows<I: RowIndex>(&mut self, values: &[I]) {
        values.iter().for_each(|&v| self.u32(v.row() as u32));
    }

    fn f32s(&mut self, values: &[f32]) {
        values.iter().for_each(|v| self.u32(v.to_bits()));
    }
}

/// The [`Writer`]'s mirror: little-endian reader (bytes past the input's end read as zero; callers
/// [`verify`] the lengths first).
struct Reader<'b> {
    input: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn new(input: &'b [u8]) -> Self {
        Reader { input, at: 0 }
    }

    fn bytes(&mut self, dst: &mut [u8]) {
        match self.input.get(self.at..self.at + dst.len()) {
            Some(src) => dst.copy_from_slice(src),
            None => dst.fill(0),
        }
        self.at += dst.len();
    }

    fn u16(&mut self) -> u16 {
        let mut b = [0; 2];
        self.bytes(&mut b);
        u16::from_le_bytes(b)
    }

    fn u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }

    fn u32s(&mut self, out: &mut [u32]) {
        out.iter_mut().for_each(|v| *v = self.u32());
    }

    fn rows<I: RowIndex>(&mut self, out: &mut [I]) {
        out.iter_mut()
            .for_each(|v| *v = I::from_row(self.u32() as usize));
    }

    fn f32s(&mut self, out: &mut [f32]) {
        out.iter_mut().for_each(|v| *v = self.f32());
    }
}

/// Checks magic, version, lengths and CRC; returns the header. Bytes after the checkpoint's length
/// are ignored.
pub fn verify(bytes: &[u8]) -> Result<Header, CheckpointError> {
    if bytes.len() < HEADER_LEN + CRC_LEN {
        // Too short to say more; an empty or cut file.
        if bytes.len() >= 4 && bytes[..4] != MAGIC {
            return Err(CheckpointError::BadMagic);
        }
        return Err(CheckpointError::Truncated {
            needed: HEADER_LEN + CRC_LEN,
            available: bytes.len(),
        });
    }
    let fixed = Fixed::read(&mut Reader::new(bytes));
    if fixed.magic != MAGIC {
        return Err(CheckpointError::BadMagic);
    }
    if fixed.version != VERSION {
        return Err(CheckpointError::UnsupportedVersion {
            found: fixed.version,
        });
    }
    let header = fixed.header();
    let computed = (header.params as u64
        + header.state as u64
        + header.order as u64
        + header.extra as u64
        + header.last_good as u64
        + header.plateau as u64)
        .saturating_mul(4)
        .saturating_add((HEADER_LEN + CRC_LEN) as u64);
    if computed != header.length as u64 {
        return Err(CheckpointError::BadLength {
            stated: header.length,
            computed: usize::try_from(computed).unwrap_or(usize::MAX),
        });
    }
    if bytes.len() < header.length {
        return Err(CheckpointError::Truncated {
            needed: header.length,
            available: bytes.len(),
        });
    }
    let body = header.length - CRC_LEN;
    let stored = Reader::new(&bytes[body..]).u32();
    let computed = crc::crc32(&bytes[..body]);
    if stored != computed {
        return Err(CheckpointError::Crc { stored, computed });
    }
    Ok(header)
}

/// `true` if sequence number `a` is newer than `b`, with wrap-around (`0` is newer than `u32::MAX`).
pub const fn is_newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The newest valid checkpoint of two slots: its index (0 or 1) and header; `None` if neither slot
/// holds a valid checkpoint. See the [module documentation](self).
pub fn newest(slots: [&[u8]; 2]) -> Option<(usize, Header)> {
    match (verify(slots[0]).ok(), verify(slots[1]).ok()) {
        (Some(a), Some(b)) if is_newer(b.sequence, a.sequence) => Some((1, b)),
        (Some(a), _) => Some((0, a)),
        (None, Some(b)) => Some((1, b)),
        (None, None) => None,
    }
}

/// The slot to write next and its sequence number, given [`newest`]'s answer: the other slot, one
/// more than the newest sequence (slot 0, sequence 0 when there is none).
pub fn next_slot(newest: Option<(usize, Header)>) -> (usize, u32) {
    match newest {
        Some((slot, header)) => (1 - slot.min(1), header.sequence.wrapping_add(1)),
        None => (0, 0),
    }
}

impl<const C: usize, S: crate::train::Settings> Trainer<'_, C, S> {
    /// Bytes of this trainer's checkpoint with a training order of `order` rows and `extra` floats
    /// (and its last-good snapshot, when it holds a valid one, and its plateau state).
    pub fn checkpoint_len(&self, order: usize, extra: usize) -> usize {
        let params = self.net.model_len();
        let snapshot = if self.last_good_snapshot().is_some() {
            params
        } else {
            0
        };
        checkpoint_len(params, self.net.state().len(), order, extra)
            + 4 * (snapshot + self.plateau_words())
    }

    /// Words of plateau state this trainer's checkpoints hold.
    fn plateau_words(&self) -> usize {
        match self.config.schedule {
            Schedule::Plateau(_) => PLATEAU_WORDS,
            _ => 0,
        }
    }

    /// Writes a checkpoint (see the [module documentation](self)) into `out` and returns its length.
    /// Call it between epochs, with the training order [`Trainer::run_epoch`] shuffles in place.
    pub fn save_checkpoint<I: RowIndex>(
        &self,
        sequence: u32,
        order: &[I],
        extra: &[f32],
        out: &mut [u8],
    ) -> Result<usize, CheckpointError> {
        let length = self.checkpoint_len(order.len(), extra.len());
        if out.len() < length || u32::try_from(length).is_err() {
            return Err(CheckpointError::BufferTooSmall {
                needed: length,
                available: out.len(),
            });
        }
        let stats = self.divergence_stats();
        let (beta1_power, beta2_power) = self.optimizer.beta_powers();
        let (shuffle_state, shuffle_inc) = self.shuffle_rng.to_parts();
        let (dropout_state, dropout_inc) = self.net.dropout_rng().to_parts();
        let ([params, norm_stats], state) = (self.net.model(), self.net.state());
        let snapshot = self.last_good_snapshot();
        let fixed = Fixed {
            magic: MAGIC,
            version: VERSION,
            flags: [
                (self.stopped, FLAG_STOPPED),
                (snapshot.is_some(), FLAG_LAST_GOOD),
                (self.last_epoch_diverged(), FLAG_LAST_EPOCH_DIVERGED),
                (self.plateau_words() > 0, FLAG_PLATEAU),
            ]
            .iter()
            .filter(|(set, _)| *set)
            .fold(0, |flags, (_, flag)| flags | flag),
            length: length as u32,
            sequence,
            epoch: self.epoch,
            steps: self.optimizer.steps(),
            beta_powers: [beta1_power, beta2_power],
            lr_scale: self.lr_scale,
            divergence: [
                stats.bad_inputs,
                stats.bad_losses,
                stats.skipped_steps,
                stats.restores,
                self.first_divergence,
            ],
            rngs: [shuffle_state, shuffle_inc, dropout_state, dropout_inc],
            sections: [
                params.len() + norm_stats.len(),
                state.len(),
                order.len(),
                extra.len(),
            ]
            .map(|n| n as u32),
        };
        let mut w = Writer {
            out: &mut out[..length],
            at: 0,
        };
        fixed.write(&mut w);
        debug_assert_eq!(w.at, HEADER_LEN);
        w.f32s(params);
        w.f32s(norm_stats);
        w.f32s(state);
        w.rows(order);
        w.f32s(extra);
        w.f32s(snapshot.unwrap_or(&[]));
        if self.plateau_words() > 0 {
            w.u32s(&self.plateau.to_words());
        }
        let body = w.at;
        let crc = crc::crc32(&out[..body]);
        Writer { out, at: body }.u32(crc);
        Ok(length)
    }

    /// Restores a checkpoint written by [`Trainer::save_checkpoint`] for the same network, optimiser
    /// and data: the trainer, the training `order` and the `extra` floats. Everything is checked
    /// first; on an error nothing has changed.
    pub fn load_checkpoint<I: RowIndex>(
        &mut self,
        bytes: &[u8],
        order: &mut [I],
        extra: &mut [f32],
    ) -> Result<Header, CheckpointError> {
        let header = verify(bytes)?;
        for (section, found, expected) in [
            ("parameters", header.params, self.net.model_len()),
            ("optimizer state", header.state, self.net.state().len()),
            ("order", header.order, order.len()),
            ("extra", header.extra, extra.len()),
            // A snapshot needs this trainer's buffer for it (`keep_last_good`, `params` long).
            (
                "last-good snapshot",
                header.last_good,
                if header.last_good > 0 {
                    self.last_good_capacity()
                } else {
                    0
                },
            ),
            // A plateau state belongs to a run with that schedule, and such a run needs one.
            ("plateau state", header.plateau, self.plateau_words()),
        ] {
            if found != expected {
                return Err(CheckpointError::Mismatch {
                    section,
                    found,
                    expected,
                });
            }
        }
        let mut r = Reader::new(bytes);
        let fixed = Fixed::read(&mut r);
        let [bad_inputs, bad_losses, skipped_steps, restores, first_divergence] = fixed.divergence;
        let [shuffle_state, shuffle_inc, dropout_state, dropout_inc] = fixed.rngs;
        self.stopped = fixed.flags & FLAG_STOPPED != 0;
        self.epoch = fixed.epoch;
        self.optimizer = Optimizer::resume(
            self.optimizer.kind(),
            fixed.steps,
            (fixed.beta_powers[0], fixed.beta_powers[1]),
        );
        self.lr_scale = fixed.lr_scale;
        self.restore_divergence_state(
            DivergenceStats {
                bad_inputs,
                bad_losses,
                skipped_steps,
                restores,
            },
            first_divergence,
        );
        self.shuffle_rng = Pcg32::from_parts(shuffle_state, shuffle_inc);
        self.net
            .set_dropout_rng(Pcg32::from_parts(dropout_state, dropout_inc));
        let [params, stats] = self.net.model_mut();
        r.f32s(params);
        r.f32s(stats);
        r.f32s(self.net.state_mut());
        r.rows(order);
        r.f32s(extra);
        if header.last_good > 0 {
            self.restore_last_good(|buffer| r.f32s(buffer));
        }
        if header.plateau > 0 {
            let mut words = [0; PLATEAU_WORDS];
            r.u32s(&mut words);
            self.plateau = Plateau::from_words(words);
        }
        self.resume_after_divergence(fixed.flags & FLAG_LAST_EPOCH_DIVERGED != 0);
        self.net.zero_grad();
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SliceDataset;
    use crate::loss::Head;
    use crate::optim::plateau::ReduceLrOnPlateau;
    use crate::optim::{optimizer_state_len, OptimizerKind};
    use crate::record::EpochRecord;
    use crate::train::TrainConfig;

    crate::network! {
        /// With dropout, so that the dropout generator matters.
        net = [Layer::dense(2, 8), Layer::Activation(Activation::Tanh),
               Layer::Dropout { p: 0.25 }, Layer::dense(8, 2)]
    }

    type Memory = net::Memory<{ optimizer_state_len(OptimizerKind::ADAM, net::PARAMS) }>;

    fn new_trainer(memory: &mut Memory, seed: u64) -> Trainer<'_, 2> {
        trainer_with(memory, CONFIG, seed)
    }

    fn trainer_with(memory: &mut Memory, config: TrainConfig, seed: u64) -> Trainer<'_, 2> {
        Trainer::new(
            net::LAYERS,
            memory.buffers(),
            config,
            Head::SoftmaxCrossEntropy,
            seed,
        )
        .unwrap()
    }

    fn data() -> (Vec<f32>, Vec<u16>) {
        let mut rng = Pcg32::new(9, 0);
        let features: Vec<f32> = (0..80).map(|_| rng.symmetric(1.0)).collect();
        let labels = features
            .chunks(2)
            .map(|x| u16::from(x[0] * x[1] > 0.0))
            .collect();
        (features, labels)
    }

    const CONFIG: TrainConfig = TrainConfig {
        lr: 0.02,
        optimizer: OptimizerKind::ADAM,
        schedule: crate::optim::Schedule::Constant,
        batch_size: 3,
        shuffle: true,
        clip_norm: None,
        target_scale: (0.0, 1.0),
        divergence: crate::train::DivergencePolicy::Skip,
        freeze: 0,
    };

    fn bits(records: &[EpochRecord]) -> Vec<[u32; 4]> {
        records
            .iter()
            .map(|r| {
                [
                    r.epoch,
                    r.train_loss.to_bits(),
                    r.val_loss.unwrap_or(0.0).to_bits(),
                    r.val_acc.unwrap_or(0.0).to_bits(),
                ]
            })
            .collect()
    }

    /// Trains `epochs` epochs with `config` uninterrupted, and again with a checkpoint after `split`
    /// epochs loaded into a fresh trainer; returns both runs' records after checking that records and
    /// parameters are the same bits.
    fn resume_equals_uninterrupted(
        config: TrainConfig,
        split: usize,
        epochs: usize,
    ) -> Vec<EpochRecord> {
        let (features, labels) = data();
        let data = SliceDataset::classification(&features, 2, &labels);
        let val: Vec<u32> = (30..40).collect();

        let mut memory = Memory::new();
        let mut trainer = trainer_with(&mut memory, config, 4);
        let mut order: Vec<u32> = (0..30).collect();
        let full: Vec<EpochRecord> = (0..epochs)
            .map(|_| trainer.run_epoch(&data, &mut order, &val, |_| {}))
            .collect();
        let full_params = trainer.net().params().to_vec();

        let mut memory = Memory::new();
        let mut first = trainer_with(&mut memory, config, 4);
        let mut order: Vec<u32> = (0..30).collect();
        let mut records: Vec<EpochRecord> = (0..split)
            .map(|_| first.run_epoch(&data, &mut order, &val, |_| {}))
            .collect();
        let extra = [1.5f32, -2.0];
        let mut bytes = vec![0u8; first.checkpoint_len(order.len(), extra.len())];
        let n = first
            .save_checkpoint(5, &order, &extra, &mut bytes)
            .unwrap();
        assert_eq!(n, bytes.len());

        let mut memory = Memory::new();
        let mut resumed = trainer_with(&mut memory, config, 4);
        let mut order: Vec<u32> = (0..30).collect();
        let mut extra_back = [0.0f32; 2];
        let header = resumed
            .load_checkpoint(&bytes, &mut order, &mut extra_back)
            .unwrap();
        assert_eq!((header.epoch, header.sequence), (split as u32, 5));
        assert_eq!(extra_back, extra);
        assert_eq!(resumed.epoch(), split as u32);
        records.extend((split..epochs).map(|_| resumed.run_epoch(&data, &mut order, &val, |_| {})));
        assert_eq!(bits(&records), bits(&full));
        let lrs = |r: &[EpochRecord]| r.iter().map(|r| r.lr.to_bits()).collect::<Vec<_>>();
        assert_eq!(lrs(&records), lrs(&full));
        let to_bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(to_bits(resumed.net().params()), to_bits(&full_params));
        full
    }

    #[test]
    fn resuming_from_a_checkpoint_is_bit_identical() {
        resume_equals_uninterrupted(CONFIG, 3, 7);
    }

    /// ReduceLROnPlateau's rate, best, wait and cooldown travel in the checkpoint: a run cut between
    /// two reductions goes on to reduce at the same epochs as the uninterrupted one.
    #[test]
    fn resuming_keeps_reduce_lr_on_plateaus_state() {
        let config = TrainConfig {
            schedule: crate::optim::Schedule::Plateau(ReduceLrOnPlateau {
                patience: 2,
                factor: 0.5,
                min_delta: 0.05,
                cooldown: 1,
                ..ReduceLrOnPlateau::DEFAULT
            }),
            ..CONFIG
        };
        let records = resume_equals_uninterrupted(config, 6, 16);
        let rates: Vec<f32> = records.iter().map(|r| r.lr).collect();
        let cut = |k: usize| rates.iter().take(k).filter(|&&lr| lr < CONFIG.lr).count();
        assert!(
            cut(6) > 0 && rates[15] < rates[6],
            "reductions before and after the checkpoint: {rates:?}"
        );
        // A plain run's checkpoint has no plateau state, and one cannot resume the other.
        let mut memory = Memory::new();
        let plain = trainer_with(&mut memory, CONFIG, 4);
        let mut bytes = vec![0u8; plain.checkpoint_len(3, 0)];
        plain
            .save_checkpoint(0, &[0u32, 1, 2], &[], &mut bytes)
            .unwrap();
        let mut memory = Memory::new();
        let mut plateau = trainer_with(&mut memory, config, 4);
        assert_eq!(
            plateau.load_checkpoint(&bytes, &mut [0u32; 3], &mut []),
            Err(CheckpointError::Mismatch {
                section: "plateau state",
                found: 0,
                expected: 4
            })
        );
    }

    fn saved() -> Vec<u8> {
        let mut memory = Memory::new();
        let trainer = new_trainer(&mut memory, 4);
        let order = [3u32, 1, 2];
        let mut bytes = vec![0u8; trainer.checkpoint_len(3, 0)];
        trainer.save_checkpoint(1, &order, &[], &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn damaged_or_truncated_checkpoints_are_rejected() {
        let good = saved();
        assert!(verify(&good).is_ok());
        // Every single-bit flip is caught.
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert!(verify(&bad).is_err(), "flip at byte {at}");
        }
        for cut in [0, 3, 50, good.len() - 1] {
            let error = verify(&good[..cut]).unwrap_err();
            assert!(
                matches!(error, CheckpointError::Truncated { .. }),
                "cut at {cut}: {error:?}"
            );
        }
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(verify(&bad), Err(CheckpointError::BadMagic));
        let mut bad = good.clone();
        bad[4] = 9;
        assert_eq!(
            verify(&bad),
            Err(CheckpointError::UnsupportedVersion { found: 9 })
        );
        let mut bad = good.clone();
        let last = bad.len() - 10;
        bad[last] ^= 1;
        assert!(matches!(verify(&bad), Err(CheckpointError::Crc { .. })));
        // A trailing erased-flash tail is fine.
        let mut slot = good.clone();
        slot.extend_from_slice(&[0xFF; 64]);
        assert!(verify(&slot).is_ok());

        // Loading into another shape changes nothing.
        let mut memory = Memory::new();
        let mut trainer = new_trainer(&mut memory, 8);
        let before = trainer.net().params().to_vec();
        let error = trainer
            .load_checkpoint(&good, &mut [0u32; 4], &mut [])
            .unwrap_err();
        assert_eq!(
            error,
            CheckpointError::Mismatch {
                section: "order",
                found: 3,
                expected: 4
            }
        );
        assert_eq!(trainer.net().params(), &before[..]);
        assert!(error.to_string().contains("order has 3 values"));
    }

    #[test]
    fn the_newest_valid_slot_wins() {
        let mut memory = Memory::new();
        let trainer = new_trainer(&mut memory, 4);
        let write = |sequence: u32| {
            let mut bytes = vec![0xFF; trainer.checkpoint_len(0, 0) + 16];
            trainer
                .save_checkpoint::<u32>(sequence, &[], &[], &mut bytes)
                .unwrap();
            bytes
        };
        let erased = vec![0xFF; 200];
        assert_eq!(newest([&erased, &erased]), None);
        assert_eq!(next_slot(None), (0, 0));
        let (a, b) = (write(7), write(8));
        assert_eq!(newest([&a, &b]).map(|(i, h)| (i, h.sequence)), Some((1, 8)));
        assert_eq!(newest([&b, &a]).map(|(i, _)| i), Some(0));
        assert_eq!(next_slot(newest([&a, &b])), (0, 9));
        // A half-written newer slot is ignored.
        let mut torn = write(9);
        torn[150] ^= 0xFF;
        assert_eq!(newest([&torn, &b]).map(|(i, _)| i), Some(1));
        // Wrap-around.
        let (old, new) = (write(u32::MAX), write(0));
        assert!(is_newer(0, u32::MAX));
        assert_eq!(newest([&old, &new]).map(|(i, _)| i), Some(1));
    }
}
