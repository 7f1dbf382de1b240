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
    // Without momentum there is no buffer: a zero stands for it (momentum 0 never reads it).
    let buffer = momentum_buffer
        .iter()
        .copied()
        .chain(core::iter::repeat(0.0));
    params
        .iter()
        .zip(grads)
        .zip(buffer)
        .fold(true, |ok, ((&p, &g), b)| {
            let (mut p, mut b) = (p, b);
            apply(config, &mut p, g * grad_scale, &mut b);
            ok & p.is_finite()
        })
}
