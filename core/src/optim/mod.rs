//! Optimisers with PyTorch's definitions, over the flat parameter and gradient buffers.
//!
//! Each optimiser is one loop over `(param, grad, state)`. Gradients arrive as *sums* over a
//! mini-batch and are multiplied by `grad_scale` (`1/batch`, times a clipping factor) as they are read,
//! which equals PyTorch's `reduction='mean'` without a separate pass.

pub mod adam;
pub mod clip;
pub mod plateau;
pub mod schedule;
pub mod sgd;

pub use schedule::Schedule;

/// Which optimiser, with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OptimizerKind {
    /// [`torch.optim.SGD`](https://pytorch.org/docs/stable/generated/torch.optim.SGD.html), dampening 0.
    Sgd {
        /// Momentum factor (0 = plain SGD, no state).
        momentum: f32,
        /// Nesterov momentum.
        nesterov: bool,
        /// L2 penalty added to the gradient.
        weight_decay: f32,
    },
    /// [`torch.optim.Adam`](https://pytorch.org/docs/stable/generated/torch.optim.Adam.html).
    Adam {
        /// Decay of the first moment.
        beta1: f32,
        /// Decay of the second moment.
        beta2: f32,
        /// Added to the denominator.
        eps: f32,
        /// L2 penalty added to the gradient.
        weight_decay: f32,
    },
    /// [`torch.optim.AdamW`](https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html):
    /// decoupled weight decay.
    AdamW {
        /// Decay of the first moment.
        beta1: f32,
        /// Decay of the second moment.
        beta2: f32,
        /// Added to the denominator.
        eps: f32,
        /// Decoupled decay: `p ← p·(1 − lr·weight_decay)` before the Adam update.
        weight_decay: f32,
    },
}

impl OptimizerKind {
    /// This optimiser with its weight decay set to `decay`, everything else kept.
    pub const fn with_weight_decay(mut self, decay: f32) -> Self {
        match &mut self {
            Self::Sgd { weight_decay, .. }
            | Self::Adam { weight_decay, .. }
            | Self::AdamW { weight_decay, .. } => *weight_decay = decay,
        }
        self
    }

    /// Plain SGD, PyTorch defaults.
    pub const SGD: Self = Self::Sgd {
        momentum: 0.0,
        nesterov: false,
        weight_decay: 0.0,
    };
    /// Adam, PyTorch defaults (β = 0.9, 0.999; ε = 1e-8; no weight decay).
    pub const ADAM: Self = Self::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    /// AdamW, PyTorch defaults (weight decay 0.01).
    pub const ADAMW: Self = Self::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.01,
    };

    /// Floats of state per parameter: 0 (plain SGD), 1 (momentum), 2 (Adam moments).
    pub const fn state_per_param(&self) -> usize {
        match self {
            Self::Sgd { momentum, .. } => {
                if *momentum == 0.0 {
                    0
                } else {
                    1
                }
            }
            Self::Adam { .. } | Self::AdamW { .. } => 2,
        }
    }
}

/// Length of the optimiser state buffer for `params` parameters.
pub const fn optimizer_state_len(kind: OptimizerKind, params: usize) -> usize {
    kind.state_per_param() * params
}

/// An optimiser: its hyper-parameters and its step count. The per-parameter state lives in the
/// network's `state` buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Optimizer {
    kind: OptimizerKind,
    steps: u32,
    beta1_power: f32,
    beta2_power: f32,
}

impl Optimizer {
    /// A fresh optimiser (step 0).
    pub const fn new(kind: OptimizerKind) -> Self {
        Self {
            kind,
            steps: 0,
            beta1_power: 1.0,
            beta2_power: 1.0,
        }
    }

    /// An optimiser that has taken `steps` steps, with Adam's running `β₁ᵗ` and `β₂ᵗ` (1 for SGD):
    /// the counters a checkpoint saves ([`Optimizer::beta_powers`]).
    pub const fn resume(kind: OptimizerKind, steps: u32, beta_powers: (f32, f32)) -> Self {
        Self {
            kind,
            steps,
            beta1_power: beta_powers.0,
            beta2_power: beta_powers.1,
        }
    }

    /// Adam's bias-correction products `(β₁ᵗ, β₂ᵗ)` after the steps taken so far.
    pub fn beta_powers(&self) -> (f32, f32) {
        (self.beta1_power, self.beta2_power)
    }

    /// The hyper-parameters.
    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    /// This optimiser with `kind` (the same value, from a constant: see [`crate::train::Settings`]).
    #[inline(always)]
    pub(crate) fn with_kind(self, kind: OptimizerKind) -> Self {
        Self { kind, ..self }
    }

    /// Updates taken so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// [`Optimizer::step`], then zeroes `grads` — in the same pass over the buffers for Adam and
    /// AdamW. The same bits as `step` followed by zeroing the gradients.
    pub fn step_and_zero_grad(
        &mut self,
        params: &mut [f32],
        grads: &mut [f32],
        state: &mut [f32],
        lr: f32,
        grad_scale: f32,
    ) {
        match self.next_adam_step(lr) {
            Some(config) => {
                let (m, v) = state.split_at_mut(state.len() / 2);
                adam::step_zeroing(config, params, grads, m, v, grad_scale);
            }
            None => {
                self.step(params, grads, state, lr, grad_scale);
                grads.iter_mut().for_each(|g| *g = 0.0);
            }
        }
    }

