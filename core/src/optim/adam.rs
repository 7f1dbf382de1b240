//! Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as `torch.optim.Adam`/`AdamW`:
//!
//! ```text
//! AdamW only: p ← p·(1 − lr·λ)          Adam only: g ← g + λ·p
//! m ← β₁·m + (1 − β₁)·g
//! v ← β₂·v + (1 − β₂)·g²
//! p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
//! ```
//!
//! The square root is single precision and correctly rounded: `vsqrt.f32` on a Cortex-M4F (libm's
//! `sqrtf` is a software loop there), `libm::sqrtf` elsewhere — the same bits.

/// Hyper-parameters of one Adam step, with the bias corrections of this step.
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    /// β₁.
    pub beta1: f32,
    /// β₂.
    pub beta2: f32,
    /// ε.
    pub eps: f32,
    /// λ.
    pub weight_decay: f32,
    /// `true` for AdamW (decay the weights), `false` for Adam (decay through the gradient).
    pub decoupled: bool,
    /// `1 − β₁ᵗ`.
    pub bias_correction1: f32,
    /// `1 − β₂ᵗ`.
    pub bias_correction2: f32,
}

/// One Adam/AdamW step over the first and second moments `m` and `v`.
pub fn step(
    config: Adam,
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    grad_scale: f32,
) {
    let update = Update::new(&config);
    for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m).zip(v) {
        update.apply(p, g * grad_scale, m, v);
    }
}

/// [`step`], then zeroes `grads`, in the same pass: the update reads each gradient once and clears
/// it, which saves the separate `zero_grad` pass over the buffer (same bits as `step` + zeroing).
pub fn step_zeroing(
    config: Adam,
    params: &mut [f32],
    grads: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grad_scale: f32,
) {
    let update = Update::new(&config);
    for (((p, g), m), v) in params.iter_mut().zip(grads).zip(m).zip(v) {
        update.apply(p, core::mem::replace(g, 0.0) * grad_scale, m, v);
    }
}

/// Whether [`step`] would leave every parameter finite: the same update, on copies (nothing
/// changes). A step that would not is skipped by the trainer's guard.
pub fn stays_finite(
    config: Adam,
    params: &[f32],
    grads: &[f32],
    m: &[f32],
    v: &[f32],
    grad_scale: f32,
) -> bool {
    let update = Update::new(&config);
    params
        .iter()
        .zip(grads)
        .zip(m)
        .zip(v)
        .fold(true, |ok, (((&p, &g), &m), &v)| {
            let (mut p, mut m, mut v) = (p, m, v);
            update.apply(&mut p, g * grad_scale, &mut m, &mut v);
            ok & p.is_finite()
        })
}

/// The constants of one step, computed once, and the update of one parameter.
struct Update {
    step_size: f32,
    inv_sqrt_bc2: f32,
    l2: f32,
    decay: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
}

impl Update {
    fn new(config: &Adam) -> Self {
        let (l2, decay) = if config.decoupled {
            (0.0, 1.0 - config.lr * config.weight_decay)
        } else {
            (config.weight_decay, 1.0)
        };
        Self {
            step_size: config.lr / config.bias_correction1,
            inv_sqrt_bc2: 1.0 / crate::sqrt::sqrt(config.bias_correction2),
            l2,
            decay,
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
        }
    }

    /// `g` is the mean gradient (already scaled).
    #[inline(always)]
    fn apply(&self, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        let g = g + self.l2 * *p;
        *p *= self.decay;
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        let denominator = crate::sqrt::sqrt(*v) * self.inv_sqrt_bc2 + self.eps;
        *p -= self.step_size * *m / denominator;
    }
}
