//! Reference values with PyTorch's definitions: forward output, loss and every parameter gradient of
//! a 3→4→2 tanh MLP with softmax cross-entropy and of a 3→4→1 ReLU MLP with MSE (the MSE head reads
//! one output); loss and gradients of the 3→4→1 network with tanh and binary cross-entropy on a
//! logit, and with ReLU and L1 and Huber (δ = 1, on both sides of δ); three steps of SGD (momentum 0.9, with and without Nesterov, weight decay 0.01),
//! Adam (lr 0.01, without and with L2 weight decay 0.1) and AdamW (weight decay 0.1) on a fixed
//! batch of two samples (gradients summed by `backward`, averaged by `grad_scale = 0.5`), StepLR and
//! CosineAnnealingLR values, and the clip_grad_norm_ factor. One more test checks the documented
//! rule of `Head::loss_and_grad` that an out-of-range class counts as class 0 (reference: the same
//! call with class 0).
//!
//! Where the numbers come from: PyTorch is not installable here, so
//! `tests/reference/make_reference.py` implements PyTorch's documented formulas in float64 numpy,
//! starting from the float32 values of the inputs below (written inline in both files), and prints
//! the `const` block at the end of this file (regenerate with
//! `python3 tests/reference/make_reference.py` and paste). Tolerance: float32 results against the
//! float64 reference, `|actual − reference| ≤ 1e-5·|reference| + 1e-7` (relative 1e-5, with an
//! absolute floor of 1e-7 — about one float32 ulp at 1 — for values at or near zero).

use tinytrain::data::Target;
use tinytrain::optim::{clip, Optimizer};
use tinytrain::prelude::*;
use tinytrain_host::memory::VecMemory;

const REL_TOL: f64 = 1e-5;
const ABS_TOL: f64 = 1e-7;

// The inputs, exactly as in make_reference.py. `nn.Linear` layout: W is [outputs][inputs].
const W1: [f32; 12] = [
    0.3, -0.2, 0.5, -0.4, 0.1, 0.25, 0.15, 0.45, -0.35, -0.05, -0.6, 0.2,
];
const B1: [f32; 4] = [0.1, -0.05, 0.2, 0.0];
const W2: [f32; 8] = [0.4, -0.3, 0.2, 0.5, -0.25, 0.35, -0.45, 0.1];
const B2: [f32; 2] = [0.05, -0.1];
const W2_MSE: [f32; 4] = [0.4, -0.3, 0.2, 0.5];
const B2_MSE: [f32; 1] = [0.05];
const X_A: [f32; 3] = [0.5, -1.2, 0.8];
const CLASS_A: u16 = 1;
const VALUE_A: f32 = 0.7;
const X_B: [f32; 3] = [-0.3, 0.9, 1.5];
const CLASS_B: u16 = 0;
const VALUE_FAR: f32 = 2.5;

const TANH_CE: [Layer; 3] = [
    Layer::dense(3, 4),
    Layer::Activation(Activation::Tanh),
    Layer::dense(4, 2),
];
const RELU_MSE: [Layer; 3] = [
    Layer::dense(3, 4),
    Layer::Activation(Activation::Relu),
    Layer::dense(4, 1),
];

fn assert_close(what: &str, actual: &[f32], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let error = (a as f64 - e).abs();
        assert!(
            error <= REL_TOL * e.abs() + ABS_TOL,
            "{what}[{i}]: {a} vs reference {e} (error {error:.2e})"
        );
    }
}

/// The flat parameters (W1, b1, W2, b2) of the reference network.
fn reference_params(w2: &[f32], b2: &[f32]) -> Vec<f32> {
    [&W1[..], &B1, w2, b2].concat()
}

/// A network over `mem` with the reference parameters loaded (the seed's initialisation is overwritten).
fn network<'a>(layers: &'a [Layer], mem: &'a mut VecMemory) -> Mlp<'a> {
    let mut net = Mlp::new(layers, mem.buffers(), 0).unwrap();
    let params = if layers[2] == Layer::dense(4, 2) {
        reference_params(&W2, &B2)
    } else {
        reference_params(&W2_MSE, &B2_MSE)
    };
    net.params_mut().copy_from_slice(&params);
    net
}

