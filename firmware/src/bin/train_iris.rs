//! The tiny experiment, iris (4 → 8 → 3, Adam), trained on the device.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::program!(iris);
