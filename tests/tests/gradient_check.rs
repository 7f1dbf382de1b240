//! Whole-network gradient check through the public API: `Mlp::forward`, `Head::loss_and_grad`,
//! `Mlp::backward` against the finite differences of an independent reference.
//!
//! The reference is the network written plainly in `f64` in this file (`reference_loss`: dense
//! sums, the activations and the five heads by their PyTorch formulas, dropout as a given mask scaled
//! by `1/(1 − p)`), evaluated at the network's parameters; its loss must agree with the `f32`
//! network's to 1e-5 (relative), so both compute the same function. Its gradient is taken by
//! Richardson-extrapolated central differences in `f64` (`D(h) + (D(h) − D(2h))/3`, h = 1e-3:
//! truncation `O(h⁴)` ≈ 1e-12, round-off ≈ 1e-13), so what is left is the `f32` backward's own
//! rounding. Tolerance: `|analytic − numeric| ≤ 1e-7 + 1e-5·|numeric|` for every parameter (the
//! worst case seen uses 35 % of it), so a gradient as small as 1e-4 is checked to 0.1 %
//! (`the_tolerance_catches_a_one_percent_error` perturbs every element in turn). The check covers every activation, every head, 1 to 3 dense
//! layers, and dropout (eval mode, and train mode with the mask read off the network's own forward
//! pass). Kinks are kept out of the differences by rejecting seeds where any step (±h, ±2h on any
//! one parameter) would move a ReLU/LeakyReLU pre-activation or the L1 error across 0, or the Huber
//! |error| across 1; `at_a_kink_the_gradient_is_pytorchs` checks the values exactly at the kinks.
//! Dropout's backward is also checked bit for bit against `mask · dy / (1 − p)`.

mod support;

use support::dense_stack;
use tinytrain::data::Target;
use tinytrain::prelude::*;
use tinytrain::spec::Plan;
use tinytrain_host::memory::VecMemory;

/// The finite-difference step, in `f64` on the reference (and in `f32` for the kink test).
const H: f32 = 1e-3;
const ABS_TOL: f64 = 1e-7;
const REL_TOL: f64 = 1e-5;

const ACTIVATIONS: [Activation; 4] = [
    Activation::Relu,
    Activation::LEAKY_RELU,
    Activation::Sigmoid,
    Activation::Tanh,
];
const HEADS: [Head; 5] = [
    Head::SoftmaxCrossEntropy,
    Head::SigmoidBinaryCrossEntropy,
    Head::LinearMse,
    Head::LinearL1,
    Head::LinearHuber,
];

/// Two samples per head, so both classes of the binary head are exercised.
fn samples(head: Head) -> [([f32; 3], Target); 2] {
    match head {
        Head::SoftmaxCrossEntropy => [
            ([0.9, -0.7, 1.3], Target::Class(2)),
            ([-1.1, 0.4, 0.6], Target::Class(0)),
        ],
        Head::SigmoidBinaryCrossEntropy => [
            ([0.9, -0.7, 1.3], Target::Class(1)),
            ([-1.1, 0.4, 0.6], Target::Class(0)),
        ],
        // The regression heads (MSE, L1, Huber).
        _ => [
            ([0.9, -0.7, 1.3], Target::Value(0.8)),
            ([-1.1, 0.4, 0.6], Target::Value(-1.5)),
        ],
    }
}

fn outputs(head: Head) -> usize {
    head.outputs_for(3)
}

fn is_kinked(activation: Activation) -> bool {
    matches!(activation, Activation::Relu | Activation::LeakyRelu { .. })
}

/// Networks with 1, 2 and 3 dense layers (the 1-layer ones with and without an output activation).
fn architectures(activation: Activation, head: Head) -> Vec<Vec<Layer>> {
    let out = outputs(head);
    vec![
        vec![Layer::dense(3, out)],
        vec![Layer::dense(3, out), Layer::Activation(activation)],
        dense_stack(&[3, 5, out], activation, &[]),
        dense_stack(&[3, 5, 4, out], activation, &[]),
    ]
}

