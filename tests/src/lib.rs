//! Integration tests live in `tests/`. Their shared helpers live elsewhere: heap-backed network
//! memory is the core's `network::VecMemory`, CSV files are read by `tinytrain_host::csv_data`, and
//! the QEMU tests share `tests/common/`.
