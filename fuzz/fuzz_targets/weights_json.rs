//! The `weights.json` loader (`tinytrain_host::weights::Weights`) on arbitrary bytes, and loading what
//! it accepts into a small network (which must fit or be refused, never panic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain::layers::Activation;
use tinytrain::network::Mlp;
use tinytrain::optim::OptimizerKind;
use tinytrain::spec::{Layer, Plan};
use tinytrain_host::memory::VecMemory;
use tinytrain_host::weights::Weights;

const LAYERS: [Layer; 3] = [
    Layer::dense(2, 3),
    Layer::Activation(Activation::Relu),
    Layer::dense(3, 2),
];

fuzz_target!(|data: &[u8]| {
    let Ok(weights) = Weights::parse(data) else {
        return;
    };
    let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), OptimizerKind::SGD);
    let mut net = Mlp::new(&LAYERS, memory.buffers(), 1).unwrap();
    if weights.load_into(&mut net).is_ok() {
        // What went in comes back out.
        assert_eq!(Weights::of(&net).layers.len(), weights.layers.len());
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&weights.flat()), bits(net.params()));
    }
});
