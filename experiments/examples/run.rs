//! Runs an experiment natively and prints each epoch's line and its f32 bit patterns in the order
//! of the firmware's defmt `epoch` line, so a host run can be compared with a device run by eye.
//!
//! `cargo run --release -p tinytrain-experiments --example run -- [digits|iris]`

use tinytrain::network::Buffers;
use tinytrain::optim::optimizer_state_len;
use tinytrain::record::EpochRecord;
use tinytrain::spec::Plan;
use tinytrain_experiments::{by_name, run, DIGITS};

fn main() {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DIGITS.name.to_string());
    let experiment = by_name(&name).unwrap_or_else(|| panic!("no experiment called {name:?}"));

    // A host's memory: Vecs sized by the plan (a firmware uses the experiment's `Workspace`).
    let plan = Plan::of(experiment.layers).expect("a valid network");
    let (mut params, mut grads) = (vec![0.0; plan.params], vec![0.0; plan.params]);
    let (mut activations, mut deltas) = (vec![0.0; plan.activations], vec![0.0; plan.deltas]);
    let mut masks = vec![0; plan.mask_words];
    let mut state = vec![0.0; optimizer_state_len(experiment.config.optimizer, plan.params)];
    let buffers = Buffers {
        params: &mut params,
        grads: &mut grads,
        activations: &mut activations,
        deltas: &mut deltas,
        masks: &mut masks,
        state: &mut state,
    };
    let mut train = vec![0; experiment.train_capacity()];
    let mut validation = vec![0; experiment.validation_capacity()];

    let started = std::time::Instant::now();
    let summary = run(
        &experiment,
        buffers,
        &mut train,
        &mut validation,
        &mut |r: &EpochRecord| {
            let fields = [
                Some(r.train_loss),
                r.train_acc,
                r.val_loss,
                r.val_acc,
                r.val_f1,
                Some(r.lr),
            ];
            let bits: Vec<String> = fields
                .iter()
                .map(|v| format!("{:#010x}", v.map_or(u32::MAX, f32::to_bits)))
                .collect();
            println!("{} | bits={}", r.line(experiment.epochs), bits.join(","));
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    println!("{summary:?}");
    println!("{:.3} s", started.elapsed().as_secs_f64());
}