/// Forward, loss and backward of one sample; returns the loss.
fn sample(net: &mut Mlp<'_>, head: Head, x: &[f32], target: Target) -> f32 {
    net.input_mut().copy_from_slice(x);
    net.forward();
    let (out, grad) = net.output_and_grad_mut();
    let loss = head.loss_and_grad(out, target, grad);
    net.backward();
    loss
}

/// The two-sample batch: zeroes the gradients, accumulates both samples' gradients; returns the
/// mean loss.
fn batch(net: &mut Mlp<'_>) -> f32 {
    net.zero_grad();
    let la = sample(net, Head::SoftmaxCrossEntropy, &X_A, Target::Class(CLASS_A));
    let lb = sample(net, Head::SoftmaxCrossEntropy, &X_B, Target::Class(CLASS_B));
    (la + lb) / 2.0
}

#[test]
fn tanh_softmax_cross_entropy_forward_loss_and_gradients() {
    let mut mem = VecMemory::of(&TANH_CE, OptimizerKind::SGD).unwrap();
    let mut net = network(&TANH_CE, &mut mem);
    let loss = sample(
        &mut net,
        Head::SoftmaxCrossEntropy,
        &X_A,
        Target::Class(CLASS_A),
    );
    assert_close("output", net.output(), &TANH_CE_OUTPUT);
    assert_close("loss", &[loss], &TANH_CE_LOSS);
    assert_close("gradients", net.grads(), &TANH_CE_GRADS);
}

#[test]
fn relu_mse_forward_loss_and_gradients() {
    let mut mem = VecMemory::of(&RELU_MSE, OptimizerKind::SGD).unwrap();
    let mut net = network(&RELU_MSE, &mut mem);
    let loss = sample(&mut net, Head::LinearMse, &X_A, Target::Value(VALUE_A));
    assert_close("output", net.output(), &RELU_MSE_OUTPUT);
    assert_close("loss", &[loss], &RELU_MSE_LOSS);
    assert_close("gradients", net.grads(), &RELU_MSE_GRADS);
    // Units behind a negative pre-activation get exactly zero gradient, as in PyTorch.
    let zeros = RELU_MSE_GRADS.iter().filter(|g| **g == 0.0).count();
    assert_eq!(zeros, net.grads().iter().filter(|g| **g == 0.0).count());
    assert!(zeros > 0);
}

#[test]
fn batch_mean_gradient() {
    let mut mem = VecMemory::of(&TANH_CE, OptimizerKind::SGD).unwrap();
    let mut net = network(&TANH_CE, &mut mem);
    let loss = batch(&mut net);
    assert_close("batch loss", &[loss], &BATCH_LOSS);
    let mean: Vec<f32> = net.grads().iter().map(|g| g * 0.5).collect();
    assert_close("batch gradient", &mean, &BATCH_GRADS);
}

/// Three optimiser steps on the batch; compares the parameters after every step.
fn three_steps(kind: OptimizerKind, lr: f32, expected: &[f64]) {
    let mut mem = VecMemory::of(&TANH_CE, kind).unwrap();
    let mut net = network(&TANH_CE, &mut mem);
    let mut optimizer = Optimizer::new(kind);
    for (step, expected) in expected.chunks_exact(26).enumerate() {
        batch(&mut net);
        let (params, grads, state) = net.optimizer_parts();
        optimizer.step(params, grads, state, lr, 0.5);
        assert_close(
            &format!("{kind:?} step {}", step + 1),
            net.params(),
            expected,
        );
    }
    assert_eq!(optimizer.steps(), 3);
}

/// Three steps of each optimiser against PyTorch: SGD with momentum (plain and Nesterov), Adam
/// (defaults, and with L2 weight decay) and AdamW.
#[test]
fn optimizers_three_steps() {
    let sgd = |nesterov| OptimizerKind::Sgd {
        momentum: 0.9,
        nesterov,
        weight_decay: 0.01,
    };
    let adam_l2 = OptimizerKind::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.1,
    };
    let adamw = OptimizerKind::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.1,
    };
    let cases: [(OptimizerKind, f32, &[f64]); 5] = [
        (sgd(false), 0.1, &SGD_MOMENTUM_PARAMS),
        (sgd(true), 0.1, &SGD_NESTEROV_PARAMS),
        (OptimizerKind::ADAM, 0.01, &ADAM_PARAMS),
        (adam_l2, 0.01, &ADAM_L2_PARAMS),
        (adamw, 0.01, &ADAMW_PARAMS),
    ];
    for (kind, lr, expected) in cases {
        three_steps(kind, lr, expected);
    }
}