/// Loss of one sample at the network's current parameters (one forward pass).
fn loss(net: &mut Mlp<'_>, head: Head, x: &[f32], target: Target) -> f32 {
    net.input_mut().copy_from_slice(x);
    net.forward();
    let (out, grad) = net.output_and_grad_mut();
    head.loss_and_grad(out, target, grad)
}

/// Output of a fresh network of `layers` holding the first parameters of `params` (the flat layout
/// makes a prefix network's parameters a prefix), in `mode`. A fresh network from `seed` draws the
/// same first dropout masks as a network just (re)initialised from `seed`.
fn run(layers: &[Layer], params: &[f32], x: &[f32], seed: u64, mode: Mode) -> Vec<f32> {
    let mut mem = VecMemory::of(layers, OptimizerKind::SGD).unwrap();
    let mut net = Mlp::new(layers, mem.buffers(), seed).unwrap();
    let n = net.plan().params;
    net.params_mut().copy_from_slice(&params[..n]);
    net.set_mode(mode);
    net.input_mut().copy_from_slice(x);
    net.forward().to_vec()
}

/// Which side of its kink each non-smooth point is on: the sign of every ReLU/LeakyReLU
/// pre-activation (from the prefix network before it), and for the L1 head the sign of the error,
/// for the Huber head whether |error| < 1 (where its second derivative jumps).
fn kink_sides(
    layers: &[Layer],
    head: Head,
    params: &[f32],
    x: &[f32],
    target: Target,
    seed: u64,
    mode: Mode,
) -> Vec<bool> {
    let mut sides = Vec::new();
    for (k, layer) in layers.iter().enumerate() {
        if matches!(*layer, Layer::Activation(a) if is_kinked(a)) {
            sides.extend(
                run(&layers[..k], params, x, seed, mode)
                    .iter()
                    .map(|&z| z > 0.0),
            );
        }
    }
    let error = run(layers, params, x, seed, mode)[0] - target.value();
    match head {
        Head::LinearL1 => sides.push(error > 0.0),
        Head::LinearHuber => sides.push(error.abs() < 1.0),
        _ => {}
    }
    sides
}

fn within_tolerance(numeric: f64, analytic: f64) -> bool {
    (numeric - analytic).abs() <= ABS_TOL + REL_TOL * analytic.abs()
}

/// The loss of one sample of the network `layers` with parameters `params`, plainly in `f64`: the
/// reference. `masks` holds, for each dropout layer in order, which units are kept (train mode);
/// empty: eval mode, where dropout is the identity.
fn reference_loss(
    layers: &[Layer],
    params: &[f64],
    x: &[f32],
    head: Head,
    target: Target,
    masks: &[Vec<bool>],
) -> f64 {
    let mut v: Vec<f64> = x.iter().map(|&x| f64::from(x)).collect();
    let (mut offset, mut dropout) = (0, 0);
    for layer in layers {
        v = match *layer {
            Layer::Dense { inputs, outputs } => {
                let (w, b) = params[offset..].split_at(inputs * outputs);
                offset += inputs * outputs + outputs;
                (0..outputs)
                    .map(|o| b[o] + (0..inputs).map(|i| w[o * inputs + i] * v[i]).sum::<f64>())
                    .collect()
            }
            Layer::Activation(activation) => v
                .iter()
                .map(|&z| match activation {
                    Activation::Relu => {
                        if z > 0.0 {
                            z
                        } else {
                            0.0
                        }
                    }
                    Activation::LeakyRelu { slope } => {
                        if z > 0.0 {
                            z
                        } else {
                            f64::from(slope) * z
                        }
                    }
                    Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                    Activation::Tanh => z.tanh(),
                })
                .collect(),
            Layer::Dropout { p } => match masks.get(dropout) {
                Some(mask) => {
                    dropout += 1;
                    let scale = 1.0 / (1.0 - f64::from(p));
                    v.iter()
                        .zip(mask)
                        .map(|(&z, &keep)| if keep { z * scale } else { 0.0 })
                        .collect()
                }
                None => v,
            },
            Layer::BatchNorm { .. } => {
                unreachable!("batch norm normalises over a batch: batch_norm_gradient_check.rs")
            }
        };
    }
    let error = || v[0] - f64::from(target.value());
    match head {
        Head::SoftmaxCrossEntropy => {
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + v.iter().map(|z| (z - m).exp()).sum::<f64>().ln();
            lse - v[usize::from(target.class().unwrap())]
        }
        Head::SigmoidBinaryCrossEntropy => {
            let (z, y) = (v[0], f64::from(u8::from(target.class() == Some(1))));
            z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
        }
        Head::LinearMse => error() * error(),
        Head::LinearL1 => error().abs(),
        Head::LinearHuber => {
            let e = error().abs();
            if e < 1.0 {
                0.5 * e * e
            } else {
                e - 0.5
            }
        }
    }
}

