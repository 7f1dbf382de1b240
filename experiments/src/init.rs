//! Initial parameters built into the crate: `TINYTRAIN_INIT_WEIGHTS=path/to/weights.json` at build
//! time (a `weights.json` or `init.json` of `tinytrain train`) makes an experiment start from those
//! parameters instead of its seeded initialisation — on the device and on the host alike, as both
//! run [`run`](crate::run()).
//!
//! ```sh
//! cd firmware
//! TINYTRAIN_INIT_WEIGHTS=$PWD/../runs/iris-seed1/weights.json cargo qemu-iris
//! ```
//!
//! `build.rs` reads the file (a path relative to the crate being built is fragile: give an
//! absolute one) into `OUT_DIR/init_weights.rs`. The experiment is the one named by
//! `TINYTRAIN_INIT_EXPERIMENT`, else the first of [`ALL`] whose dense layers have the
//! file's shapes. The shapes are checked **at compile time**: weights that fit no experiment, or not
//! the named one, fail the build. Rebuilding with the variable unset (or empty) removes them.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/init_weights.rs"));
}

use tinytrain::spec::{dense_layers, Layer};

use crate::{Experiment, ALL};

/// The weights file the crate was built with (`None`: no built-in weights).
pub const SOURCE: Option<&str> = generated::SOURCE;

/// `true` if `layers` has exactly the dense shapes `(inputs, outputs)` of `shapes`, in order.
const fn fits(layers: &[Layer], shapes: &[(usize, usize)]) -> bool {
    let mut dense = dense_layers(layers);
    let mut k = 0;
    while let Some(layout) = dense.next_const() {
        if k >= shapes.len() || shapes[k].0 != layout.inputs || shapes[k].1 != layout.outputs {
            return false;
        }
        k += 1;
    }
    k == shapes.len()
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The index in [`ALL`] of the experiment the built-in weights belong to.
const TARGET: Option<usize> = {
    if SOURCE.is_none() {
        None
    } else {
        let mut found = None;
        let mut i = 0;
        while i < ALL.len() {
            let named = same(ALL[i].name, generated::EXPERIMENT);
            if named || (generated::EXPERIMENT.is_empty() && found.is_none()) {
                if fits(ALL[i].layers, generated::SHAPES) {
                    found = Some(i);
                } else if named {
                    panic!("TINYTRAIN_INIT_WEIGHTS: the file's layer shapes differ from the network of TINYTRAIN_INIT_EXPERIMENT");
                }
            }
            i += 1;
        }
        match found {
            Some(i) => Some(i),
            None => panic!("TINYTRAIN_INIT_WEIGHTS: no experiment (of TINYTRAIN_INIT_EXPERIMENT) has a network of the file's layer shapes"),
        }
    }
};

/// The name of the experiment that starts from the built-in weights.
pub const EXPERIMENT: Option<&str> = match TARGET {
    Some(i) => Some(ALL[i].name),
    None => None,
};

/// The built-in initial parameters of the experiment called `name` (the core's flat layout), if any.
pub fn params_for(name: &str) -> Option<&'static [f32]> {
    match EXPERIMENT {
        Some(target) if target == name => Some(generated::PARAMS),
        _ => None,
    }
}

/// [`params_for`] the experiment.
pub fn params_of(experiment: &Experiment) -> Option<&'static [f32]> {
    params_for(experiment.name)
}
