#!/usr/bin/env bash
# Fuzzes the host's parsers: every target in fuzz/fuzz_targets/ (or the ones named) for
# SECONDS_PER_TARGET seconds each (default 600), one after the other, then prints per target the
# executions, the time and the crashes. Exits non-zero if any target crashed (the input is kept in
# fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain (rustup toolchain install nightly) and cargo-fuzz
# (cargo install cargo-fuzz --locked, about a minute). The defmt target decodes with the defmt table
# of the iris firmware, which this script builds first (firmware/, thumbv7em-none-eabihf) and passes
# in TINYTRAIN_FUZZ_ELF. With qemu-system-arm it also runs that firmware once to seed the serial and
# defmt corpora with real device output. FUZZ_JOBS=N runs N targets at a time (default 1).
set -uo pipefail

seconds=${1:-600}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
jobs=${FUZZ_JOBS:-1}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "error: cargo-fuzz is missing: cargo install cargo-fuzz --locked (and a nightly toolchain)" >&2
    exit 2
fi

# The firmware, with its own toolchain and configuration (see tests/tests/firmware_qemu.rs).
elf="$root/firmware/target/thumbv7em-none-eabihf/release/train_iris"
(
    cd "$root/firmware" &&
        env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET -u RUSTFLAGS -u RUSTUP_TOOLCHAIN -u RUSTC \
            cargo build --release --bin train_iris --quiet
) || { echo "error: building the iris firmware failed" >&2; exit 2; }
export TINYTRAIN_FUZZ_ELF="$elf"

# Seed corpora: bundled data, a weights file, and (with QEMU) the firmware's real output.
mkdir -p "$fuzz"/corpus/{csv_load,serial_frames,defmt_stream,weights_json}
for csv in "$root"/data/*.csv; do
    [ "$(wc -c <"$csv")" -le 65536 ] && cp -n "$csv" "$fuzz/corpus/csv_load/"
done
printf '{"layers":[{"weight":[[0.5,-1],[2,0],[1e-45,-0.0]],"bias":[0,1,2]},{"weight":[[1,2,3],[4,5,6]],"bias":[0.25,3.4028235e38]}]}\n' \
    >"$fuzz/corpus/weights_json/seed.json"
if command -v qemu-system-arm >/dev/null && [ ! -s "$fuzz/corpus/defmt_stream/iris.defmt" ]; then
    timeout 120 qemu-system-arm -machine mps2-an386 -display none -monitor none \
        -serial "file:$fuzz/corpus/serial_frames/iris.uart" \
        -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" \
        >"$fuzz/corpus/defmt_stream/iris.defmt" 2>/dev/null ||
        echo "warning: the firmware did not run in QEMU; corpora without device output" >&2
fi

cd "$fuzz" || exit 2
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo +nightly fuzz list); fi
cargo +nightly fuzz build || { echo "error: building the fuzz targets failed" >&2; exit 2; }

logs="$fuzz/logs"
mkdir -p "$logs"
run_one() {
    local target=$1
    mkdir -p "artifacts/$target"
    local before
    before=$(failures "$target")
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 >"$logs/$target.log" 2>&1
    local status=$?
    local after
    after=$(failures "$target")
    echo "$status $((after - before))" >"$logs/$target.status"
}
# The inputs libFuzzer kept because they failed: crash-, timeout-, oom- and leak-. A slow-unit-
# artifact is not one: libFuzzer writes it, and exits 0, when an input merely ran longer than
# -report_slow_units (10 s) — on a loaded machine a stall can do that, so those are listed apart.
failures() {
    find "artifacts/$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' \
        -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

running=0
for target in "${targets[@]}"; do
    echo "fuzzing $target for $seconds s (log: fuzz/logs/$target.log)"
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

failed=0
printf '\n%-16s %14s %10s %12s %8s %s\n' target executions seconds "slowest (s)" crashes exit
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    read -r status crashes <"$logs/$target.status"
    # libFuzzer's last words: "Done N runs in S second(s)" (absent after a crash) and, with
    # -print_final_stats, "stat::number_of_executed_units: N" (always).
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    slowest=$(sed -n 's/^stat::slowest_unit_time_sec: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    if [ -z "$time" ]; then
        # After a crash: the last status line's elapsed time, e.g. "#123 ... exec/s: 45 ..." lacks it;
        # fall back to the executions over exec/s.
        rate=$(sed -n 's/.*exec\/s: *\([0-9]*\).*/\1/p' "$log" | tail -1)
        time=$([ -n "$rate" ] && [ "$rate" -gt 0 ] && [ -n "$runs" ] && echo "~$((runs / rate))" || echo "?")
    fi
    if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        [ "$crashes" -eq 0 ] && crashes="?"
    fi
    printf '%-16s %14s %10s %12s %8s %s\n' "$target" "${runs:-?}" "$time" "${slowest:-?}" "$crashes" \
        "$status"
done
slow=$(find artifacts -type f -name 'slow-unit-*' 2>/dev/null)
if [ -n "$slow" ]; then
    echo "inputs that ran longer than 10 s (not failures; rerun one with" \
        "cargo +nightly fuzz run TARGET FILE to see whether it is slow or the machine was):"
    echo "$slow" | sed 's/^/  fuzz\//'
fi
if [ "$failed" -ne 0 ]; then
    echo "a target crashed or failed: see fuzz/logs/ and fuzz/artifacts/" >&2
    exit 1
fi
