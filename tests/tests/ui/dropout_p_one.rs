// Dropout with p = 1 would drop everything (and scale by 1/0): `Plan::of_const` rejects it.

tinytrain::network! {
    bad_net = [Layer::dense(8, 4), Layer::Dropout { p: 1.0 }, Layer::dense(4, 2)]
}

fn main() {
    let _ = bad_net::PARAMS;
}
