//! Gradient clipping by global norm (`torch.nn.utils.clip_grad_norm_`).

/// `√(Σ g²)` over all gradients, times `grad_scale`.
pub fn global_norm(grads: &[f32], grad_scale: f32) -> f32 {
    let sum: f32 = grads.iter().map(|g| g * g).sum();
    crate::sqrt::sqrt(sum) * libm::fabsf(grad_scale)
}

/// The factor PyTorch multiplies gradients by: `min(1, max_norm / (norm + 1e-6))`.
pub fn clip_factor(norm: f32, max_norm: f32) -> f32 {
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        factor
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_only_above_the_limit() {
        let g = [3.0f32, 4.0];
        assert_eq!(global_norm(&g, 1.0), 5.0);
        assert_eq!(global_norm(&g, 0.5), 2.5);
        assert!((clip_factor(5.0, 1.0) - 0.2).abs() < 1e-6);
        assert_eq!(clip_factor(0.5, 1.0), 1.0);
        // PyTorch's 1e-6 is added to the norm: it decides the factor of a tiny gradient.
        assert!((clip_factor(2e-6, 1e-6) - 1.0 / 3.0).abs() < 1e-6);
    }
}
