//! Statistics of inverted dropout through the network API (`Mlp` with a `Layer::Dropout`), and eval
//! mode being the exact identity.
//!
//! Reference values are the definition of inverted dropout (`nn.Dropout`): each element is zeroed
//! independently with probability p and the survivors are multiplied by 1/(1 − p). Over n elements
//! the dropped fraction has standard deviation σ = √(p(1 − p)/n), and the mean change of the values
//! `mean(y − x)` has standard deviation √(p/(1 − p)·Σx²)/n; both are checked within 4σ (a false
//! failure about once in 16 000 runs — and the generator is seeded, so a run is reproducible).
//! Survivors must equal `x · (1/(1 − p))` bit for bit, the scale computed in `f32` as the layer does
//! (which is itself within 1e-6 of 1/(1 − p) in `f64`). Eval mode is compared bit for bit.

mod support;

use support::dense_stack;
use tinytrain::prelude::*;
use tinytrain_host::memory::VecMemory;

const WIDTH: usize = 1024;
const PASSES: usize = 200;

/// `[dense(2, WIDTH), Dropout { p }]` with zero weights, so the dense output is its bias: known,
/// varied, never zero.
fn pre_dropout_values() -> Vec<f32> {
    (0..WIDTH)
        .map(|j| (0.5 + (j % 17) as f32 * 0.25) * if j % 2 == 0 { 1.0 } else { -1.0 })
        .collect()
}

#[test]
fn drop_rate_scaling_and_mean_for_several_p() {
    let x = pre_dropout_values();
    assert!(x.iter().all(|&v| v != 0.0));
    for (seed, p) in [0.1f32, 0.5, 0.8].into_iter().enumerate() {
        let layers = [Layer::dense(2, WIDTH), Layer::Dropout { p }];
        let mut mem = VecMemory::of(&layers, OptimizerKind::SGD).unwrap();
        let mut net = Mlp::new(&layers, mem.buffers(), seed as u64).unwrap();
        let (weights, bias) = net.params_mut().split_at_mut(2 * WIDTH);
        weights.fill(0.0);
        bias.copy_from_slice(&x);
        net.input_mut().copy_from_slice(&[0.3, -1.7]);
        assert_eq!(net.mode(), Mode::Train);

        let scale = 1.0f32 / (1.0 - p);
        assert!((scale as f64 - 1.0 / (1.0 - p as f64)).abs() <= 1e-6 * scale as f64);
        let (mut dropped, mut shift, mut sum_x2) = (0usize, 0.0f64, 0.0f64);
        let mut previous: Vec<f32> = Vec::new();
        for pass in 0..PASSES {
            let y = net.forward().to_vec();
            for (j, (&y, &x)) in y.iter().zip(&x).enumerate() {
                if y == 0.0 {
                    dropped += 1;
                } else {
                    assert_eq!(
                        y.to_bits(),
                        (x * scale).to_bits(),
                        "p = {p}, pass {pass}, unit {j}: {y} vs {x}·{scale}"
                    );
                }
                shift += (y - x) as f64;
                sum_x2 += (x as f64) * (x as f64);
            }
            // Every forward pass draws a new mask.
            assert_ne!(
                y, previous,
                "p = {p}: pass {pass} repeated the previous mask"
            );
            previous = y;
        }
        let n = (WIDTH * PASSES) as f64;
        let p64 = p as f64;
        let rate = dropped as f64 / n;
        let sigma_rate = (p64 * (1.0 - p64) / n).sqrt();
        assert!(
            (rate - p64).abs() <= 4.0 * sigma_rate,
            "p = {p}: dropped fraction {rate}, 4σ = {}",
            4.0 * sigma_rate
        );
        let mean_shift = shift / n;
        let sigma_mean = (p64 / (1.0 - p64) * sum_x2).sqrt() / n;
        assert!(
            mean_shift.abs() <= 4.0 * sigma_mean,
            "p = {p}: mean changed by {mean_shift}, 4σ = {}",
            4.0 * sigma_mean
        );
    }
}

/// Eval mode passes the pre-dropout values through bit for bit (also after train-mode passes), and
/// `p = 0` is the identity in train mode too.
#[test]
fn eval_mode_is_the_exact_identity() {
    let act = Layer::Activation(Activation::Tanh);
    let without = [Layer::dense(5, 70), act];
    for p in [0.0f32, 0.3, 0.9] {
        let with = [Layer::dense(5, 70), act, Layer::Dropout { p }];
        let (mut m1, mut m2) = (
            VecMemory::of(&without, OptimizerKind::SGD).unwrap(),
            VecMemory::of(&with, OptimizerKind::SGD).unwrap(),
        );
        let mut reference = Mlp::new(&without, m1.buffers(), 21).unwrap();
        let mut net = Mlp::new(&with, m2.buffers(), 21).unwrap();
        assert_eq!(
            net.params(),
            reference.params(),
            "same seed, same dense layer, same init"
        );
        for k in 0..10 {
            let x: Vec<f32> = (0..5)
                .map(|i| ((i * 7 + k * 3) % 11) as f32 * 0.3 - 1.5)
                .collect();
            reference.input_mut().copy_from_slice(&x);
            let pre = reference.forward().to_vec();
            net.input_mut().copy_from_slice(&x);
            net.set_mode(Mode::Train);
            let train = net.forward().to_vec();
            net.set_mode(Mode::Eval);
            let eval = net.forward().to_vec();
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&eval), bits(&pre), "p = {p}, input {k}");
            if p == 0.0 {
                assert_eq!(bits(&train), bits(&pre), "p = 0 drops nothing");
            } else {
                assert_ne!(train, pre, "p = {p}: train mode must drop something");
            }
        }
    }
}

/// A network with dropout in eval mode computes exactly what the same network without the dropout
/// layers computes (dropout has no parameters, so the same seed gives the same weights).
#[test]
fn eval_mode_network_equals_network_without_dropout() {
    let widths = [4, 16, 8, 3];
    let with = dense_stack(&widths, Activation::Relu, &[0.5, 0.2]);
    let without = dense_stack(&widths, Activation::Relu, &[]);
    let (mut m1, mut m2) = (
        VecMemory::of(&with, OptimizerKind::SGD).unwrap(),
        VecMemory::of(&without, OptimizerKind::SGD).unwrap(),
    );
    let mut net = Mlp::new(&with, m1.buffers(), 8).unwrap();
    let mut plain = Mlp::new(&without, m2.buffers(), 8).unwrap();
    assert_eq!(net.params(), plain.params());
    let mut differs_in_train_mode = false;
    for k in 0..20 {
        let x: Vec<f32> = (0..4)
            .map(|i| ((i * 5 + k * 7) % 13) as f32 * 0.25 - 1.5)
            .collect();
        plain.input_mut().copy_from_slice(&x);
        let expected: Vec<u32> = plain.forward().iter().map(|v| v.to_bits()).collect();
        net.input_mut().copy_from_slice(&x);
        net.set_mode(Mode::Train);
        let train: Vec<u32> = net.forward().iter().map(|v| v.to_bits()).collect();
        differs_in_train_mode |= train != expected;
        net.set_mode(Mode::Eval);
        let eval: Vec<u32> = net.forward().iter().map(|v| v.to_bits()).collect();
        assert_eq!(eval, expected, "input {k}");
    }
    assert!(
        differs_in_train_mode,
        "train mode never differed: dropout inactive?"
    );
}
