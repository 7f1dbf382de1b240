//! The tests' network memory: every buffer as a `Vec`, sized for a plan.

use crate::network::Buffers;
use crate::optim::{optimizer_state_len, OptimizerKind};
use crate::spec::{frozen_params, Layer, Plan};

/// Every buffer of a network as a `Vec`.
pub(super) struct Mem {
    pub(super) params: Vec<f32>,
    pub(super) grads: Vec<f32>,
    pub(super) activations: Vec<f32>,
    pub(super) deltas: Vec<f32>,
    pub(super) masks: Vec<u32>,
    pub(super) stats: Vec<f32>,
    pub(super) state: Vec<f32>,
}

impl Mem {
    /// For `plan` (batched or not), every parameter trainable.
    pub(super) fn new(plan: &Plan, optimizer: OptimizerKind) -> Self {
        Self::sized(plan, plan.params, optimizer)
    }

    /// For `layers` holding a mini-batch of `batch`, the first `freeze` layers frozen: gradients
    /// and optimiser state for the trainable part only.
    pub(super) fn frozen(
        layers: &[Layer],
        batch: usize,
        freeze: usize,
        optimizer: OptimizerKind,
    ) -> Self {
        let plan = Plan::of(layers).unwrap().batched(batch).unwrap();
        Self::sized(
            &plan,
            plan.params - frozen_params(layers, freeze),
            optimizer,
        )
    }

    fn sized(plan: &Plan, trainable: usize, optimizer: OptimizerKind) -> Self {
        Self {
            params: vec![0.0; plan.params],
            grads: vec![0.0; trainable],
            activations: vec![0.0; plan.activations],
            deltas: vec![0.0; plan.deltas],
            masks: vec![0; plan.mask_words],
            stats: vec![0.0; plan.stats],
            state: vec![0.0; optimizer_state_len(optimizer, trainable)],
        }
    }

    /// Borrows every buffer.
    pub(super) fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            front: &[],
            grads: &mut self.grads,
            activations: &mut self.activations,
            deltas: &mut self.deltas,
            masks: &mut self.masks,
            stats: &mut self.stats,
            state: &mut self.state,
        }
    }
}
