//! When plain SGD trains without a gradient buffer.
//!
//! Plain SGD at batch 1 updates each dense layer inside the backward pass
//! ([`Mlp::backward_sgd`](crate::network::Mlp::backward_sgd)): the gradient buffer is neither written
//! nor read, and the optimiser keeps no state. A configuration that takes that path in *every* epoch
//! trains on memory without gradients and without optimiser state: parameters, activations, deltas
//! and masks only (see [`Plan::fused_sgd_bytes`](crate::spec::Plan::fused_sgd_bytes)).

use crate::optim::{OptimizerKind, Schedule};
use crate::train::{DivergencePolicy, TrainConfig};

/// SGD without momentum and without weight decay (Nesterov without momentum is the same step).
pub(crate) const fn plain_sgd(kind: OptimizerKind) -> bool {
    matches!(kind, OptimizerKind::Sgd { momentum, weight_decay, .. }
        if momentum == 0.0 && weight_decay == 0.0)
}

/// A learning rate the fused pass may apply: above 1 in size the step is checked on copies before it
/// is applied, which needs the whole gradient.
pub(crate) const fn fusable_rate(lr: f32) -> bool {
    lr.abs() <= 1.0
}

/// A factor that never raises a rate above what it was (NaN is not one).
const fn shrinks(factor: f32) -> bool {
    factor >= 0.0 && factor <= 1.0
}

impl TrainConfig {
    /// `true` when every epoch of a run fuses plain SGD into the backward pass: plain SGD, batch 1,
    /// no clipping, a base rate of at most 1 that neither the schedule nor the divergence policy can
    /// raise above 1. Such a run needs no gradient buffer and no optimiser state, and
    /// [`Trainer::new`](crate::train::Trainer::new) accepts empty ones.
    ///
    /// ```
    /// use tinytrain::optim::{OptimizerKind, Schedule};
    /// use tinytrain::train::TrainConfig;
    /// let sgd = TrainConfig { optimizer: OptimizerKind::SGD, batch_size: 1, lr: 0.01, ..TrainConfig::DEFAULT };
    /// assert!(sgd.trains_without_gradients());
    /// assert!(!TrainConfig { batch_size: 32, ..sgd }.trains_without_gradients());
    /// assert!(!TrainConfig { schedule: Schedule::Step { step_size: 1, gamma: 2.0 }, ..sgd }
    ///     .trains_without_gradients());
    /// assert!(!TrainConfig::DEFAULT.trains_without_gradients()); // Adam
    /// ```
    pub const fn trains_without_gradients(&self) -> bool {
        let schedule = match self.schedule {
            Schedule::Constant => true,
            Schedule::Step { gamma, .. } => shrinks(gamma),
            Schedule::Cosine { eta_min, .. } => fusable_rate(eta_min),
            // The plateau rate falls to `max(lr·factor, min_lr)` only while above `min_lr`.
            Schedule::Plateau(plateau) => shrinks(plateau.factor),
        };
        let divergence = match self.divergence {
            DivergencePolicy::ReduceLr { factor } => shrinks(factor),
            DivergencePolicy::Skip | DivergencePolicy::Stop => true,
        };
        plain_sgd(self.optimizer)
            && self.batch_size <= 1
            && self.clip_norm.is_none()
            && fusable_rate(self.lr)
            && schedule
            && divergence
    }
}