/// Richardson-extrapolated central differences of `loss` at `params` (in `f64`), every parameter:
/// `D(h) + (D(h) − D(2h)) / 3`, `D(h) = (L(p+h) − L(p−h)) / 2h`.
fn numeric_gradient(params: &[f32], loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let base: Vec<f64> = params.iter().map(|&p| f64::from(p)).collect();
    let h = f64::from(H);
    (0..base.len())
        .map(|i| {
            let difference = |step: f64| {
                let mut moved = base.clone();
                moved[i] = base[i] + step;
                let plus = loss(&moved);
                moved[i] = base[i] - step;
                (plus - loss(&moved)) / (2.0 * step)
            };
            let (near, far) = (difference(h), difference(2.0 * h));
            near + (near - far) / 3.0
        })
        .collect()
}

/// The reference agrees with the `f32` network on the loss, so both compute the same function.
fn same_function(what: &str, network: f32, reference: f64) {
    assert!(
        (f64::from(network) - reference).abs() <= 1e-5 * reference.abs() + 1e-6,
        "{what}: the network's loss {network} is not the reference's {reference}"
    );
}

fn compare(what: &str, analytic: &[f32], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len());
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            within_tolerance(n, a as f64),
            "{what}: parameter {i}: analytic {a}, numeric {n}"
        );
    }
    // The check is not vacuous: the gradient is not all zeros.
    assert!(
        analytic.iter().any(|g| g.abs() > 1e-3),
        "{what}: gradient is (nearly) zero: {analytic:?}"
    );
}

/// A seed whose initial parameters lie where no single finite-difference step (±h on any one
/// parameter) moves any ReLU/LeakyReLU pre-activation or L1/Huber error across its kink, for either
/// sample: the loss is then smooth along every difference taken.
fn kink_free_seed(layers: &[Layer], head: Head, mode: Mode) -> u64 {
    (0..200u64)
        .find(|&seed| {
            let mut mem = VecMemory::of(layers, OptimizerKind::SGD).unwrap();
            let params = Mlp::new(layers, mem.buffers(), seed)
                .unwrap()
                .params()
                .to_vec();
            samples(head).iter().all(|(x, target)| {
                let base = kink_sides(layers, head, &params, x, *target, seed, mode);
                (0..params.len()).all(|i| {
                    [H, -H, 2.0 * H, -2.0 * H].iter().all(|&step| {
                        let mut moved = params.clone();
                        moved[i] += step;
                        kink_sides(layers, head, &moved, x, *target, seed, mode) == base
                    })
                })
            })
        })
        .expect("no kink-free seed in 0..200")
}

