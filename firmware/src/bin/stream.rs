//! The experiment `tinytrain train --device --stream` generated (`tinytrain_experiments::device`):
//! its model learns from the samples the host streams over the UART.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

tinytrain_firmware::stream_program!(device);
