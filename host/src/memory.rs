//! Heap memory for a network: the buffers a firmware keeps in static arrays, as `Vec`s sized at run
//! time from the network's [`Plan`](tinytrain::spec::Plan) — the core's
//! [`VecMemory`](tinytrain::network::VecMemory) (feature `alloc`).

pub use tinytrain::network::VecMemory as Memory;

#[cfg(test)]
mod tests {
    use super::*;
    use tinytrain::optim::OptimizerKind;
    use tinytrain::spec::Plan;

    #[test]
    fn sizes_follow_the_plan() {
        // Dense, ReLU, dropout (mask words), dense.
        let plan = Plan::of(tinytrain_experiments::digits::net::LAYERS).unwrap();
        let memory = Memory::new(&plan, OptimizerKind::ADAM);
        assert_eq!(memory.bytes(), plan.bytes() + 4 * 2 * plan.params);
        assert_eq!(Memory::new(&plan, OptimizerKind::SGD).bytes(), plan.bytes());
    }
}
