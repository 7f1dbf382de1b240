//! # tinytrain — train small neural networks where they run
//!
//! `tinytrain` trains multi-layer perceptrons on microcontrollers (and, with exactly the same code and
//! the same bits, on a host). It never allocates: every buffer is a slice the caller owns, so a
//! firmware keeps its model in statically sized arrays and a host keeps it in `Vec`s. Sizes known at
//! compile time are checked at compile time ([`network!`]), and the training step returns no errors
//! and does not panic once a network has been built.
//!
//! The pieces, each in its own file with forward and backward side by side:
//!
//! * [`layers`] — dense (PyTorch `nn.Linear` init), activations, inverted dropout.
//! * [`spec`] — the description of a network as a list of [`spec::Layer`]s and its memory plan.
//! * [`network`](mod@network) — the MLP engine over one flat parameter and one flat gradient buffer.
//! * [`loss`] — output heads: softmax + cross-entropy, sigmoid + binary cross-entropy, linear + MSE.
//! * [`optim`] — SGD (momentum, Nesterov), Adam, AdamW, learning-rate schedules, gradient clipping.
//! * [`normalize`] — a feature standardiser fitted with streaming (Welford) statistics.
//! * [`metrics`] — fixed-size running accumulators: mean/variance, confusion matrix, regression errors.
//! * [`data`] — the [`data::Dataset`] trait, a stratified split and a shuffle.
//! * [`train`] — the epoch loop that turns all of the above into one [`record::EpochRecord`] per epoch,
//!   with a guard that keeps NaN and infinities out of the parameters.
//! * [`checkpoint`] — save and restore a run between epochs, bit-identically, CRC-checked ([`crc`]).
//! * [`diagnose`] — a streaming analyser of those records: overfitting, underfitting, plateaus, divergence.
//! * [`early_stop`] — Keras-style early stopping with a best-parameter snapshot ([`monitor`]: what it watches).
//! * [`best`] — the best epoch of a run, defined once.
//!
//! Every transcendental function comes from the `libm` crate (never from `std`), so a host and a
//! Cortex-M compute the same bits from the same seed and data.
//!
//! ```
//! use tinytrain::prelude::*;
//!
//! // XOR with a 2→8→2 network, trained by Adam on four samples.
//! tinytrain::network! {
//!     /// The XOR network.
//!     xor_net = [Layer::dense(2, 8), Layer::Activation(Activation::Tanh), Layer::dense(8, 2)]
//! }
//! let data = SliceDataset::classification(&[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], 2, &[0, 1, 1, 0]);
//! let mut mem = xor_net::Memory::<{ optimizer_state_len(OptimizerKind::ADAM, xor_net::PARAMS) }>::new();
//! let mut order = [0u32, 1, 2, 3];
//! let config = TrainConfig { lr: 0.05, batch_size: 4, optimizer: OptimizerKind::ADAM, ..TrainConfig::default() };
//! let mut trainer = Trainer::<2>::new(&xor_net::LAYERS, mem.buffers(), config, Head::SoftmaxCrossEntropy, 7).unwrap();
//! let mut last = None;
//! for _ in 0..200 {
//!     last = Some(trainer.run_epoch(&data, &mut order, &[0, 1, 2, 3], |_| {}));
//! }
//! assert_eq!(last.unwrap().val_acc, Some(1.0));
//! ```
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)] // allowed in `optim/sqrt.rs` and the dense kernels (`dense_m4.rs`, `dense_x86.rs`)

pub mod best;
pub mod checkpoint;
pub mod crc;
pub mod data;
pub mod diagnose;
pub mod early_stop;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod monitor;
pub mod names;
pub mod network;
pub mod normalize;
pub mod optim;
pub mod record;
pub mod rng;
pub mod spec;
mod sqrt;
pub mod train;

/// The names most programs need, in one `use`.
pub mod prelude {
    pub use crate::data::{Dataset, SliceDataset, Target};
    pub use crate::layers::Activation;
    pub use crate::loss::Head;
    pub use crate::network::{Buffers, Mlp, Mode};
    pub use crate::optim::{optimizer_state_len, OptimizerKind, Schedule};
    pub use crate::record::EpochRecord;
    pub use crate::spec::Layer;
    pub use crate::train::{DivergencePolicy, TrainConfig, Trainer};
}
