//! The experiment `tinytrain train --device` generated from a user's CSV
//! (`tinytrain_experiments::device`), trained on the device.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::program!(device);