/// Gradient check of one architecture and head in eval mode, summed over both samples (which also
/// checks that `backward` accumulates).
fn check(layers: &[Layer], head: Head) {
    let seed = kink_free_seed(layers, head, Mode::Eval);
    let mut mem = VecMemory::of(layers, OptimizerKind::SGD).unwrap();
    let mut net = Mlp::new(layers, mem.buffers(), seed).unwrap();
    net.set_mode(Mode::Eval);
    let data = samples(head);
    let what = format!("{layers:?} {head:?} seed {seed}");
    net.zero_grad();
    let params: Vec<f64> = net.params().iter().map(|&p| f64::from(p)).collect();
    for (x, target) in data {
        let network = loss(&mut net, head, &x, target);
        same_function(
            &what,
            network,
            reference_loss(layers, &params, &x, head, target, &[]),
        );
        net.backward();
    }
    let analytic = net.grads().to_vec();
    let numeric = numeric_gradient(net.params(), |p| {
        data.iter()
            .map(|(x, t)| reference_loss(layers, p, x, head, *t, &[]))
            .sum()
    });
    compare(&what, &analytic, &numeric);
}

/// The network of the tests that look at single gradients: 3 → 5 → 3, tanh, softmax head.
const SMALL: [Layer; 3] = [
    Layer::dense(3, 5),
    Layer::Activation(Activation::Tanh),
    Layer::dense(5, 3),
];
const SMALL_HEAD: Head = Head::SoftmaxCrossEntropy;

#[test]
fn every_activation_head_and_depth() {
    let mut checked = 0;
    for activation in ACTIVATIONS {
        for head in HEADS {
            for layers in architectures(activation, head) {
                check(&layers, head);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 5 * 4);
}

#[test]
fn backward_accumulates_per_sample_gradients_exactly() {
    let head = SMALL_HEAD;
    let mut mem = VecMemory::of(&SMALL, OptimizerKind::SGD).unwrap();
    let mut net = Mlp::new(&SMALL, mem.buffers(), 5).unwrap();
    let [(xa, ta), (xb, tb)] = samples(head);
    let single = |net: &mut Mlp<'_>, x: &[f32], t| {
        net.zero_grad();
        loss(net, head, x, t);
        net.backward();
        net.grads().to_vec()
    };
    let (ga, gb) = (single(&mut net, &xa, ta), single(&mut net, &xb, tb));
    net.zero_grad();
    loss(&mut net, head, &xa, ta);
    net.backward();
    loss(&mut net, head, &xb, tb);
    net.backward();
    for (i, ((&sum, &a), &b)) in net.grads().iter().zip(&ga).zip(&gb).enumerate() {
        assert_eq!(
            sum.to_bits(),
            (a + b).to_bits(),
            "parameter {i}: {sum} vs {a} + {b}"
        );
    }
}

/// Three dense layers with dropout after each hidden activation (40 units: two mask words).
fn with_dropout(activation: Activation, head: Head) -> Vec<Layer> {
    dense_stack(&[3, 40, 6, outputs(head)], activation, &[0.3, 0.5])
}

/// In eval mode dropout is the identity, forward and backward.
#[test]
fn eval_mode_dropout_networks() {
    for activation in ACTIVATIONS {
        for head in HEADS {
            check(&with_dropout(activation, head), head);
        }
    }
}

/// The train-mode gradient with dropout, the mask held fixed: `Mlp::init(seed)` re-seeds the dropout
/// generator, so the first forward pass after it always draws the same masks. Every loss evaluation
/// reads the (perturbed) parameters, re-initialises, then writes them back.
#[test]
fn train_mode_dropout_with_a_fixed_mask() {
    for activation in ACTIVATIONS {
        for head in HEADS {
            let layers = with_dropout(activation, head);
            let seed = kink_free_seed(&layers, head, Mode::Train);
            let mut mem = VecMemory::of(&layers, OptimizerKind::SGD).unwrap();
            let mut net = Mlp::new(&layers, mem.buffers(), seed).unwrap();
            assert_eq!(net.mode(), Mode::Train);
            let (x, target) = samples(head)[0];
            let fixed_mask_loss = |net: &mut Mlp<'_>| {
                let params = net.params().to_vec();
                net.init(seed);
                net.params_mut().copy_from_slice(&params);
                loss(net, head, &x, target)
            };
            // The mask really is fixed between evaluations, and really drops something.
            let first = fixed_mask_loss(&mut net);
            let train_out = net.output().to_vec();
            assert_eq!(first.to_bits(), fixed_mask_loss(&mut net).to_bits());
            net.set_mode(Mode::Eval);
            loss(&mut net, head, &x, target);
            assert_ne!(net.output(), &train_out[..], "dropout changed nothing");
            net.set_mode(Mode::Train);

            let network = fixed_mask_loss(&mut net);
            net.backward();
            let analytic = net.grads().to_vec();
            // The masks, read off the network: a unit is kept where the prefix network that ends
            // with its dropout layer (same seed, so the same draws) gives a non-zero output.
            let params = net.params().to_vec();
            let masks: Vec<Vec<bool>> = (0..layers.len())
                .filter(|&k| matches!(layers[k], Layer::Dropout { .. }))
                .map(|k| {
                    let out = run(&layers[..=k], &params, &x, seed, Mode::Train);
                    out.iter().map(|&v| v != 0.0).collect()
                })
                .collect();
            assert!(masks.iter().all(|m| m.contains(&false)), "no dropped unit");
            let exact: Vec<f64> = params.iter().map(|&p| f64::from(p)).collect();
            let what = format!("train-mode dropout {activation:?} {head:?} seed {seed}");
            same_function(
                &what,
                network,
                reference_loss(&layers, &exact, &x, head, target, &masks),
            );
            let numeric = numeric_gradient(&params, |p| {
                reference_loss(&layers, p, &x, head, target, &masks)
            });
            compare(
                &format!("train-mode dropout {activation:?} {head:?} seed {seed}"),
                &analytic,
                &numeric,
            );
            // Some weights sit behind dropped units: their gradient is exactly zero.
            assert!(analytic.contains(&0.0), "no dropped unit");
        }
    }
}

