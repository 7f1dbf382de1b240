//! # tinytrain-host — the `tinytrain` command line, as a library
//!
//! The host trains exactly as a microcontroller does: every forward pass, gradient, optimiser step and
//! metric comes from the `tinytrain` core crate. This crate only adds what a host has and a device has
//! not: CSV files, command-line options, run directories and progress bars.
//!
//! The modules, in the order data flows through them:
//!
//! * [`csv_data`] — reads and validates a CSV file into a [`csv_data::Table`].
//! * [`options`] — the `train` options, their defaults, and the [`options::TrainSpec`] they resolve to.
//! * [`memory`] — heap buffers for a network's memory plan.
//! * [`pipeline`] — one training run from a spec: split, normalise, build, train, observe.
//! * [`weights`] — a network's parameters as JSON (`weights.json`, `--init`).
//! * [`manifest`] — everything needed to reproduce a run (`manifest.json`).
//! * [`run_dir`] — the files a run writes.
//! * [`tensorboard`] — the TensorBoard event file a run also writes with `--tensorboard DIR`.
//! * [`progress`] — a progress bar on stderr, only when stderr is a terminal.
//! * [`qemu`] — how the firmware is started in `qemu-system-arm`.
//! * [`train_cmd`] — `tinytrain train`.
//! * [`anomaly`] — `train --task autoencoder`'s threshold on the reconstruction error.
//! * [`sweep`] — `tinytrain sweep`, a grid of `train` options × seeds run on a thread pool, each run a
//!   run directory, then the results sorted by the validation metric.
//! * [`model`] — a finished run directory loaded back: manifest and weights.
//! * [`predict`] — `tinytrain predict`, a finished run's network on new rows.
//! * [`export`] — `tinytrain export`, a finished run as a Rust module or a C header for inference.
//! * [`plot`] — `tinytrain plot`: loss and accuracy curves as PNG and SVG.
//! * [`accuracy`] — `tinytrain accuracy`, the benchmark table over the bundled datasets.
//! * [`experiment_cmd`] — `tinytrain train --experiment NAME`, a shared experiment run natively.
//! * [`decode`] — `tinytrain decode`, a device's defmt log or serial frames back into records.
//! * [`size`] — `tinytrain size`, the flash and RAM of a firmware image.
//! * [`device`] — `tinytrain train --device BOARD` and `tinytrain boards`: the run trained on a board,
//!   verified against the host bit for bit.
//! * [`ports`] — `tinytrain ports`, the serial ports a board may be on.
//! * [`monitor`] — `tinytrain monitor`, a run watched live (serial port, QEMU, probe) or replayed.
//! * [`cli`] — the command line and its dispatch.

pub mod accuracy;
pub mod anomaly;
pub mod cli;
pub mod csv_data;
pub mod decode;
pub mod device;
pub mod device_weights;
pub mod experiment_cmd;
pub mod export;
pub mod hash;
pub mod manifest;
pub mod memory;
pub mod model;
pub mod monitor;
pub mod options;
pub mod pipeline;
pub mod plot;
pub mod ports;
pub mod predict;
pub mod progress;
pub mod qemu;
pub mod run_dir;
pub mod size;
pub mod snapshot;
pub mod sweep;
pub mod targets;
pub mod tensorboard;
pub mod train_cmd;
pub mod weights;

/// Most features a dataset may have (the width of the feature standardiser's statistics).
pub const MAX_FEATURES: usize = 1024;

/// Most regression targets a run may have (`--targets`: the width of the target standardiser).
pub const MAX_TARGETS: usize = 64;

/// Most classes a classification dataset may have (the size of the metrics' confusion matrices).
pub const MAX_CLASSES: usize = 64;
