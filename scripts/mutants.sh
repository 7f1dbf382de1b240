#!/usr/bin/env bash
# Mutation testing of the core's maths (a measurement, not part of CI): cargo-mutants changes the
# code of core/src/layers, loss.rs, optim/, metrics/, normalize.rs, data.rs and train/ one mutant at
# a time and runs the tests; a mutant the tests still pass is "missed". Prints cargo-mutants'
# caught / missed / unviable / timeout counts; the missed mutants are listed in
# mutants.out/missed.txt (under `-o DIR` if given).
#
#   scripts/mutants.sh [--shard K/N] [--all-tests] [cargo-mutants options...]
#
# By default the tests are the core's own unit tests (built with the `serde` feature, whose code is
# in scope too), which rebuild in seconds; the doc tests are left out (each is its own crate,
# about 3 s a mutant, and the unit tests check what they show);
# --all-tests adds the integration tests of tests/ that need no QEMU (gradient checks, PyTorch
# reference values, determinism, accumulators, dropout statistics), which rebuild the host crate for
# every mutant (about a minute each). The Cortex-M4 kernels (dense_m4.rs) are left out: no host test
# can run them (the QEMU equivalence tests do). Needs cargo-mutants (cargo install cargo-mutants
# --locked). About 1,000 mutants: --shard 0/10 runs a tenth.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || { echo "error: cargo install cargo-mutants --locked" >&2; exit 2; }
tests=(--test-package tinytrain --features serde --cargo-test-arg=--lib)
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --all-tests)
            tests=(--test-package tinytrain --test-package tinytrain-tests --features serde
                   --cargo-test-arg=--test=gradient_check --cargo-test-arg=--test=reference
                   --cargo-test-arg=--test=determinism --cargo-test-arg=--test=accumulators
                   --cargo-test-arg=--test=dropout_stats --cargo-test-arg=--lib) ;;
        *) args+=("$1") ;;
    esac
    shift
done
files=(-f 'core/src/layers/*.rs' -e core/src/layers/dense_m4.rs -f core/src/loss.rs
       -f 'core/src/optim/*.rs' -f 'core/src/metrics/*.rs' -f core/src/normalize.rs
       -f core/src/data.rs -f 'core/src/train/*.rs')
cargo mutants -p tinytrain "${files[@]}" "${tests[@]}" "${args[@]}"
