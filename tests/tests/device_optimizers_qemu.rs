//! Every optimiser and schedule on the device: `tinytrain train --device qemu` (the user's command,
//! run in-process) against `tinytrain train` with the same options, every epoch bit for bit — plain
//! SGD at batch 1 (the fused path: the Cortex-M4 kernel `tinytrain_m4_sgd` where a layer's inputs are a
//! multiple of eight, the Rust loops elsewhere), SGD with momentum and with Nesterov momentum, weight
//! decay with SGD and with Adam (L2), AdamW, the step, cosine and plateau schedules, clipping, and the other
//! options the device honours (activations, dropout, batches, file order, no normalisation, `--init`
//! weights, the Huber loss on a regression).
//!
//! Both runs write a run directory; its files must be byte-identical (the device's records come from
//! its serial frames, CRC-checked, and its weights from its weights frames). The firmware is built in
//! cargo's temporary directory (the first test pays for its dependencies).
//!
//! Without `qemu-system-arm` the tests are skipped, unless `CI` is set (then they fail).

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

/// The files that must be byte-identical between `train` and `train --device`.
const SAME_FILES: [&str; 5] = [
    "metrics.jsonl",
    "metrics.csv",
    "events.jsonl",
    "weights.json",
    "init.json",
];

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
        .display()
        .to_string()
}

/// Trains `data` with `options` on the host and in QEMU; asserts that the run directories' files
/// are identical and that the device sent every epoch. Returns the device's run directory.
fn same_on_device(data: &str, options: &str, out: &Path) -> PathBuf {
    // Every test uses the same cache, in cargo's temporary directory (not the user's).
    std::env::set_var(
        "TINYTRAIN_CACHE",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("device-cache"),
    );
    let (host, device) = (out.join("host"), out.join("device"));
    let run = |dir: &Path, extra: &str| {
        common::tinytrain(&format!(
            "train --data {data} --no-plot -q --out {} {options} {extra}",
            dir.display()
        ));
    };
    run(&host, "");
    run(&device, "--device qemu --plain");
    for file in SAME_FILES {
        let read = |dir: &Path| {
            std::fs::read(dir.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
        };
        assert!(
            read(&host) == read(&device),
            "{file} differs between the host and the device ({options})"
        );
    }
    let epochs = std::fs::read_to_string(host.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .count();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("device.json")).unwrap())
            .unwrap();
    assert_eq!(json["epochs_received"], epochs, "{json}");
    assert!(epochs > 0);
    device
}

/// Plain SGD at batch 1 is fused into the backward pass. Digits (64 → 32 → 10: inputs of 64 and 32)
/// runs the M4 kernel for both layers; iris (4 → 6 → 3) runs the Rust loops on the device.
#[test]
fn device_qemu_plain_sgd_at_batch_1_on_the_fused_kernel_and_the_rust_loops() {
    require_qemu!();
    let out = tempfile::tempdir().unwrap();
    same_on_device(
        &data("digits.csv"),
        "--hidden 32 --optimizer sgd --lr 0.01 --batch 1 --epochs 3",
        &out.path().join("digits"),
    );
    same_on_device(
        &data("iris.csv"),
        "--hidden 6 --optimizer sgd --lr 0.05 --batch 1 --epochs 5",
        &out.path().join("iris"),
    );
}

/// SGD with momentum, then with Nesterov momentum, a step schedule and the Huber loss on a
/// regression (diabetes).
#[test]
fn device_qemu_sgd_momentum_and_nesterov_with_a_step_schedule() {
    require_qemu!();
    let out = tempfile::tempdir().unwrap();
    same_on_device(
        &data("iris.csv"),
        "--hidden 8 --optimizer sgd --lr 0.05 --momentum 0.9 --batch 8 --epochs 4",
        &out.path().join("momentum"),
    );
    same_on_device(
        &data("diabetes.csv"),
        "--hidden 8 --activation sigmoid --loss huber --optimizer sgd --lr 0.01 --momentum 0.9 \
         --nesterov --schedule step --step-size 2 --gamma 0.5 --epochs 5 --val-fraction 0.3 \
         --on-divergence stop",
        &out.path().join("nesterov"),
    );
}

/// Weight decay with Adam (L2, added to the gradient) and with SGD; AdamW (decoupled decay) with a
/// cosine schedule, clipping, leaky ReLU, dropout, batches of 4 and file order.
#[test]
fn device_qemu_adam_and_sgd_weight_decay_and_adamw_with_cosine_and_clipping() {
    require_qemu!();
    let out = tempfile::tempdir().unwrap();
    same_on_device(
        &data("wine.csv"),
        "--hidden 16 --optimizer adam --weight-decay 0.01 --epochs 4",
        &out.path().join("adam"),
    );
    same_on_device(
        &data("wine.csv"),
        "--hidden 16 --optimizer sgd --lr 0.05 --weight-decay 0.001 --batch 8 --epochs 4",
        &out.path().join("sgd"),
    );
    let adamw = same_on_device(
        &data("iris.csv"),
        "--hidden 10,6 --activation leaky-relu --dropout 0.1 --optimizer adamw --weight-decay 0.01 \
         --lr 0.02 --schedule cosine --clip-norm 1 --batch 4 --no-shuffle --epochs 6 --seed 5",
        &out.path().join("adamw"),
    );
    // `--init` from those weights, tanh, no normalisation.
    same_on_device(
        &data("iris.csv"),
        &format!(
            "--hidden 10,6 --activation tanh --normalize none --init {} --epochs 4 --seed 6",
            adamw.join("weights.json").display()
        ),
        &out.path().join("init"),
    );
}

/// ReduceLROnPlateau runs on the device: it reduces the rate at the same epochs as the host (its
/// `lr_reduced` events come from the device's frames), and every epoch's `lr` is the same bits.
#[test]
fn device_qemu_reduce_lr_on_plateau() {
    require_qemu!();
    let out = tempfile::tempdir().unwrap();
    let device = same_on_device(
        &data("iris.csv"),
        "--lr 0.05 --epochs 20 --schedule plateau --plateau-patience 2 --plateau-factor 0.5 \
         --cooldown 1 --seed 2",
        &out.path().join("plateau"),
    );
    let read = |file: &str| std::fs::read_to_string(device.join(file)).unwrap();
    let json = |line: &str| serde_json::from_str::<serde_json::Value>(line).unwrap();
    let reduced: Vec<u64> = read("events.jsonl")
        .lines()
        .map(json)
        .filter(|e| e["event"] == "lr_reduced")
        .map(|e| e["epoch"].as_u64().unwrap())
        .collect();
    let rates: Vec<f64> = read("metrics.jsonl")
        .lines()
        .map(|l| json(l)["lr"].as_f64().unwrap())
        .collect();
    assert!(reduced.len() >= 2, "{reduced:?}");
    // After each reported epoch the next (if any) trains with half the rate.
    for &epoch in reduced.iter().filter(|&&e| (e as usize) < rates.len()) {
        let (before, after) = (rates[epoch as usize - 1], rates[epoch as usize]);
        assert_eq!(
            after as f32,
            before as f32 * 0.5,
            "epoch {epoch}: {rates:?}"
        );
    }
}
