//! Batch normalisation against PyTorch's own `torch.nn.BatchNorm1d` (momentum 0.1, ε = 1e-5, affine,
//! running statistics), with `nn.Linear`, `nn.ReLU`, `nn.CrossEntropyLoss` and `torch.optim.Adam`:
//!
//! 1. the train-mode forward pass of `[dense(3, 4), batch_norm(4)]` on 4 samples, and the running
//!    statistics after it;
//! 2. the running statistics after each of three train-mode forward passes (batches of 4, 3 and 5
//!    samples: the unbiased variance's `B − 1` changes), then the eval-mode outputs;
//! 3. the train-mode backward pass of `[dense(3, 4), batch_norm(4), relu, dense(4, 2)]` with
//!    cross-entropy on a batch of 5: outputs, loss and every parameter gradient (W1, b1, γ, β, W2,
//!    b2; W1 and b1 only reach the loss through batch norm's input gradient);
//! 4. the same on batches of 2 and 3 samples;
//! 5. three Adam steps (lr 0.01, PyTorch defaults otherwise) of that network on a fixed batch of 4:
//!    parameters and running statistics after every step;
//! 6. the eval-mode backward pass (the running statistics are constants) on a batch of 5.
//!
//! Reductions: the core's `Head::loss_and_grad` writes each sample's own gradient and
//! `backward_batch` sums them over the batch, so cases 3, 4 and 6 compare `net.grads()` and the
//! summed loss with PyTorch's `CrossEntropyLoss(reduction='sum')`. Case 5 uses PyTorch's default
//! `reduction='mean'`, and the core's optimiser step scales the summed gradients by `1/B`.
//!
//! Where the numbers come from: `tests/reference/make_batchnorm_reference.py` runs those PyTorch
//! modules in float64 (`.double()`), from the float32 values of the inputs below (written inline in
//! both files), and prints the `const` block at the end of this file. PyTorch is not a dependency of
//! the project nor of CI; to regenerate, run the script by hand with any Python that has torch
//! (`python3 tests/reference/make_batchnorm_reference.py`) and paste its output over that block. The
//! script also checks that no ReLU input is within 0.1 of the kink.
//!
//! Tolerance: float32 results against the float64 reference,
//! `|actual − reference| ≤ 1e-5·|reference| + 1e-6` (relative 1e-5, with an absolute floor of
//! 1e-6 for values at or near zero — such as the gradient of b1, exactly zero in train mode since
//! batch norm subtracts the batch mean, which float32 only reaches up to rounding). Two places where
//! float32 cannot follow the float64 reference that closely are explained at their test: the W1
//! gradients of the batch of 2 (case 4, cancellation; within the tolerance), and b1 under Adam
//! (case 5: Adam amplifies b1's zero-up-to-rounding gradient; checked against bounds instead). Run
//! with `--nocapture`, every comparison prints its worst relative and absolute errors.

use tinytrain::data::Target;
use tinytrain::optim::Optimizer;
use tinytrain::prelude::*;
use tinytrain::spec::Plan;
use tinytrain_host::memory::VecMemory;

const REL_TOL: f64 = 1e-5;
const ABS_TOL: f64 = 1e-6;

// The inputs, exactly as in make_batchnorm_reference.py. `nn.Linear` layout: W is [outputs][inputs].
const W1: [f32; 12] = [
    0.3, -0.2, 0.5, -0.4, 0.1, 0.25, 0.15, 0.45, -0.35, -0.05, -0.6, 0.2,
];
const B1: [f32; 4] = [0.1, -0.05, 0.2, 0.0];
const GAMMA: [f32; 4] = [1.25, 0.75, 1.5, 0.5];
const BETA: [f32; 4] = [0.1, -0.2, 0.3, -0.05];
const W2: [f32; 8] = [0.4, -0.3, 0.2, 0.5, -0.25, 0.35, -0.45, 0.1];
const B2: [f32; 2] = [0.05, -0.1];
/// The main batch; the backward cases also use its first 2, 3 and 4 samples.
const X_TRAIN: [[f32; 3]; 5] = [
    [0.5, -1.2, 0.8],
    [-0.3, 0.9, 1.5],
    [1.1, 0.4, -0.7],
    [-0.8, -0.5, 0.2],
    [0.2, 1.3, -1.1],
];
const CLASSES: [u16; 5] = [1, 0, 1, 0, 0];
/// The second and third train-mode batches of the running-statistics case.
const X_STEP2: [[f32; 3]; 3] = [[0.9, -0.4, 0.3], [-1.0, 0.6, -0.2], [0.1, 0.2, 1.4]];
const X_STEP3: [[f32; 3]; 5] = [
    [1.5, -0.6, -0.4],
    [-0.2, -1.1, 0.9],
    [0.7, 0.8, 0.1],
    [-1.3, 0.3, -0.9],
    [0.4, -0.2, 0.6],
];
/// Running statistics loaded for the eval-mode backward case.
const RUNNING_MEAN: [f32; 4] = [-0.02, -0.3, 0.05, 0.1];
const RUNNING_VAR: [f32; 4] = [0.8, 1.3, 0.45, 0.6];
const LR: f32 = 0.01;

