// The first layer fixes the input width, so it must be dense: `Plan::of_const` rejects the rest.

tinytrain::network! {
    bad_net = [Layer::Activation(Activation::Tanh), Layer::dense(4, 2)]
}

fn main() {
    let _ = bad_net::PARAMS;
}
