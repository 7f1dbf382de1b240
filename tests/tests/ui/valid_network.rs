// The control: chaining widths compile (the macro imports `Layer` and `Activation` itself), and the
// memory holds params, grads, 170 activations, 2 × 32 deltas (the widest layer output) and 1 mask word.

tinytrain::network! {
    good_net = [
        Layer::dense(64, 32),
        Layer::Activation(Activation::Relu),
        Layer::Dropout { p: 0.5 },
        Layer::dense(32, 10),
    ]
}

fn main() {
    assert_eq!(good_net::PARAMS, 64 * 32 + 32 + 32 * 10 + 10);
    let memory = good_net::Memory::<0>::new();
    assert_eq!(core::mem::size_of_val(&memory), 4 * (2 * good_net::PARAMS + (64 + 32 + 32 + 32 + 10) + 2 * 32 + 1));
}
