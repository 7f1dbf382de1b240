#!/usr/bin/env bash
# README's int8 accuracy table: for every bundled classification dataset, trains a run with the
# settings of README's accuracy table (host/src/accuracy.rs's presets) for each seed, quantises it
# with `tinytrain export --int8`, and prints the validation accuracy of the float and of the int8
# model as `export --int8` measures them (the run's own validation rows; the int8 ranges calibrated
# on its training rows), with the int8 model's flash for constants. A tanh row per dataset covers
# the table-lookup activations. Markdown on stdout.
#
#   scripts/int8-accuracy.sh            (seeds 1 to 5; SEEDS="1 2" for others)
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release --quiet -p tinytrain-host
bin=$PWD/target/release/tinytrain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=${SEEDS:-1 2 3 4 5}

# dataset|options (README's accuracy presets; then a tanh network)
runs=(
    "iris|--epochs 200 --hidden 64,32 --batch 16"
    "wine|--epochs 60 --batch 16"
    "breast_cancer|"
    "digits|"
    "iris|--epochs 200 --hidden 64,32 --batch 16 --activation tanh"
    "wine|--epochs 60 --batch 16 --activation tanh"
    "breast_cancer|--activation tanh"
    "digits|--activation tanh"
)

echo "| dataset | network | options | seed | float | int8 | int8 − float | same class | int8 flash (constants) |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for entry in "${runs[@]}"; do
    dataset=${entry%%|*}
    options=${entry#*|}
    tanh=$([[ $options == *tanh* ]] && echo yes || echo no)
    for seed in $seeds; do
        # The tanh rows: seed 1 only.
        if [ "$tanh" = yes ] && [ "$seed" != "${seeds%% *}" ]; then
            continue
        fi
        run="$work/$dataset-$seed-$tanh"
        # shellcheck disable=SC2086 # options are words
        "$bin" train --data "data/$dataset.csv" --seed "$seed" $options --out "$run" --quiet --no-plot
        message=$("$bin" export "$run" --int8 --format rust --out "$run/model.rs" 2>&1 >/dev/null)
        network=$(sed -n 's/^exported [^ ]* (\([^,]*\),.*/\1/p' <<<"$message")
        float=$(grep -o 'float [0-9.]*% ([0-9]*/[0-9]*)' <<<"$message" | sed 's/^float //')
        int8=$(grep -o 'int8 [0-9.]*% ([0-9]*/[0-9]*)' <<<"$message" | sed 's/^int8 //')
        agree=$(grep -o 'agree on [0-9]* of [0-9]*' <<<"$message" | sed 's/agree on //; s/ of /\//')
        flash=$(grep -o 'flash [0-9]* bytes' <<<"$message" | sed 's/flash //')
        diff=$(awk -v f="${float%%%*}" -v i="${int8%%%*}" 'BEGIN { printf "%+.2f", i - f }')
        activation=$([ "$tanh" = yes ] && echo tanh || echo ReLU)
        echo "| $dataset | $network $activation | \`${options:-defaults}\` | $seed | $float | $int8 | $diff | $agree | $flash |"
    done
done