/// The three Adam variants really differ (so the tolerance separates them).
#[test]
fn adam_variants_are_distinguishable() {
    for (a, b) in [
        (&ADAM_PARAMS, &ADAM_L2_PARAMS),
        (&ADAM_PARAMS, &ADAMW_PARAMS),
        (&ADAM_L2_PARAMS, &ADAMW_PARAMS),
    ] {
        let separated = a
            .iter()
            .zip(b.iter())
            .any(|(x, y)| (x - y).abs() > 100.0 * (REL_TOL * x.abs() + ABS_TOL));
        assert!(separated);
    }
}

/// The 3 → 4 → 1 network on sample A with the other three heads: tanh with `BCEWithLogitsLoss`
/// (class 1), ReLU with `L1Loss`, and ReLU with `HuberLoss` (δ = 1) both inside (|error| < 1) and
/// outside its quadratic region.
#[test]
fn binary_cross_entropy_l1_and_huber_losses_and_gradients() {
    let tanh = [
        RELU_MSE[0],
        Layer::Activation(Activation::Tanh),
        RELU_MSE[2],
    ];
    type Case<'a> = (&'a str, &'a [Layer], Head, Target, &'a [f64], &'a [f64]);
    let cases: [Case; 4] = [
        (
            "BCE",
            &tanh,
            Head::SigmoidBinaryCrossEntropy,
            Target::Class(CLASS_A),
            &TANH_BCE_LOSS,
            &TANH_BCE_GRADS,
        ),
        (
            "L1",
            &RELU_MSE,
            Head::LinearL1,
            Target::Value(VALUE_A),
            &RELU_L1_LOSS,
            &RELU_L1_GRADS,
        ),
        (
            "Huber, quadratic",
            &RELU_MSE,
            Head::LinearHuber,
            Target::Value(VALUE_A),
            &RELU_HUBER_NEAR_LOSS,
            &RELU_HUBER_NEAR_GRADS,
        ),
        (
            "Huber, linear",
            &RELU_MSE,
            Head::LinearHuber,
            Target::Value(VALUE_FAR),
            &RELU_HUBER_FAR_LOSS,
            &RELU_HUBER_FAR_GRADS,
        ),
    ];
    for (what, layers, head, target, expected_loss, expected_grads) in cases {
        let mut mem = VecMemory::of(layers, OptimizerKind::SGD).unwrap();
        let mut net = network(layers, &mut mem);
        net.zero_grad();
        let loss = sample(&mut net, head, &X_A, target);
        assert_close(&format!("{what} loss"), &[loss], expected_loss);
        assert_close(&format!("{what} gradients"), net.grads(), expected_grads);
    }
    // The two Huber cases really are on both sides of δ = 1 (a loss of 1/2 is |error| = 1).
    const { assert!(RELU_HUBER_NEAR_LOSS[0] < 0.5 && RELU_HUBER_FAR_LOSS[0] > 0.5) };
}

/// StepLR and CosineAnnealingLR from lr 0.1, epoch by epoch.
#[test]
fn lr_schedules() {
    let step = Schedule::Step {
        step_size: 3,
        gamma: 0.5,
    };
    let cosine = Schedule::Cosine {
        t_max: 10,
        eta_min: 0.001,
    };
    for (what, schedule, expected) in [
        ("StepLR", step, &STEP_LR[..]),
        ("CosineAnnealingLR", cosine, &COSINE_LR[..]),
    ] {
        let lrs: Vec<f32> = (0..expected.len() as u32)
            .map(|e| schedule.lr(0.1, e))
            .collect();
        assert_close(what, &lrs, expected);
    }
}

#[test]
fn clip_grad_norm_factor() {
    let mut mem = VecMemory::of(&TANH_CE, OptimizerKind::SGD).unwrap();
    let mut net = network(&TANH_CE, &mut mem);
    batch(&mut net);
    let norm = clip::global_norm(net.grads(), 0.5);
    assert_close("global norm", &[norm], &GRAD_NORM);
    assert_close(
        "clip factor (max_norm 0.1)",
        &[clip::clip_factor(norm, 0.1)],
        &CLIP_FACTOR_0_1,
    );
    assert_eq!(clip::clip_factor(norm, 10.0) as f64, CLIP_FACTOR_10[0]);
}

