#!/usr/bin/env bash
# Training cost on every Cortex-M profile: builds firmware/src/bin/bench.rs (profile `speed`) for
# each QEMU machine and runs it with `-icount shift=0`, where SysTick counts executed instructions
# (one per nanosecond). Prints, per profile, instructions per training sample and per MAC, RAM
# against the theoretical minimum, stack high-water and the program's flash `.text`. Needs
# `qemu-system-arm` and the thumb targets (`scripts/setup`).
#
#   scripts/bench-device.sh              every profile
#   scripts/bench-device.sh mps2-an386   one (or several) of them
set -euo pipefail
cd "$(dirname "$0")/../firmware"

# QEMU machine (= the firmware's board feature) and its Rust target; README's profile table.
declare -A target=(
  [microbit]=thumbv6m-none-eabi
  [mps2-an385]=thumbv7m-none-eabi
  [mps2-an386]=thumbv7em-none-eabihf
  [mps2-an500]=thumbv7em-none-eabihf
  [mps2-an505]=thumbv8m.main-none-eabihf
  [mps3-an547]=thumbv8m.main-none-eabihf
)
machines=("$@")
[ ${#machines[@]} -gt 0 ] || machines=(microbit mps2-an385 mps2-an386 mps2-an500 mps2-an505 mps3-an547)

for machine in "${machines[@]}"; do
  triple=${target[$machine]:?unknown machine $machine (known: ${!target[*]})}
  dir=target/bench/$machine
  cargo build --profile speed --bin bench --quiet --no-default-features --features "qemu,$machine" \
    --target "$triple" --target-dir "$dir"
  timeout "${QEMU_TIMEOUT:-600}" qemu-system-arm -machine "$machine" -display none -monitor none \
    -serial null -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel "$dir/$triple/speed/bench"
  echo
done
