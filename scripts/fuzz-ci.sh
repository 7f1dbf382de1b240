#!/usr/bin/env bash
# CI's short fuzzing pass: installs what cargo-fuzz needs when missing, then runs every target for
# a few seconds (scripts/fuzz.sh does the work; the full campaign is `scripts/fuzz.sh 600`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet

exec "$root/scripts/fuzz.sh" "$seconds"