/// `Head::loss_and_grad` documents: "A class target out of range for the head counts as class 0".
/// Reference: the same call with class 0 (PyTorch itself rejects such a target). Core bug: the
/// softmax head instead subtracts no target logit at all (loss = log-sum-exp, gradient = softmax).
#[test]
fn out_of_range_class_counts_as_class_zero() {
    let out = [1.0f32, 2.0, 3.0];
    let (mut expected_grad, mut grad) = ([0.0f32; 3], [0.0f32; 3]);
    let expected =
        Head::SoftmaxCrossEntropy.loss_and_grad(&out, Target::Class(0), &mut expected_grad);
    // F.cross_entropy(tensor([[1., 2., 3.]]), tensor([0])) = 2.4076059644
    assert!((expected - 2.407_606).abs() < 1e-6);
    let loss = Head::SoftmaxCrossEntropy.loss_and_grad(&out, Target::Class(3), &mut grad);
    assert_eq!(
        (loss, grad),
        (expected, expected_grad),
        "class 3 of 3 outputs should count as class 0"
    );
    // The binary head already follows the rule: class 2 is "not class 1", i.e. class 0.
    let (mut g0, mut g2) = ([0.0f32], [0.0f32]);
    let l0 = Head::SigmoidBinaryCrossEntropy.loss_and_grad(&[0.4], Target::Class(0), &mut g0);
    let l2 = Head::SigmoidBinaryCrossEntropy.loss_and_grad(&[0.4], Target::Class(2), &mut g2);
    assert_eq!((l2, g2), (l0, g0));
}