const BN_ONLY: [Layer; 2] = [Layer::dense(3, 4), Layer::batch_norm(4)];
const MLP: [Layer; 4] = [
    Layer::dense(3, 4),
    Layer::batch_norm(4),
    Layer::Activation(Activation::Relu),
    Layer::dense(4, 2),
];
/// Parameters of the MLP (W1, b1, γ, β, W2, b2).
const PARAMS: usize = 34;

/// Checks every value against the tolerance; prints (shown with `--nocapture`) and returns the
/// worst relative error over the reference values of magnitude at least 1e-3 (below that, the
/// absolute floor dominates and a relative error says little).
fn assert_close(what: &str, actual: &[f32], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let (mut worst_rel, mut worst_at, mut worst_abs) = (0.0f64, 0, 0.0f64);
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let error = (a as f64 - e).abs();
        assert!(
            error <= REL_TOL * e.abs() + ABS_TOL,
            "{what}[{i}]: {a} vs reference {e} (error {error:.2e}, relative {:.2e})",
            error / e.abs()
        );
        worst_abs = worst_abs.max(error);
        if e.abs() >= 1e-3 && error / e.abs() > worst_rel {
            (worst_rel, worst_at) = (error / e.abs(), i);
        }
    }
    println!(
        "{what}: worst relative error {worst_rel:.2e} (at [{worst_at}], of the values ≥ 1e-3), \
         worst absolute error {worst_abs:.2e}"
    );
    worst_rel
}

/// Memory for `batch` samples at once of `layers`, with state for `kind`.
fn memory(layers: &[Layer], batch: usize, kind: OptimizerKind) -> VecMemory {
    VecMemory::new(&Plan::of(layers).unwrap().batched(batch).unwrap(), kind)
}

/// A network over `mem` with the reference parameters loaded (the seed's initialisation is
/// overwritten; running mean 0 and variance 1, as a fresh `BatchNorm1d`).
fn network<'a>(layers: &'a [Layer], mem: &'a mut VecMemory) -> Mlp<'a> {
    let mut net = Mlp::new(layers, mem.buffers(), 0).unwrap();
    let params = if layers.len() == BN_ONLY.len() {
        [&W1[..], &B1, &GAMMA, &BETA].concat()
    } else {
        [&W1[..], &B1, &GAMMA, &BETA, &W2, &B2].concat()
    };
    net.params_mut().copy_from_slice(&params);
    let bn = net.batch_norm_layer(0).unwrap();
    assert!(bn.running_mean.iter().all(|&m| m == 0.0) && bn.running_var.iter().all(|&v| v == 1.0));
    net
}

/// Loads the samples and runs the forward pass over all of them (in the network's mode).
fn forward(net: &mut Mlp<'_>, xs: &[[f32; 3]]) {
    for (s, x) in xs.iter().enumerate() {
        net.input_mut_at(s).copy_from_slice(x);
    }
    net.forward_batch(xs.len());
}

/// Every sample's output of the last forward pass, sample after sample.
fn outputs(net: &Mlp<'_>, n: usize) -> Vec<f32> {
    (0..n).flat_map(|s| net.output_at(s).to_vec()).collect()
}

/// The first batch norm's running mean then running variance (PyTorch's buffers).
fn running(net: &Mlp<'_>) -> Vec<f32> {
    let bn = net.batch_norm_layer(0).unwrap();
    [bn.running_mean, bn.running_var].concat()
}

