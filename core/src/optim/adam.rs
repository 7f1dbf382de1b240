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
// Not inlined: a per-element loop keeps the core's opt-level when the caller is built for size
// (the firmware crate, `firmware/Cargo.toml`).
#[inline(never)]
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
// Not inlined: a per-element loop keeps the core's opt-level when the caller is built for size
// (the firmware crate, `firmware/Cargo.toml`).
#[inline(never)]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `torch.optim.Adam`/`AdamW`'s update in `f64` (t counted from 1), apart from [`Update`].
    #[allow(clippy::too_many_arguments)]
    fn reference(
        decoupled: bool,
        lr: f64,
        wd: f64,
        t: i32,
        p: &mut [f64],
        grads: &[f64],
        m: &mut [f64],
        v: &mut [f64],
    ) {
        // ε = 1e-3, large enough that the test sees where it is added.
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-3f64);
        for (((p, &g), m), v) in p.iter_mut().zip(grads).zip(m).zip(v) {
            let g = if decoupled { g } else { g + wd * *p };
            if decoupled {
                *p *= 1.0 - lr * wd;
            }
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            let m_hat = *m / (1.0 - b1.powi(t));
            let v_hat = *v / (1.0 - b2.powi(t));
            *p -= lr * m_hat / (v_hat.sqrt() + eps);
        }
    }

    /// Three steps of Adam and AdamW, with and without weight decay, on gradients scaled by ½ (a
    /// mini-batch of two), within 1e-5 relative of the `f64` reference; `step_zeroing` gives `step`'s bits and clears the gradients.
    #[test]
    fn three_steps_follow_pytorchs_update() {
        for (decoupled, wd) in [(false, 0.0), (false, 0.1), (true, 0.0), (true, 0.1)] {
            let (mut params, mut m, mut v) = ([0.5f32, -1.25, 2.0], [0.0f32; 3], [0.0f32; 3]);
            let (mut zeroed, mut mz, mut vz) = (params, m, v);
            let (mut p64, mut m64, mut v64) = (params.map(f64::from), [0.0; 3], [0.0; 3]);
            let (mut b1t, mut b2t) = (1.0f32, 1.0f32);
            for (t, grads) in [[0.3f32, -0.7, 1.1], [-0.2, 0.4, 0.9], [1.5, 0.1, -0.6]]
                .into_iter()
                .enumerate()
            {
                b1t *= 0.9;
                b2t *= 0.999;
                let config = Adam {
                    lr: 0.01,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-3,
                    weight_decay: wd,
                    decoupled,
                    bias_correction1: 1.0 - b1t,
                    bias_correction2: 1.0 - b2t,
                };
                assert!(stays_finite(config, &params, &grads, &m, &v, 0.5));
                step(config, &mut params, &grads, &mut m, &mut v, 0.5);
                let mut cleared = grads;
                step_zeroing(config, &mut zeroed, &mut cleared, &mut mz, &mut vz, 0.5);
                assert_eq!(cleared, [0.0; 3]);
                let g64 = grads.map(|g| f64::from(g) * 0.5);
                reference(
                    decoupled,
                    0.01,
                    f64::from(wd),
                    t as i32 + 1,
                    &mut p64,
                    &g64,
                    &mut m64,
                    &mut v64,
                );
            }
            assert_eq!(zeroed.map(f32::to_bits), params.map(f32::to_bits));
            for (p, r) in params.iter().zip(p64) {
                assert!(
                    (f64::from(*p) - r).abs() <= 1e-5 * r.abs(),
                    "AdamW {decoupled}, λ {wd}: {p} vs {r}"
                );
            }
        }
    }

    /// `stays_finite` says whether `step` would leave the parameter finite, on a grid of parameters
    /// at `f32`'s edge, gradients from 1e-30 to 1e30, gradient scales and rates up to 3e38 (where
    /// ε decides whether a tiny gradient makes a full-sized step).
    #[test]
    fn stays_finite_foresees_the_step() {
        let mut outcomes = [0usize; 2];
        for p in [3.4e38f32, -3.4e38, 1.0] {
            for g in [-1e-30f32, -1e-9, 1e-9, 2.0, -1e30] {
                for scale in [1e-10f32, 1e-9, 0.5, 1e10] {
                    for lr in [0.1f32, 3e38] {
                        let config = Adam {
                            lr,
                            beta1: 0.9,
                            beta2: 0.999,
                            eps: 1e-8,
                            weight_decay: 0.0,
                            decoupled: false,
                            bias_correction1: 0.1,
                            bias_correction2: 0.001,
                        };
                        let foreseen = stays_finite(config, &[p], &[g], &[0.0], &[0.0], scale);
                        let mut after = [p];
                        step(config, &mut after, &[g], &mut [0.0], &mut [0.0], scale);
                        assert_eq!(
                            foreseen,
                            after[0].is_finite(),
                            "p {p}, g {g}, ×{scale}, lr {lr}"
                        );
                        outcomes[usize::from(foreseen)] += 1;
                    }
                }
            }
        }
        assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    }
}
