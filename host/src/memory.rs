//! Heap memory for a network: the buffers a firmware keeps in static arrays
//! ([`StaticMemory`](tinytrain::network::StaticMemory)), as `Vec`s sized at run time from the
//! network's [`Plan`]. The core never allocates; hosts, tests and benches use this.

use tinytrain::network::Buffers;
use tinytrain::optim::{optimizer_state_len, OptimizerKind};
use tinytrain::spec::{Layer, Plan, ShapeError};

/// Every buffer of a network and its optimiser, exactly as long as the plan says.
#[derive(Clone, Debug)]
pub struct VecMemory {
    params: Vec<f32>,
    grads: Vec<f32>,
    activations: Vec<f32>,
    deltas: Vec<f32>,
    masks: Vec<u32>,
    state: Vec<f32>,
}

impl VecMemory {
    /// Zeroed buffers for `plan`, with state for `optimizer`.
    pub fn new(plan: &Plan, optimizer: OptimizerKind) -> Self {
        Self {
            params: vec![0.0; plan.params],
            grads: vec![0.0; plan.params],
            activations: vec![0.0; plan.activations],
            deltas: vec![0.0; plan.deltas],
            masks: vec![0; plan.mask_words],
            state: vec![0.0; optimizer_state_len(optimizer, plan.params)],
        }
    }

    /// [`VecMemory::new`] for `layers`' plan.
    pub fn of(layers: &[Layer], optimizer: OptimizerKind) -> Result<Self, ShapeError> {
        Ok(Self::new(&Plan::of(layers)?, optimizer))
    }

    /// Bytes held, optimiser state included.
    pub fn bytes(&self) -> usize {
        let floats =
            self.params.len() + self.grads.len() + self.activations.len() + self.deltas.len();
        4 * (floats + self.masks.len() + self.state.len())
    }

    /// Lends every buffer to the core.
    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            activations: &mut self.activations,
            deltas: &mut self.deltas,
            masks: &mut self.masks,
            state: &mut self.state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_plan() {
        // Dense, ReLU, dropout (mask words), dense.
        let plan = Plan::of(tinytrain_experiments::digits::net::LAYERS).unwrap();
        let memory = VecMemory::new(&plan, OptimizerKind::ADAM);
        assert_eq!(memory.bytes(), plan.bytes() + 4 * 2 * plan.params);
        assert_eq!(
            VecMemory::new(&plan, OptimizerKind::SGD).bytes(),
            plan.bytes()
        );
    }
}