/// Zeroes the gradients, then forward, cross-entropy of every sample and backward of the batch;
/// returns the summed loss (the gradients are summed too).
fn forward_backward(net: &mut Mlp<'_>, xs: &[[f32; 3]], classes: &[u16]) -> f32 {
    net.zero_grad();
    forward(net, xs);
    let mut loss = 0.0;
    for (s, &class) in classes.iter().enumerate() {
        let (out, grad) = net.output_and_grad_mut_at(s);
        loss += Head::SoftmaxCrossEntropy.loss_and_grad(out, Target::Class(class), grad);
    }
    net.backward_batch();
    loss
}

/// Case 1: train-mode outputs of 4 samples (normalised with the batch's biased variance, then γ and
/// β), and the running statistics after that one batch (momentum 0.1, unbiased variance).
#[test]
fn batch_norm_train_forward_and_running_statistics() {
    let mut mem = memory(&BN_ONLY, 4, OptimizerKind::SGD);
    let mut net = network(&BN_ONLY, &mut mem);
    net.set_mode(Mode::Train);
    forward(&mut net, &X_TRAIN[..4]);
    assert_close(
        "train-mode outputs",
        &outputs(&net, 4),
        &TRAIN_FORWARD_OUTPUT,
    );
    assert_close(
        "running mean, running var",
        &running(&net),
        &TRAIN_FORWARD_RUNNING,
    );
}

/// Case 2: three train-mode batches of 4, 3 and 5 samples, the running statistics after each, then
/// the eval-mode outputs of the 5 samples of `X_TRAIN` with those statistics.
#[test]
fn batch_norm_running_statistics_over_three_batches_then_eval_forward() {
    let mut mem = memory(&BN_ONLY, 5, OptimizerKind::SGD);
    let mut net = network(&BN_ONLY, &mut mem);
    net.set_mode(Mode::Train);
    let batches: [&[[f32; 3]]; 3] = [&X_TRAIN[..4], &X_STEP2, &X_STEP3];
    for (step, (xs, expected)) in batches
        .iter()
        .zip(THREE_STEPS_RUNNING.chunks_exact(8))
        .enumerate()
    {
        forward(&mut net, xs);
        assert_close(
            &format!("running statistics after batch {}", step + 1),
            &running(&net),
            expected,
        );
    }
    let before = running(&net);
    net.set_mode(Mode::Eval);
    forward(&mut net, &X_TRAIN);
    assert_close("eval-mode outputs", &outputs(&net, 5), &EVAL_OUTPUT);
    assert_eq!(
        running(&net),
        before,
        "eval mode leaves the running statistics alone"
    );
}

/// Train-mode backward of the MLP on the first `n` samples of `X_TRAIN`: outputs, summed loss and
/// every parameter gradient against `reduction='sum'`.
fn train_backward(n: usize, output: &[f64], loss: &[f64], grads: &[f64]) -> f64 {
    let mut mem = memory(&MLP, n, OptimizerKind::SGD);
    let mut net = network(&MLP, &mut mem);
    net.set_mode(Mode::Train);
    let sum = forward_backward(&mut net, &X_TRAIN[..n], &CLASSES[..n]);
    let mut worst = assert_close(&format!("batch of {n}: outputs"), &outputs(&net, n), output);
    worst = worst.max(assert_close(
        &format!("batch of {n}: summed loss"),
        &[sum],
        loss,
    ));
    worst.max(assert_close(
        &format!("batch of {n}: gradients (W1, b1, γ, β, W2, b2)"),
        net.grads(),
        grads,
    ))
}

/// Case 3: a batch of 5 samples (odd).
#[test]
fn batch_norm_train_backward_batch_of_5() {
    train_backward(5, &TRAIN_5_OUTPUT, &TRAIN_5_LOSS, &TRAIN_5_GRADS);
}

/// Case 4: batches of 2 and 3 samples, where the batch-statistics terms of the backward pass and
/// the biased/unbiased distinction weigh the most.
///
/// Same tolerance, but for the batch of 2 the gradients of W1 (the only values that go through
/// batch norm's input gradient and do not vanish) are small and carry float32 cancellation. With two
/// samples `x̂ = ±√(σ²/(σ² + ε))` is the same whatever the inputs, up to ε, so in
/// `dx = (dy − mean dy − x̂·mean(x̂·dy))·r·γ` the last two terms cancel to a relative `ε/(σ² + ε)`:
/// those gradients are ~1e-3 to ~1e-6 (an O(1) difference that has lost about four digits), and
/// float32 gets them to a relative ~3e-4 only (absolute error ~2e-7). The absolute floor 1e-6
/// covers that; a core missing a batch-statistics term would be off by orders of magnitude more.
#[test]
fn batch_norm_train_backward_batches_of_2_and_3() {
    train_backward(2, &TRAIN_2_OUTPUT, &TRAIN_2_LOSS, &TRAIN_2_GRADS);
    train_backward(3, &TRAIN_3_OUTPUT, &TRAIN_3_LOSS, &TRAIN_3_GRADS);
}

