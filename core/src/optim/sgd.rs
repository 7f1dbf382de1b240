//! Stochastic gradient descent with momentum and Nesterov momentum (PyTorch's definition,
//! dampening 0):
//!
//! ```text
//! g ← grad + λ·p
//! b ← μ·b + g                      (b starts at 0, so the first step gives b = g, as PyTorch)
//! g ← g + μ·b   if Nesterov, else g ← b
//! p ← p − lr·g
//! ```

/// Hyper-parameters of one SGD step.
#[derive(Clone, Copy, Debug)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
    /// Momentum μ (0: no momentum buffer is read).
    pub momentum: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 penalty λ.
    pub weight_decay: f32,
}

/// One SGD step; `momentum_buffer` is used only when `momentum ≠ 0`.
// Not inlined: a per-element loop keeps the core's opt-level when the caller is built for size
// (the firmware crate, `firmware/Cargo.toml`).
#[inline(never)]
pub fn step(
    config: Sgd,
    params: &mut [f32],
    grads: &[f32],
    momentum_buffer: &mut [f32],
    grad_scale: f32,
) {
    let Sgd {
        lr,
        momentum,
        nesterov: _,
        weight_decay,
    } = config;
    if momentum == 0.0 && weight_decay == 0.0 {
        // PyTorch also skips a zero weight decay; `g + 0·p` equals `g` for every finite `p` (the
        // sign of a zero `g` may change, which `p − lr·g` cannot see unless `p` is `−0`).
        for (p, &g) in params.iter_mut().zip(grads) {
            *p -= lr * (g * grad_scale);
        }
        return;
    }
    if momentum == 0.0 {
        for (p, &g) in params.iter_mut().zip(grads) {
            let g = g * grad_scale + weight_decay * *p;
            *p -= lr * g;
        }
        return;
    }
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(momentum_buffer) {
        apply(config, p, g * grad_scale, b);
    }
}

/// The update of one parameter, the general case (the loops above are its special cases, with
/// the same bits for every finite parameter).
#[inline(always)]
fn apply(config: Sgd, p: &mut f32, g: f32, b: &mut f32) {
    let g = g + config.weight_decay * *p;
    *b = config.momentum * *b + g;
    let direction = if config.nesterov {
        g + config.momentum * *b
    } else {
        *b
    };
    *p -= config.lr * direction;
}

/// Whether [`step`] would leave every parameter finite: the update on copies (nothing changes).
pub fn stays_finite(
    config: Sgd,
    params: &[f32],
    grads: &[f32],
    momentum_buffer: &[f32],
    grad_scale: f32,
) -> bool {
    let finite_after = |p: f32, g: f32, b: f32| {
        let (mut p, mut b) = (p, b);
        apply(config, &mut p, g * grad_scale, &mut b);
        p.is_finite()
    };
    // Two loops over plain zips (no `chain`), so that both vectorise.
    if momentum_buffer.len() >= params.len() {
        params
            .iter()
            .zip(grads)
            .zip(momentum_buffer)
            .fold(true, |ok, ((&p, &g), &b)| ok & finite_after(p, g, b))
    } else {
        // Without momentum there is no buffer: a zero stands for it (momentum 0 never reads it).
        params
            .iter()
            .zip(grads)
            .fold(true, |ok, (&p, &g)| ok & finite_after(p, g, 0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch's `torch.optim.SGD` update (dampening 0) in `f64`, written out apart from [`apply`].
    fn reference(config: Sgd, p: &mut [f64], grads: &[f64], b: &mut [f64], scale: f64) {
        let (lr, mu, wd) = (
            f64::from(config.lr),
            f64::from(config.momentum),
            f64::from(config.weight_decay),
        );
        for ((p, &g), b) in p.iter_mut().zip(grads).zip(b) {
            let mut d = g * scale + wd * *p;
            if mu != 0.0 {
                *b = mu * *b + d;
                d = if config.nesterov { d + mu * *b } else { *b };
            }
            *p -= lr * d;
        }
    }

    /// Three steps of every variant (plain, weight decay, momentum, Nesterov, both) with a gradient
    /// scale, each parameter within 1e-6 relative of the `f64` reference; `stays_finite` agrees.
    #[test]
    fn three_steps_of_every_variant_follow_pytorchs_update() {
        let variants = [
            (0.0, false, 0.0),
            (0.0, false, 0.1),
            (0.9, false, 0.0),
            (0.9, true, 0.0),
            (0.5, true, 0.05),
        ];
        for (momentum, nesterov, weight_decay) in variants {
            let config = Sgd {
                lr: 0.1,
                momentum,
                nesterov,
                weight_decay,
            };
            let mut params = [0.5f32, -1.25, 2.0];
            let mut buffer = [0.0f32; 3];
            let mut p64 = params.map(f64::from);
            let mut b64 = [0.0f64; 3];
            for grads in [[0.3f32, -0.7, 1.1], [-0.2, 0.4, 0.9], [1.5, 0.1, -0.6]] {
                assert!(stays_finite(config, &params, &grads, &buffer, 0.5));
                step(config, &mut params, &grads, &mut buffer, 0.5);
                reference(config, &mut p64, &grads.map(f64::from), &mut b64, 0.5);
            }
            for (p, r) in params.iter().zip(p64) {
                assert!(
                    (f64::from(*p) - r).abs() <= 1e-6 * r.abs(),
                    "{config:?}: {p} vs {r}"
                );
            }
        }
    }

    #[test]
    fn a_step_past_f32_is_not_finite() {
        let config = Sgd {
            lr: 1.0,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0,
        };
        assert!(!stays_finite(config, &[-3e38], &[3e38], &[0.0], 1.0));
        assert!(stays_finite(config, &[-3e38], &[-1.0], &[0.0], 1.0));
    }

    /// `stays_finite` says whether `step` would leave the parameter finite, on a grid of parameters
    /// at `f32`'s edge, gradients, gradient scales and rates, with and without momentum.
    #[test]
    fn stays_finite_foresees_the_step() {
        let mut outcomes = [0usize; 2];
        for (momentum, nesterov) in [(0.0, false), (0.9, true)] {
            for p in [3.4e38f32, -3.4e38, 1.0] {
                for g in [-1e30f32, -2.0, 1e-9, 3e38] {
                    for scale in [1e-9f32, 0.5, 4.0] {
                        for lr in [0.1f32, 1e10] {
                            let config = Sgd {
                                lr,
                                momentum,
                                nesterov,
                                weight_decay: 0.0,
                            };
                            let foreseen = stays_finite(config, &[p], &[g], &[0.5], scale);
                            let mut after = [p];
                            step(config, &mut after, &[g], &mut [0.5], scale);
                            assert_eq!(
                                foreseen,
                                after[0].is_finite(),
                                "{config:?}: p {p}, g {g}, ×{scale}"
                            );
                            outcomes[usize::from(foreseen)] += 1;
                        }
                    }
                }
            }
        }
        assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    }
}
