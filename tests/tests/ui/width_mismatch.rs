// A dense layer taking 16 inputs after one giving 32: `Plan::of_const` rejects the shape.

tinytrain::network! {
    bad_net = [Layer::dense(64, 32), Layer::Activation(Activation::Relu), Layer::dense(16, 10)]
}

fn main() {
    let _ = bad_net::PARAMS;
}