/// Where b1 lies among the MLP's parameters.
const B1_AT: core::ops::Range<usize> = 12..16;

/// `values` without b1.
fn without_b1<T: Copy>(values: &[T]) -> Vec<T> {
    [&values[..B1_AT.start], &values[B1_AT.end..]].concat()
}

/// Case 5: three Adam steps (lr 0.01) on the first 4 samples, `torch.optim.Adam` over
/// `model.parameters()` with mean-reduction cross-entropy: every parameter and the running
/// statistics after each step (each step's forward pass moves them once).
///
/// b1 is the exception, and not by a looser tolerance: in train mode batch norm subtracts the batch
/// mean, so the loss does not depend on b1 and its gradient is exactly zero — PyTorch's float64
/// gives ~1e-17, float32 (the core, and PyTorch's own float32 modules alike) gives rounding noise
/// of ~1e-8. Adam divides by `√v̂ + ε` with ε = 1e-8, so noise of that size moves b1 by a sizeable
/// fraction of lr in a direction set by rounding (PyTorch in float32 moves b1[0] by +0.0075 in step
/// 1; the core by about +0.006), while float64 leaves it in place. So for b1 the test checks what
/// holds in float32: its gradient is zero up to rounding (`|g| ≤ 1e-6`, summed over 4 samples of
/// gradients of order 1), and each step moves it by at most Adam's bound for any gradient, `lr`
/// times `√(Σ wᵢ²/uᵢ)` (Cauchy–Schwarz with the bias-corrected weights `wᵢ` of the first moment and
/// `uᵢ` of the second; at most 1.004 over three steps), taken as 1.01·lr. b1's drift does not reach
/// the other parameters (the train-mode output does not depend on b1), but it enters the running
/// mean, as `μ` includes b1: `running_mean ← 0.9·running_mean + 0.1·μ` is linear in the b1 each
/// forward pass saw, so the reference running mean is compared after adding the core's own b1 drift
/// through that same recursion. The running variance is shift-invariant and compared as is.
#[test]
fn batch_norm_mlp_three_adam_steps() {
    let mut mem = memory(&MLP, 4, OptimizerKind::ADAM);
    let mut net = network(&MLP, &mut mem);
    net.set_mode(Mode::Train);
    let mut optimizer = Optimizer::new(OptimizerKind::ADAM);
    let mut reference_b1: Vec<f64> = B1.iter().map(|&b| b as f64).collect();
    // The running mean's share of the core's b1 drift (core − reference b1 the forward pass saw).
    let mut running_mean_drift = [0.0f64; 4];
    let steps = ADAM_PARAMS
        .chunks_exact(PARAMS)
        .zip(ADAM_RUNNING.chunks_exact(8));
    for (step, (params, stats)) in steps.enumerate() {
        let b1: Vec<f32> = net.params()[B1_AT].to_vec();
        forward_backward(&mut net, &X_TRAIN[..4], &CLASSES[..4]);
        for ((drift, &core), &reference) in
            running_mean_drift.iter_mut().zip(&b1).zip(&reference_b1)
        {
            *drift = 0.9 * *drift + 0.1 * (core as f64 - reference);
        }
        let b1_grad = &net.grads()[B1_AT];
        assert!(
            b1_grad.iter().all(|g| g.abs() <= 1e-6),
            "step {}: b1's gradient {b1_grad:?} should be zero up to rounding",
            step + 1
        );
        let (p, g, state) = net.optimizer_parts();
        optimizer.step_and_zero_grad(p, g, state, LR, 1.0 / 4.0);
        assert_close(
            &format!("Adam step {}: parameters except b1", step + 1),
            &without_b1(net.params()),
            &without_b1(params),
        );
        let moved: Vec<f32> = net.params()[B1_AT]
            .iter()
            .zip(&b1)
            .map(|(a, b)| a - b)
            .collect();
        assert!(
            moved.iter().all(|m| m.abs() <= 1.01 * LR),
            "step {}: b1 moved by {moved:?}, more than Adam's bound 1.01·lr",
            step + 1
        );
        reference_b1 = params[B1_AT].to_vec();
        let expected: Vec<f64> = stats[..4]
            .iter()
            .zip(&running_mean_drift)
            .map(|(m, d)| m + d)
            .chain(stats[4..].iter().copied())
            .collect();
        println!(
            "Adam step {}: b1 moved by {moved:?}; running-mean drift {running_mean_drift:?}",
            step + 1
        );
        assert_close(
            &format!(
                "Adam step {}: running statistics (mean with the core's b1 drift)",
                step + 1
            ),
            &running(&net),
            &expected,
        );
    }
    assert_eq!(optimizer.steps(), 3);
}