/// Train-mode dropout backward is `mask · dy / (1 − p)`, with the mask read off the forward output
/// (a unit is dropped exactly when its output is 0, since no pre-dropout value is 0).
#[test]
fn dropout_backward_is_mask_times_scale_times_dy() {
    for p in [0.1f32, 0.5, 0.8] {
        let (inputs, width) = (8, 70); // 70 units: three mask words, the last one partial.
        let layers = [Layer::dense(inputs, width), Layer::Dropout { p }];
        let mut mem = VecMemory::of(&layers, OptimizerKind::SGD).unwrap();
        let mut net = Mlp::new(&layers, mem.buffers(), 11).unwrap();
        let x: Vec<f32> = (0..inputs).map(|i| 0.3 + 0.1 * i as f32).collect();
        net.set_mode(Mode::Eval);
        net.input_mut().copy_from_slice(&x);
        let pre = net.forward().to_vec();
        assert!(pre.iter().all(|&v| v != 0.0));
        net.set_mode(Mode::Train);
        net.forward();
        let scale = 1.0 / (1.0 - p);
        let dy: Vec<f32> = (0..width)
            .map(|j| if j % 2 == 0 { 0.1 } else { -0.2 } * (1.0 + j as f32 / 7.0))
            .collect();
        let (out, grad) = net.output_and_grad_mut();
        let kept: Vec<bool> = out.iter().map(|&y| y != 0.0).collect();
        grad.copy_from_slice(&dy);
        net.zero_grad();
        net.backward();
        let kept_count = kept.iter().filter(|&&k| k).count();
        assert!(
            kept_count > 0 && kept_count < width,
            "p = {p}: {kept_count} of {width} kept"
        );
        let (weight_grad, bias_grad) = net.grads().split_at(inputs * width);
        for j in 0..width {
            let expected = if kept[j] { dy[j] * scale } else { 0.0 };
            assert_eq!(bias_grad[j], expected, "p = {p}, unit {j}");
            for i in 0..inputs {
                assert_eq!(
                    weight_grad[j * inputs + i],
                    expected * x[i],
                    "p = {p}, W[{j}][{i}]"
                );
            }
        }
    }
}

