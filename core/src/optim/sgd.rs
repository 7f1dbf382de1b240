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
        nesterov,
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
        let g = g * grad_scale + weight_decay * *p;
        *b = momentum * *b + g;
        let direction = if nesterov { g + momentum * *b } else { *b };
        *p -= lr * direction;
    }
}