/// Case 6: eval-mode backward (`model.eval()`): batch norm is an affine map with the loaded running
/// statistics, so b1 now has a gradient; every gradient against `reduction='sum'`.
#[test]
fn batch_norm_eval_backward() {
    let mut mem = memory(&MLP, 5, OptimizerKind::SGD);
    let mut net = network(&MLP, &mut mem);
    let (mean, var) = net.batch_norm_running_mut(0).unwrap();
    mean.copy_from_slice(&RUNNING_MEAN);
    var.copy_from_slice(&RUNNING_VAR);
    net.set_mode(Mode::Eval);
    let sum = forward_backward(&mut net, &X_TRAIN, &CLASSES);
    assert_close("eval: outputs", &outputs(&net, 5), &EVAL_BACKWARD_OUTPUT);
    assert_close("eval: summed loss", &[sum], &EVAL_BACKWARD_LOSS);
    assert_close(
        "eval: gradients (W1, b1, γ, β, W2, b2)",
        net.grads(),
        &EVAL_BACKWARD_GRADS,
    );
    assert_eq!(running(&net), [&RUNNING_MEAN[..], &RUNNING_VAR].concat());
}

// Generated by tests/reference/make_batchnorm_reference.py (torch 2.15.0+cu132, float64); do not edit by hand.
#[rustfmt::skip]
const TRAIN_FORWARD_OUTPUT: [f64; 16] = [1.81560043558679, -0.49322773267301895, -1.4117444618309645, 0.6499126922944315, 0.7676473936190846, 0.7051812304695393, 0.357185205967776, -0.41287212762155767, -1.19303865486301, -1.2666689742662685, 2.6598437507109187, -0.6195247321050965, -0.9902091683824004, 0.254715464548819, -0.40528444716401435, 0.18248416445199045];
#[rustfmt::skip]
const TRAIN_FORWARD_RUNNING: [f64; 8] = [0.03825000099092723, 0.0002499998398125147, 0.0016249997876584767, 0.014375001480802936, 0.9182291670568288, 0.9259541676065575, 0.9322506251052146, 0.9344206287647971];
#[rustfmt::skip]
const THREE_STEPS_RUNNING: [f64; 24] = [0.03825000099092723, 0.0002499998398125147, 0.0016249997876584767, 0.014375001480802936, 0.9182291670568288, 0.9259541676065575, 0.9322506251052146, 0.9344206287647971, 0.0667583337234954, 0.009058333377912646, 0.009962500621005899, 0.014937500684522112, 0.8687495849630982, 0.8496195840081449, 0.8473830620676391, 0.8514960672623163, 0.08288250134356322, -0.005747500456087292, 0.022966250953786096, 0.02314375135963786, 0.818341626496561, 0.7824868758695834, 0.7877485051013258, 0.7937947132310045];
#[rustfmt::skip]
const EVAL_OUTPUT: [f64; 20] = [1.2152617718077625, -0.3392617900034241, -0.6598806436589122, 0.41683292917149223, 0.7869088100864617, 0.2584737539940432, 0.3203374004631315, -0.18925683384103492, -0.014525645694068353, -0.72503437308016, 1.596310943163551, -0.3071076214419063, 0.0683813241595075, 0.033793024855648536, -0.10217035985122051, 0.15026566140818895, -0.912685031414259, -0.4282862351188425, 2.2892236572859073, -0.6297942795574125];
#[rustfmt::skip]
const TRAIN_5_OUTPUT: [f64; 10] = [1.1033159873917744, -0.4789824728404334, 0.2090502980668184, -0.057096981558438176, 0.3592613899022729, -0.7958380982916387, 0.08797373882106953, 0.06787645915442975, 0.5495726709657276, -1.2240384629602925];
#[rustfmt::skip]
const TRAIN_5_LOSS: [f64; 1] = [4.606965196699919];
#[rustfmt::skip]
const TRAIN_5_GRADS: [f64; 34] = [0.7655353833377556, -1.5150357672531254, -1.0652898166911187, -0.09499695795172586, -0.023327375423997238, -0.14254672637307675, 0.9274988565378964, -0.4705511558401597, -0.20752276317377094, 0.27060149799497313, -0.02053454420057639, 0.00606699142709554, -2.7755575615628914e-17, -1.1102230246251565e-16, -8.326672684688674e-17, 0.0, 0.5122877785271287, 0.6579857944763089, 0.27250020707000594, 0.33982577888193105, 0.2571898015096362, 0.6037388716816057, 0.3999757411248789, 0.1338215757189843, 1.0247364578234028, -0.5734485635440135, 0.8134508384359573, 0.4080545279084004, -1.024736457823403, 0.5734485635440135, -0.8134508384359571, -0.4080545279084004, 0.5160480673941099, -0.5160480673941099];
#[rustfmt::skip]
const TRAIN_2_OUTPUT: [f64; 4] = [0.8148916966509774, -0.3924358424712002, 0.2449912218351268, -0.7174704247102388];
#[rustfmt::skip]
const TRAIN_2_LOSS: [f64; 1] = [1.7924152616652296];
#[rustfmt::skip]
const TRAIN_2_GRADS: [f64; 34] = [0.0006714435201844004, -0.001762539234230746, -0.0005875130614014355, -1.2303260716792584e-05, 3.229605926699749e-05, 1.0765352783444382e-05, 4.418843320478145e-05, -0.00011599463675101447, -3.866487781957323e-05, 3.9109181568636165e-06, -1.0266160125343731e-05, -3.4220532779858757e-06, 0.0, 0.0, 0.0, 0.0, 0.5002826334705474, 0.1796434150145003, -0.17963995967471474, 0.30792501751465917, 0.5003867397116759, 0.17965064361646743, -0.17965063949800103, 0.30793029739019756, 1.0390645544025825, -0.1520037401479511, -0.497469443001228, 0.34641498543648064, -1.0390645544025825, 0.15200374014795115, 0.4974694430012282, -0.34641498543648064, 0.49344014331396313, -0.493440143313963];
#[rustfmt::skip]
const TRAIN_3_OUTPUT: [f64; 6] = [0.9566296510388479, -0.3989670984612276, 0.0068742557048928205, 0.007742813627487161, 0.4923782227280952, -1.0953509597522677];
#[rustfmt::skip]
const TRAIN_3_LOSS: [f64; 1] = [4.052238973523226];
#[rustfmt::skip]
const TRAIN_3_GRADS: [f64; 34] = [1.463802942131855, -2.2382110632242247, -1.7734778622866534, 0.006675760214455789, 0.2363452714333267, -0.08380110219636708, 1.0798035709902702, -1.4301408463930427, -1.376083173500879, 0.034529584682355716, -0.020173330839002426, -0.05185280460298185, -1.1102230246251565e-16, 0.0, -2.220446049250313e-16, 0.0, 0.4810392998635258, 0.4235467730153774, 0.7225895115418768, 0.44453249332624273, 0.19163689046722765, 0.32514114363507507, 0.2145515001775044, 0.31801724765435585, 0.9545581668801248, -0.3886643811521565, 1.7665380549504626, 0.515913462030583, -0.9545581668801248, 0.3886643811521565, -1.7665380549504628, -0.515913462030583, 1.1251223576801832, -1.1251223576801834];
#[rustfmt::skip]
const ADAM_PARAMS: [f64; 102] = [0.29000001231684774, -0.1900000031546034, 0.5099999997374738, -0.39000000913126054, 0.09000000668598722, 0.25999999828000153, 0.14000000636434812, 0.4599999878016811, -0.33999999431931016, -0.059999999648102674, -0.5900001099195286, 0.1900000081577597, 0.10000000153868838, -0.05000000074505806, 0.2000000029698239, 1.3877787788555157e-11, 1.240000000662707, 0.7400000007969237, 1.490000000455955, 0.4900000010673179, 0.09000000290551671, -0.21000000228212162, 0.29000001322572916, -0.05999999784637488, 0.3900000062926302, -0.29000001291385413, 0.19000000316490612, 0.4900000008864958, -0.24000000033216573, 0.3399999950324607, -0.4399999882637449, 0.11000000060362032, 0.04000000123488471, -0.09000000197994278, 0.28001017962208063, -0.18001446406837213, 0.5199590326819057, -0.3799874596620914, 0.08002225125618105, 0.26999566431282224, 0.1299972940171425, 0.4699798677948058, -0.3300008339267943, -0.06997779073456548, -0.5804716433308879, 0.1800058884468433, 0.10000000154708809, -0.05000000073044986, 0.20000000294206832, 1.314737790494699e-11, 1.230046881134907, 0.7300235429230474, 1.4800272534263765, 0.4800412550200632, 0.08001180641871543, -0.2199843296040976, 0.2800075730378762, -0.06995646016905192, 0.38003520717425493, -0.2800326818469868, 0.1800163291483234, 0.48003007631017963, -0.23003520121379042, 0.3300326639655934, -0.43001631424716225, 0.11996992517993649, 0.030006044500455745, -0.08000604524551382, 0.2700416256105059, -0.17005524202511924, 0.5298450153074741, -0.36995591517159654, 0.0700734415848914, 0.27998063411378715, 0.11999163701102816, 0.4799243081303602, -0.32000377944628944, -0.07991597214569993, -0.5709652354140135, 0.17002322330510808, 0.1000000015498278, -0.05000000072379262, 0.20000000292263428, 1.268649196351216e-11, 1.2201766252257515, 0.7200855499680144, 1.470102116635575, 0.4701559086835212, 0.07004722252392497, -0.2299434581542101, 0.2700310813172319, -0.07983409559751127, 0.37013339189899325, -0.2701208345121937, 0.17006155112157734, 0.4701134305636645, -0.22013338593852874, 0.3201208166308003, -0.42006153622041614, 0.12988657092645162, 0.02002469514193124, -0.07002469588698931];
#[rustfmt::skip]
const ADAM_RUNNING: [f64; 24] = [0.03825000099092723, 0.0002499998398125147, 0.0016249997876584767, 0.014375001480802936, 0.9182291670568288, 0.9259541676065575, 0.9322506251052146, 0.9344206287647971, 0.07290000187281223, 0.001149999549746977, 0.0033124995810571026, 0.026637503899294087, 0.8449696089926381, 0.8591291769644647, 0.8708811293671898, 0.874318378367392, 0.1043084308406117, 0.0026347387073458496, 0.005056378896078868, 0.03700401361208469, 0.7794352206854938, 0.7988322151769239, 0.8153192654821504, 0.8192220841368997];
#[rustfmt::skip]
const EVAL_BACKWARD_OUTPUT: [f64; 10] = [0.8173754915958551, -0.39920429923383716, 0.3739233188048467, -0.33229733903084335, 0.4921146830433472, -1.01159003633017, 0.1476076718475047, -0.07864759474839134, 0.6242899250286932, -1.3921522776433788];
#[rustfmt::skip]
const EVAL_BACKWARD_LOSS: [f64; 1] = [4.293005316772176];
#[rustfmt::skip]
const EVAL_BACKWARD_GRADS: [f64; 34] = [1.5803753376973957, -0.6123101265929229, -0.4904494371679238, -0.19414463322186462, 0.03230370817679096, 0.24986291595438356, 1.41792354897163, -0.17858858657330753, -1.364920146995945, 0.191238975221951, -0.18174861087286198, 0.13643983743341662, 0.7407765763297717, 0.33098199627512626, 0.5380656312164214, 0.08463297527917849, 0.3521944949123782, 0.30146594275752386, 0.46050371211089147, 0.23662378438526996, 0.5300598866525515, 0.5031719771085283, 0.2406329360187867, 0.13111393672591345, 0.7588447747269405, -0.1930231676867079, 1.1737622497458369, 0.27939048918744025, -0.7588447747269405, 0.1930231676867079, -1.1737622497458364, -0.27939048918744025, 0.6979893650799901, -0.6979893650799897];
