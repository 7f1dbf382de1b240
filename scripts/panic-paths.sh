#!/usr/bin/env bash
# The panic paths left in the device's training step (firmware/src/bin/no_panic.rs):
#  1. builds no_panic (release, LTO) and lists, per function, the calls into core::panicking /
#     core::slice index failures found in its disassembly;
#  2. links it with --features no-panic-strict (panic handler = an undefined symbol): succeeds
#     only when no panic path is left. Exits 1 if that link fails (.ci/run runs this script).
# The listing needs arm-none-eabi-objdump or llvm-objdump (skipped without); the strict link needs
# nothing more than the firmware build. See firmware/README.md, "Panic paths".
set -euo pipefail
cd "$(dirname "$0")/../firmware"
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTFLAGS
cargo build -q --release --bin no_panic --features no-panic-check
elf=target/thumbv7em-none-eabihf/release/no_panic
objdump=$(command -v arm-none-eabi-objdump || command -v llvm-objdump || true)
if [ -n "$objdump" ]; then
  "$objdump" -d -C "$elf" | awk '
  # llvm-objdump also prints ARM mapping symbols ($t, $d) as labels: they do not start a function.
  /^[0-9a-f]+ <\$[td](\.[0-9]+)?>:$/ { next }
  /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); sub(/>:$/, "", fn); next }
  /\tbl(\.w)?\t/ && /<core::(panicking|slice::index|slice::copy_from_slice_impl|option|result)::/ {
    if (fn !~ /^core::/) { target = substr($0, index($0, "<") + 1); sub(/>.*$/, "", target); n[fn "  ->  " target]++ }
  }
  END { for (k in n) printf "%3d  %s\n", n[k], k }' | sort -k2
else
  echo "(no arm-none-eabi-objdump or llvm-objdump: panic paths not listed)"
fi
if cargo build -q --release --bin no_panic --features no-panic-strict 2>/dev/null; then
  echo "strict link: OK, the training step has no panic path"
else
  echo "strict link: FAILS, a panic path is left in the training step (listed above)" >&2
  exit 1
fi
