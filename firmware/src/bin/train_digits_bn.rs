//! Digits with a batch norm before the hidden ReLU, Adam on mini-batches of 8 held in RAM at once:
//! BatchNorm on the device, bit for bit the host's (tests/tests/firmware_qemu.rs).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::program!(digits_bn);
