#!/usr/bin/env bash
# Cortex-M4F training cost: builds firmware/src/bin/bench.rs (release) and runs it in QEMU
# `mps2-an386` with `-icount shift=0`, where SysTick counts executed instructions (one per
# nanosecond). Prints instructions per training sample and per MAC, RAM against the theoretical
# minimum, stack high-water and the program's flash `.text`. Needs `qemu-system-arm`.
set -euo pipefail
cd "$(dirname "$0")/../firmware"
cargo build --profile speed --bin bench --quiet
elf=target/thumbv7em-none-eabihf/speed/bench
timeout "${QEMU_TIMEOUT:-600}" qemu-system-arm -machine mps2-an386 -display none -monitor none \
  -serial null -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf"