    /// Whether [`Optimizer::step`] with these arguments would leave every parameter finite; nothing
    /// changes (not even the step count). The trainer's guard skips a step that would not.
    pub fn step_stays_finite(
        &self,
        params: &[f32],
        grads: &[f32],
        state: &[f32],
        lr: f32,
        grad_scale: f32,
    ) -> bool {
        let mut next = *self;
        if !self.step_can_overflow(lr) {
            return true;
        }
        if let Some(config) = next.next_adam_step(lr) {
            let (m, v) = state.split_at(state.len() / 2);
            adam::stays_finite(config, params, grads, m, v, grad_scale)
        } else if let OptimizerKind::Sgd {
            momentum,
            nesterov,
            weight_decay,
        } = self.kind
        {
            let config = sgd::Sgd {
                lr,
                momentum,
                nesterov,
                weight_decay,
            };
            sgd::stays_finite(config, params, grads, state, grad_scale)
        } else {
            true
        }
    }

    /// Whether a step at rate `lr` can carry a finite parameter past `f32`, so that it is worth
    /// checking. SGD moves a parameter by `lr·g` for any finite `g`: always checked. Adam moves it
    /// by at most about `lr·(1 − β₁)/√(1 − β₂)` per step whatever the gradient (Kingma & Ba 2015,
    /// §2.1), and AdamW's decay shrinks it while `lr·λ ≤ 1`: at rates up to 1 no realistic number of
    /// steps overflows, and the check (as costly as the step) is skipped.
    fn step_can_overflow(&self, lr: f32) -> bool {
        match self.kind {
            OptimizerKind::Sgd { .. } => true,
            OptimizerKind::Adam { weight_decay, .. }
            | OptimizerKind::AdamW { weight_decay, .. } => {
                !(lr.abs() <= 1.0 && (lr * weight_decay).abs() <= 1.0)
            }
        }
    }

    /// Counts an update that was applied elsewhere (plain SGD fused into the backward pass).
    pub(crate) fn count_step(&mut self) {
        self.steps += 1;
    }

    /// One update of `params` from `grads · grad_scale` with learning rate `lr`. `state` must be
    /// [`optimizer_state_len`] long (shorter state is treated as zero-length: plain SGD-like loops stop
    /// at the shortest slice).
    pub fn step(
        &mut self,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        lr: f32,
        grad_scale: f32,
    ) {
        if let Some(config) = self.next_adam_step(lr) {
            let (m, v) = state.split_at_mut(state.len() / 2);
            adam::step(config, params, grads, m, v, grad_scale);
        } else if let OptimizerKind::Sgd {
            momentum,
            nesterov,
            weight_decay,
        } = self.kind
        {
            self.steps += 1;
            let config = sgd::Sgd {
                lr,
                momentum,
                nesterov,
                weight_decay,
            };
            sgd::step(config, params, grads, state, grad_scale);
        }
    }

    /// For Adam and AdamW: counts the step, advances `βᵗ` and returns this step's hyper-parameters
    /// with their bias corrections; `None` (and nothing counted) for SGD.
    fn next_adam_step(&mut self, lr: f32) -> Option<adam::Adam> {
        let (OptimizerKind::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
        }
        | OptimizerKind::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        }) = self.kind
        else {
            return None;
        };
        self.steps += 1;
        // βᵗ as a running product: exact step to step, the same on every target.
        self.beta1_power *= beta1;
        self.beta2_power *= beta2;
        Some(adam::Adam {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
            decoupled: matches!(self.kind, OptimizerKind::AdamW { .. }),
            bias_correction1: 1.0 - self.beta1_power,
            bias_correction2: 1.0 - self.beta2_power,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adam's first step, bias-corrected, moves each parameter by `lr · g/(|g| + ε) ≈ lr` against
    /// its gradient, whatever β₁ and β₂ (Kingma & Ba 2015, §3); `step` and `step_and_zero_grad` agree.
    #[test]
    fn the_first_adam_step_moves_each_parameter_by_the_rate() {
        for kind in [
            OptimizerKind::ADAM,
            OptimizerKind::ADAMW.with_weight_decay(0.0),
        ] {
            let grads = [0.5, -2.0, 1e-3];
            let mut state = [0.0; 6];
            let mut params = [1.0, 1.0, 1.0];
            let mut adam = Optimizer::new(kind);
            adam.step(&mut params, &grads, &mut state, 0.1, 1.0);
            assert_eq!(adam.steps(), 1);
            for (p, want) in params.iter().zip([0.9, 1.1, 0.9]) {
                assert!((p - want).abs() < 1e-5, "{kind:?}: {params:?}");
            }
            let (mut zeroed, mut grads, mut state) = ([1.0; 3], grads, [0.0; 6]);
            Optimizer::new(kind).step_and_zero_grad(&mut zeroed, &mut grads, &mut state, 0.1, 1.0);
            assert_eq!(zeroed.map(f32::to_bits), params.map(f32::to_bits));
            assert_eq!(grads, [0.0; 3]);
        }
    }

    /// The finiteness check runs whenever a step could overflow: AdamW's decay `1 − lr·λ` growing a
    /// parameter past `f32` (a large λ, or a negative one), or Adam at a rate beyond 1.
    #[test]
    fn a_step_that_would_overflow_is_seen() {
        let check = |kind: OptimizerKind, lr: f32, param: f32| {
            Optimizer::new(kind).step_stays_finite(&[param], &[1.0], &[0.0; 2], lr, 1.0)
        };
        let adamw = OptimizerKind::ADAMW;
        assert!(!check(adamw.with_weight_decay(1e30), 0.5, 1e10));
        assert!(!check(adamw.with_weight_decay(-1.5), 0.9, 3e38));
        assert!(!check(OptimizerKind::ADAM, 3e38, -3e38));
        assert!(check(adamw.with_weight_decay(0.01), 0.5, 3e38));
        assert!(check(OptimizerKind::ADAM, 0.5, -3e38));
    }
}
