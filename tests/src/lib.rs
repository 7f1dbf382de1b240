//! Integration tests live in `tests/`. Their shared helpers live elsewhere: heap-backed network
//! memory is `tinytrain_host::memory::VecMemory`, CSV files are read by `tinytrain_host::csv_data`, and
//! the QEMU tests share `tests/common/`.
