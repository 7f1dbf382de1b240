#!/usr/bin/env bash
# Cargo runner for QEMU (see .cargo/config.toml): runs a firmware ELF in qemu-system-arm, decodes
# its defmt output on stdout, keeps the serial port's frames in a file, and exits with QEMU's status
# (the firmware's semihosting exit code: 0 on success).
#
#   ./qemu-run.sh ELF                       (what `cargo run` / `cargo qemu` call)
#
# Environment:
#   QEMU_MACHINE   mps2-an386, mps2-an385, mps2-an500, mps2-an505, mps3-an547, microbit or
#                  netduinoplus2; default: the board the ELF was built for
#   QEMU_ICOUNT    1 (default): -icount shift=0, so SysTick counts instructions deterministically
#   QEMU_TIMEOUT   seconds before QEMU is killed (default 600)
#   QEMU_OUT       directory for <bin>-<machine>.uart and .defmt (default: firmware/target/qemu)
#   QEMU_DECODER   tinytrain, defmt-print or none (default: the first one available, in that order)
#
# The defmt decoder is, in order of preference: `tinytrain decode --elf ELF` (the project's host
# tool, if built or installed), `defmt-print -e ELF` (`cargo install defmt-print --locked`). Without
# either, the raw defmt bytes stay in the .defmt file for later decoding.
set -euo pipefail

elf=${1:?usage: qemu-run.sh ELF}
here=$(cd "$(dirname "$0")" && pwd)

machine=${QEMU_MACHINE:-}
if [ -z "$machine" ]; then
    # The board name the firmware reports (`board::NAME`, in .rodata) is the QEMU machine; a build
    # holds only its own board's name.
    machine=$(grep -a -o -m1 -E 'mps2-an38[56]|mps2-an50[05]|mps3-an547|microbit|netduinoplus2' "$elf" \
        | head -1 || true)
    machine=${machine:-mps2-an386}
fi

out=${QEMU_OUT:-$here/target/qemu}
mkdir -p "$out"
name=$(basename "$elf")
uart="$out/$name-$machine.uart"
raw="$out/$name-$machine.defmt"
rm -f "$uart" "$raw"

icount=()
if [ "${QEMU_ICOUNT:-1}" = 1 ]; then
    icount=(-icount shift=0)
fi

decoder=()
tinytrain_bin=""
want=${QEMU_DECODER:-}
for candidate in "$here/../target/release/tinytrain" "$here/../target/debug/tinytrain" "$(command -v tinytrain || true)"; do
    if { [ -z "$want" ] || [ "$want" = tinytrain ]; } && [ -n "$candidate" ] && [ -x "$candidate" ] \
        && "$candidate" decode --help >/dev/null 2>&1; then
        tinytrain_bin=$candidate
        break
    fi
done
if [ -n "$tinytrain_bin" ]; then
    decoder=("$tinytrain_bin" decode --elf "$elf")
elif { [ -z "$want" ] || [ "$want" = defmt-print ]; } && command -v defmt-print >/dev/null 2>&1; then
    decoder=(defmt-print -e "$elf")
else
    [ "$want" = none ] || echo "qemu-run: no defmt decoder (cargo install defmt-print --locked)" >&2
    echo "qemu-run: raw defmt bytes in $raw" >&2
    decoder=(cat)
fi

echo "qemu-run: $name on $machine, serial frames -> $uart" >&2
start=$(date +%s.%N)
set +e
timeout "${QEMU_TIMEOUT:-600}" qemu-system-arm -machine "$machine" -display none -monitor none \
    -serial "file:$uart" -semihosting-config enable=on,target=native "${icount[@]}" -kernel "$elf" \
    | tee "$raw" | if [ "${decoder[0]}" = cat ]; then cat >/dev/null; else "${decoder[@]}"; fi
status=("${PIPESTATUS[@]}")
set -e
end=$(date +%s.%N)

frames=$(grep -c '' "$uart" 2>/dev/null || true)
printf 'qemu-run: exit %s after %.2f s; %s serial frames in %s\n' "${status[0]}" \
    "$(awk "BEGIN { print $end - $start }")" "${frames:-0}" "$uart" >&2
case ${status[0]} in
    124) echo "qemu-run: timed out after ${QEMU_TIMEOUT:-600} s" >&2 ;;
    134) echo "qemu-run: QEMU aborted: the core locked up (a stack overflow under flip-link?)" >&2 ;;
esac
if [ "${status[0]}" -eq 0 ] && [ "${status[2]}" -ne 0 ]; then
    echo "qemu-run: the defmt decoder failed" >&2
    exit "${status[2]}"
fi
exit "${status[0]}"