// Generated by tests/reference/make_reference.py; do not edit by hand.
#[rustfmt::skip]
const TANH_CE_OUTPUT: [f64; 2] = [0.6325554308557053, -0.04387100045038207];
#[rustfmt::skip]
const TANH_CE_LOSS: [f64; 1] = [1.0874962447988077];
#[rustfmt::skip]
const TANH_CE_GRADS: [f64; 26] = [0.10641765707053535, -0.2554023871180635, 0.17026825385005123, -0.2093470735781751, 0.5024329965525131, -0.33495532271630335, 0.162286858247571, -0.38948847527105124, 0.2596589770653338, 0.06878915082334446, -0.16509396853627134, 0.11006264295741229, 0.2128353141410707, -0.4186941471563502, 0.324573716495142, 0.1375783016466889, 0.4716118300858704, -0.1116266443272518, -0.3293246791369401, 0.4598637630833799, -0.4716118300858705, 0.11162664432725182, 0.32932467913694013, -0.45986376308338, 0.6629406477830407, -0.6629406477830408];
#[rustfmt::skip]
const RELU_MSE_OUTPUT: [f64; 1] = [0.8335000474676497];
#[rustfmt::skip]
const RELU_MSE_LOSS: [f64; 1] = [0.017822265856754033];
#[rustfmt::skip]
const RELU_MSE_GRADS: [f64; 21] = [0.05340002455115383, -0.12816006401539237, 0.08544004055500193, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.06675002969428934, -0.1602000776320733, 0.10680004910230766, 0.10680004910230766, -0.0, 0.0, 0.13350005938857867, 0.2376301127935991, 0.0, 0.0, 0.22828511800602969, 0.26700011877715735];
#[rustfmt::skip]
const TANH_BCE_LOSS: [f64; 1] = [0.4260729908229606];
#[rustfmt::skip]
const TANH_BCE_GRADS: [f64; 21] = [-0.034271191209147164, 0.08225086217030868, -0.05483390675172434, 0.05056426228990416, -0.12135423431795382, 0.08090282086939261, -0.026131772820136977, 0.0627162572604488, -0.041810837135249176, -0.04499858243533239, 0.10799660213619697, -0.07199773296938164, -0.06854238241829433, 0.10112852457980832, -0.05226354564027395, -0.08999716487066478, -0.24680477639898415, 0.058416662254507166, 0.17234280103249436, -0.2406567562164921, -0.34693132763887613];
#[rustfmt::skip]
const RELU_L1_LOSS: [f64; 1] = [0.13350005938857867];
#[rustfmt::skip]
const RELU_L1_GRADS: [f64; 21] = [0.20000000298023224, -0.480000026226044, 0.32000000953674324, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.25, -0.6000000238418579, 0.4000000059604645, 0.4000000059604645, -0.0, 0.0, 0.5, 0.8900000265240671, 0.0, 0.0, 0.8550000616163027, 1.0];
#[rustfmt::skip]
const RELU_HUBER_NEAR_LOSS: [f64; 1] = [0.008911132928377016];
#[rustfmt::skip]
const RELU_HUBER_NEAR_GRADS: [f64; 21] = [0.026700012275576914, -0.06408003200769619, 0.042720020277500964, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.03337501484714467, -0.08010003881603665, 0.05340002455115383, 0.05340002455115383, -0.0, 0.0, 0.06675002969428934, 0.11881505639679955, 0.0, 0.0, 0.11414255900301484, 0.13350005938857867];
#[rustfmt::skip]
const RELU_HUBER_FAR_LOSS: [f64; 1] = [1.1664999525323503];
#[rustfmt::skip]
const RELU_HUBER_FAR_GRADS: [f64; 21] = [-0.20000000298023224, 0.480000026226044, -0.32000000953674324, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, -0.25, 0.6000000238418579, -0.4000000059604645, -0.4000000059604645, 0.0, -0.0, -0.5, -0.8900000265240671, -0.0, -0.0, -0.8550000616163027, -1.0];
#[rustfmt::skip]
const BATCH_LOSS: [f64; 1] = [0.864526983003868];
#[rustfmt::skip]
const BATCH_GRADS: [f64; 26] = [0.08676542957426236, -0.22837099000891847, -0.08264887160285048, -0.13979381488683218, 0.35657732559171834, 0.008123722152799412, 0.12725592981934136, -0.33308173056046275, -0.10073300578338196, 0.06141512006154899, -0.1636086128492663, -0.080071396402178, -0.005437675281382032, -0.09227948457087438, 0.008578528703538424, -0.021279327763911643, 0.11205747655187745, -0.1716368874854711, -0.1729456998154408, 0.2823226915594474, -0.11205747655187755, 0.17163688748547107, 0.17294569981544083, -0.28232269155944745, 0.09470616831905698, -0.0947061683190571];
#[rustfmt::skip]
const SGD_MOMENTUM_PARAMS: [f64; 78] = [0.29102346895158177, -0.17696290397636016, 0.507764887160285, -0.3856206244658208, 0.06424226892945417, 0.24893762778472006, 0.1371244129725699, 0.4828581611470383, -0.3395766934671578, -0.0560915127504679, -0.5830391625330894, 0.2078071426174698, 0.1004437690167642, -0.040722052287225564, 0.19894215010689817, 0.0021279327763911644, 0.3883942582993163, -0.2825363231604609, 0.21709457295879608, 0.47126773084405527, -0.23854425234481225, 0.3324863052969489, -0.46684455807253605, 0.12813227064457075, 0.0404793839124073, -0.09042938465672029, 0.2746359732767464, -0.13501172143963405, 0.5212023181722929, -0.35950734282783414, -0.0006626918672645726, 0.24650030208434312, 0.11301246437483889, 0.5444610199928803, -0.3190393055199644, -0.0666189703317752, -0.5535932522704284, 0.22137154563377323, 0.10069537225367889, -0.02428617699444526, 0.19777368534124462, 0.005885182628161583, 0.36819330993266836, -0.25242706543913507, 0.250578545958855, 0.4191210288189059, -0.2186281539894832, 0.3022820976095798, -0.49985378110089224, 0.17913957266689043, 0.02337127431963752, -0.07322632506253562, 0.2527217785953821, -0.079123082555579, 0.5378052426697756, -0.3250387896832359, -0.08627118291337597, 0.2419172171129039, 0.07957697384679388, 0.6300313530537192, -0.2882504641583022, -0.07935567661626594, -0.5176508234317281, 0.23791964157956091, 0.10001382934622594, -0.003701349346410067, 0.19799269291945015, 0.010593321802865163, 0.3434539908925812, -0.21590795508399035, 0.3001208448272888, 0.3501343959482109, -0.19429476511552624, 0.2656276772528257, -0.5487195297596515, 0.2465024849335529, 0.001368208685152604, -0.05108794937603442];
#[rustfmt::skip]
const SGD_NESTEROV_PARAMS: [f64; 78] = [0.28294458027916936, -0.15622951487287529, 0.5147532856045416, -0.37267918112064147, 0.03206030962485841, 0.24798149279096812, 0.12553637928346473, 0.5124305169082087, -0.3301957229520178, -0.06157387355533676, -0.5677743873551978, 0.21483356829098363, 0.10084315979074748, -0.032371898675176314, 0.1979900825208975, 0.004043072275143213, 0.3779490854042829, -0.2668190032760397, 0.23247968593950355, 0.44540868860370497, -0.22823407945514326, 0.3167239854286209, -0.48200467106665457, 0.1534513128835799, 0.03191082876302162, -0.08181582950666405, 0.26100305636476384, -0.10027294518792496, 0.5313393076699534, -0.33812818972635217, -0.053750907910012635, 0.24347473134717257, 0.09204758106288691, 0.5981360353357658, -0.29941066246679465, -0.07437897433170836, -0.5316481157175748, 0.23148733947855976, 0.10012873220730611, -0.011667111602137376, 0.19816827132960907, 0.008788269708133872, 0.3530935071928186, -0.23019690717364236, 0.28202904562459397, 0.3762823117180345, -0.2037844597598103, 0.2799665698746176, -0.5308774332920734, 0.22095385576521753, 0.00978280857471734, -0.05955248981634333, 0.2362128631600051, -0.03746974429630563, 0.5475927497342586, -0.3002824217993635, -0.14760921906196942, 0.2352276820767529, 0.0519730283657011, 0.7009695807372998, -0.25775639865405925, -0.08585489815616079, -0.498509836221249, 0.24656713668061575, 0.0975041758295163, 0.008322607304732457, 0.2022009144308864, 0.013292592906125264, 0.3301137973465229, -0.19655162520852548, 0.3478479570569391, 0.2999479910624149, -0.18131905626280126, 0.2461498525278608, -0.5958391675607603, 0.29523095110032804, -0.012839502230081058, -0.036758743566040336];
#[rustfmt::skip]
const ADAM_PARAMS: [f64; 78] = [0.29000001307346157, -0.1900000034181162, 0.5099999987900623, -0.39000000667580365, 0.0900000017705602, 0.24000001230961313, 0.1400000067462824, 0.45999998777884443, -0.3399999950322587, -0.059999999116794794, -0.5900000244530726, 0.21000000173134697, 0.10999998309993816, -0.040000001828722424, 0.19000001463722924, 0.009999995300605634, 0.39000000685286357, -0.2900000125035543, 0.2100000024020161, 0.4900000003542046, -0.2400000008923991, 0.33999999462216085, -0.4599999875008549, 0.11000000113591152, 0.04000000180095538, -0.09000000254601344, 0.28002514384367805, -0.18002579705686675, 0.5199516578760459, -0.3800155393784157, 0.08001518490733842, 0.23004131928838673, 0.1300019023662681, 0.4699985034042905, -0.3299907047500668, -0.06997598545726469, -0.5800233971277826, 0.21998887538701206, 0.11901487927887265, -0.030029029412736087, 0.18072840443828123, 0.020006225875854367, 0.38003696096247064, -0.2800272304872592, 0.22000501779038495, 0.48001863231337394, -0.23003695500200616, 0.33002721260586576, -0.47000500288922376, 0.11998136917674217, 0.030017971411317484, -0.08001797215637554, 0.27009226633205546, -0.1700946628331936, 0.5298223019555351, -0.3700580032557276, 0.070056648354416, 0.22010086749567914, 0.1200074158158333, 0.4799941251779371, -0.3199661118170952, -0.07990987111936311, -0.5700877983646219, 0.2299568644085187, 0.12538627762416138, -0.020111075646130093, 0.1739085234700255, 0.03001933147799832, 0.3701407113294889, -0.27010122880702114, 0.230017351408152, 0.47006972417468706, -0.22014070536902444, 0.3201012109256277, -0.4800173365069908, 0.12993027731542903, 0.02007060993742086, -0.07007061068247893];
#[rustfmt::skip]
const ADAM_L2_PARAMS: [f64; 78] = [0.2900000127773467, -0.19000000338285575, 0.509999996937108, -0.3900000065166571, 0.09000000176290986, 0.24000000301898347, 0.14000000666342283, 0.45999998773194734, -0.33999999477627596, -0.059999998972483926, -0.5900000242890678, 0.21000000131554672, 0.09000002340871766, -0.04000000177302393, 0.19000000647936144, 0.009999995300605634, 0.3900000066181105, -0.29000001241686996, 0.21000000232640545, 0.49000000030091234, -0.24000000072962085, 0.3399999945234762, -0.45999998729748953, 0.11000000112290473, 0.040000001748004936, -0.0900000024451696, 0.2800133795559278, -0.18001517577319864, 0.5198225247093134, -0.38001372874234596, 0.08001582295036239, 0.22998659546508454, 0.13000363087980046, 0.4699975157142366, -0.3299920820386432, -0.06996456456400646, -0.5800173026903389, 0.21998244543099119, 0.08007656351959877, -0.030037683258438124, 0.1801488950732054, 0.020001684371778322, 0.3800311605156011, -0.28002341500971084, 0.22000381148895495, 0.4800168229870993, -0.23003586900595963, 0.3300226729273429, -0.47000446143511954, 0.11997842553634272, 0.030029822821643837, -0.08002794915943964, 0.2700497032530725, -0.1700563872028191, 0.5292802677272999, -0.3700511774641633, 0.07005915456693891, 0.21995130447808767, 0.12001396026836254, 0.47999018354608786, -0.31997106224518623, -0.0798649175310534, -0.570064605080025, 0.22993009666292097, 0.07014790118601924, -0.020144631879128308, 0.17064686563003775, 0.03000021655535412, 0.37011858516082274, -0.2700869736939134, 0.23001280245229713, 0.4700630031805382, -0.2201372447689668, 0.32008419810390165, -0.4800150298276403, 0.1299187209506643, 0.020116182589855806, -0.07010861590676408];
#[rustfmt::skip]
const ADAMW_PARAMS: [f64; 78] = [0.28970001306154064, -0.18980000341513598, 0.5094999987900622, -0.3896000066698432, 0.08990000176907008, 0.23975001230961313, 0.13985000674032194, 0.45954998779076534, -0.33964999503821913, -0.059949999116049736, -0.5894000244292308, 0.20980000172836674, 0.10989998309844805, -0.039950001827977366, 0.189800014634249, 0.009999995300605634, 0.3896000068469031, -0.28970001249163335, 0.20980000239903587, 0.4895000003542046, -0.2397500008923991, 0.3396499946281213, -0.4595499875127758, 0.1099000011344214, 0.03995000180021033, -0.08990000254452332, 0.27943552831709256, -0.17963608816677082, 0.5189418168744898, -0.3792263598712113, 0.07982568858953032, 0.22955737424416578, 0.12971227845442207, 0.46908872781482025, -0.3293012209118639, -0.06986580978199848, -0.5788342380889643, 0.21957858321271115, 0.11878728200329296, -0.02994020572713816, 0.18033025494034557, 0.019995636917211013, 0.37924800171923123, -0.2794379859273683, 0.2195949912560027, 0.4790295323931486, -0.22954784577068174, 0.32933801808171975, -0.46909522638462886, 0.11977106909398877, 0.02992854872454726, -0.07982859946811593, 0.26922339772994, -0.16952551308698421, 0.5282928205478177, -0.36889072977965276, 0.06978841278420707, 0.21939563330265408, 0.11958864935394423, 0.4786146923631221, -0.31894774182525887, -0.07972920159560438, -0.5683204742807312, 0.22932566681059535, 0.12498595265860393, -0.019995453566458897, 0.17328629891749564, 0.029987161579726508, 0.3689743872538722, -0.26923375833484536, 0.22938714197520407, 0.46860266936255973, -0.21942393146127132, 0.3190838904570425, -0.47863787686870163, 0.1295991315230905, 0.019952801015746955, -0.06980295170857206];
#[rustfmt::skip]
const STEP_LR: [f64; 12] = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125];
#[rustfmt::skip]
const COSINE_LR: [f64; 11] = [0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505, 0.03520365877844011, 0.021404630011522586, 0.010453658778440109, 0.0034227024433899004, 0.001];
#[rustfmt::skip]
const GRAD_NORM: [f64; 1] = [0.8472181387420035];
#[rustfmt::skip]
const CLIP_FACTOR_0_1: [f64; 1] = [0.11803321646921879];
#[rustfmt::skip]
const CLIP_FACTOR_10: [f64; 1] = [1.0];
