//! Iris with early stopping (up to 300 epochs, patience 10 on the validation loss, best weights
//! restored from a snapshot in the workspace), trained on the device. Run by
//! `tests/tests/early_stop_qemu.rs`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::program!(iris_es);
