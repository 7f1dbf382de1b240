//! # tinytrain-experiments — one definition, two machines
//!
//! An experiment (dataset, split, model, hyper-parameters, seed, epochs) is defined here once and
//! run by both the firmware and the host with the same function, [`run()`], whose epochs are
//! [`Driver::run`]'s. The datasets are embedded
//! as bytes (see [`datasets`]), so a microcontroller needs nothing but its flash, and a host run of
//! the same [`Experiment`] produces the same `f32` bits, epoch by epoch, as the device.
//!
//! * [`digits`] — the default: 64 → 32 → 10, ReLU, dropout, Adam, fits in 64 KiB of RAM.
//! * [`digits_sgd`] — the same network by plain SGD at batch 1, without gradient buffer or optimiser
//!   state: trains in the 16 KB of a Cortex-M0.
//! * [`digits_bn`] — the digits network with a batch norm before its ReLU, batches of 8.
//! * [`iris`] — tiny and quick: 4 → 8 → 3, tanh, Adam.
//! * [`iris_es`] — iris for up to 300 epochs with early stopping on the validation loss, restoring
//!   the best weights.
//!
//! ```
//! use tinytrain_experiments::{digits, NoFault};
//! // A host keeps the workspace on the heap; a firmware in a zeroed `static`.
//! let mut ws = Box::new(digits::workspace());
//! let mut experiment = digits::EXPERIMENT;
//! experiment.epochs = 1;
//! let summary = ws.run(&experiment, NoFault, &mut |r: &_| println!("{r:?}")).unwrap();
//! assert_eq!((summary.rows.train, summary.rows.validation), (1438, 359));
//! ```
#![cfg_attr(not(any(test, feature = "host")), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(test, feature = "host"))]
extern crate alloc;

pub mod cost;
pub mod datasets;
#[cfg(feature = "device")]
pub mod device;
pub mod digits;
pub mod digits_bn;
pub mod digits_sgd;
pub mod driver;
pub mod encoding;
pub mod experiment;
pub mod init;
pub mod iris;
pub mod iris_es;
pub mod run;
pub mod stream;
pub mod table;
pub mod wire;

pub use driver::{Driver, Observer};
pub use wire::bits::RecordBits;
// The wire's submodules under their former paths.
pub use experiment::Experiment;
pub use run::{run, Fault, NanInput, NoFault, Rows, RunError, Summary, Workspace};
pub use wire::{bits, frame, weights as weights_frame};

/// The default experiment ([`digits::EXPERIMENT`]).
pub const DIGITS: Experiment = digits::EXPERIMENT;
/// The tiny experiment ([`iris::EXPERIMENT`]).
pub const IRIS: Experiment = iris::EXPERIMENT;
/// Iris with early stopping ([`iris_es::EXPERIMENT`]).
pub const IRIS_ES: Experiment = iris_es::EXPERIMENT;
/// Digits by fused plain SGD ([`digits_sgd::EXPERIMENT`]).
pub const DIGITS_SGD: Experiment = digits_sgd::EXPERIMENT;
/// Digits with a batch norm ([`digits_bn::EXPERIMENT`]).
pub const DIGITS_BN: Experiment = digits_bn::EXPERIMENT;
/// Every experiment, default first.
pub const ALL: [Experiment; 5] = [DIGITS, IRIS, IRIS_ES, DIGITS_SGD, DIGITS_BN];

/// The experiment called `name`.
///
/// ```
/// assert_eq!(tinytrain_experiments::by_name("iris").map(|e| e.epochs), Some(20));
/// ```
pub fn by_name(name: &str) -> Option<Experiment> {
    ALL.into_iter().find(|e| e.name == name)
}
