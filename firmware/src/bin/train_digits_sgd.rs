//! Digits (64 → 32 → 10) by plain SGD at batch 1, without gradient buffer or optimiser state: the
//! digits run that fits the micro:bit's 16 KiB of RAM.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::program!(digits_sgd);
