//! The iris experiment with a NaN in one training row's features: the core's divergence guard
//! must skip that sample every epoch (20 in all) and keep every parameter finite. Run by
//! `tests/tests/nan_qemu.rs`; its report ends with `WARN divergence skipped_samples=20 ...`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use tinytrain_experiments::NanInput;

/// A training row of iris's split (`experiments/src/run.rs` checks it on the host).
const NAN_ROW: u32 = 0;

tinytrain_firmware::program!(iris, fault = NanInput { row: NAN_ROW });
