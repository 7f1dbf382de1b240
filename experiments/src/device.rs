//! The experiment `tinytrain train --device` generated from a user's CSV (feature `device`).
//!
//! The host writes `experiment.rs` (the network with `network!`, the [`Experiment`] with every
//! option, the data as a [`Table`](crate::table::Table) of `include_bytes!` tables) into a directory
//! and builds the firmware with `TINYTRAIN_DEVICE_RUN` naming it. The generated code is checked by
//! the compiler like any experiment: a network whose shapes do not chain, or `--init` weights of
//! the wrong length, fail the build.

#[allow(unused_imports)]
use crate::datasets::DataSource;
#[allow(unused_imports)]
use crate::experiment::{Experiment, Statistics};
#[allow(unused_imports)]
use crate::table::{Encoding, Table, Targets};

include!(concat!(
    env!(
        "TINYTRAIN_DEVICE_RUN",
        "feature `device` builds the experiment `tinytrain train --device` generates: set TINYTRAIN_DEVICE_RUN to its directory"
    ),
    "/experiment.rs"
));