/// Exactly at a kink the gradient is PyTorch's choice: ReLU passes nothing at a pre-activation of 0
/// (`grad · (x > 0)`), LeakyReLU passes `slope` there (`x > 0 ? 1 : slope`), L1 gives 0 at a zero
/// error (`sign(0) = 0`), and Huber at `|error| = δ = 1` gives `±1` (both branches agree there).
#[test]
fn at_a_kink_the_gradient_is_pytorchs() {
    let grads = |layers: &[Layer], params: &[f32], x: f32, head: Head, target: Target| {
        let mut mem = VecMemory::of(layers, OptimizerKind::SGD).unwrap();
        let mut net = Mlp::new(layers, mem.buffers(), 1).unwrap();
        net.params_mut().copy_from_slice(params);
        net.zero_grad();
        loss(&mut net, head, &[x], target);
        net.backward();
        net.grads().to_vec()
    };
    // 1 → 1 (pre-activation 0.5·1 − 0.5 = 0 exactly) → activation → 1 (weight 2): output 0,
    // MSE against 1, so ∂L/∂output = −2 and ∂L/∂(activation) = −4.
    let hidden = |activation| {
        [
            Layer::dense(1, 1),
            Layer::Activation(activation),
            Layer::dense(1, 1),
        ]
    };
    let params = [0.5, -0.5, 2.0, 0.0];
    let relu = grads(
        &hidden(Activation::Relu),
        &params,
        1.0,
        Head::LinearMse,
        Target::Value(1.0),
    );
    assert_eq!(relu, [0.0, 0.0, 0.0, -2.0]);
    let leaky = grads(
        &hidden(Activation::LEAKY_RELU),
        &params,
        1.0,
        Head::LinearMse,
        Target::Value(1.0),
    );
    assert_eq!(leaky, [-4.0 * 0.01, -4.0 * 0.01, 0.0, -2.0]);
    // One dense layer, x = 2: L1 at error 0·… 0.5·2 − 1 = 0; Huber at error 1·2 − 1 = 1 and −1.
    let line = [Layer::dense(1, 1)];
    assert_eq!(
        grads(&line, &[0.5, 0.0], 2.0, Head::LinearL1, Target::Value(1.0)),
        [0.0, 0.0]
    );
    assert_eq!(
        grads(
            &line,
            &[1.0, 0.0],
            2.0,
            Head::LinearHuber,
            Target::Value(1.0)
        ),
        [2.0, 1.0]
    );
    assert_eq!(
        grads(
            &line,
            &[1.0, 0.0],
            2.0,
            Head::LinearHuber,
            Target::Value(3.0)
        ),
        [-2.0, -1.0]
    );
}

/// The tolerance is tight enough to catch a 1 % error in every gradient element of magnitude
/// 1.2e-5 or more (there a 1 % error, 1.2e-7, exceeds the tolerance, 1.0e-7 + 1.2e-10), element by
/// element, in a typical network: so the checks above can fail on small gradients too.
#[test]
fn the_tolerance_catches_a_one_percent_error() {
    let (x, target) = samples(SMALL_HEAD)[0];
    let mut mem = VecMemory::of(&SMALL, OptimizerKind::SGD).unwrap();
    let mut net = Mlp::new(&SMALL, mem.buffers(), 1).unwrap();
    loss(&mut net, SMALL_HEAD, &x, target);
    net.backward();
    let analytic = net.grads().to_vec();
    let numeric = numeric_gradient(net.params(), |p| {
        reference_loss(&SMALL, p, &x, SMALL_HEAD, target, &[])
    });
    assert_eq!(Plan::of(&SMALL).unwrap().params, analytic.len());
    let mut perturbed = 0;
    for (i, (&a, &n)) in analytic.iter().zip(&numeric).enumerate() {
        assert!(within_tolerance(n, f64::from(a)), "parameter {i}");
        if f64::from(a).abs() >= 1.2e-5 {
            assert!(
                !within_tolerance(n, f64::from(a) * 1.01),
                "parameter {i}: {a}"
            );
            perturbed += 1;
        }
    }
    assert!(
        perturbed >= analytic.len() * 3 / 4,
        "{perturbed} of {}",
        analytic.len()
    );
}
