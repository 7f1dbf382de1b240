//! The default experiment, handwritten digits (64 → 32 → 10, Adam), trained on the device.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::program!(digits);
