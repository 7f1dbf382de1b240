//! `tinytrain train --experiment NAME`: a shared experiment of `tinytrain-experiments` (`digits`,
//! `iris`), run natively with the same function the firmware runs, so its records are the device's,
//! bit for bit.
//!
//! stdout gets one line per epoch, as for a CSV run; the run directory (`--out`, default
//! `runs/experiment-<name>`) gets `metrics.jsonl` and `metrics.csv`, byte-identical to what
//! `tinytrain decode --serial-log … --out …` writes from the device's serial frames.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use tinytrain::network::Buffers;
use tinytrain::optim::optimizer_state_len;
use tinytrain::record::EpochRecord;
use tinytrain::spec::Plan;
use tinytrain_experiments::{by_name, run, Experiment, Summary, ALL};

use crate::run_dir::RunDir;

/// The names `--experiment` accepts.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|e| e.name).collect()
}

/// `runs/experiment-<name>`, relative to the current directory.
pub fn default_dir(name: &str) -> PathBuf {
    Path::new("runs").join(format!("experiment-{name}"))
}

/// Runs the experiment called `name` on the host, calling `observer` after every epoch.
pub fn run_experiment(
    name: &str,
    observer: &mut dyn FnMut(&EpochRecord),
) -> anyhow::Result<(Experiment, Summary)> {
    let experiment = by_name(name).ok_or_else(|| {
        anyhow!(
            "no experiment called {name:?} (known: {})",
            names().join(", ")
        )
    })?;
    // A host's memory: Vecs sized by the plan (a firmware uses the experiment's `Workspace`).
    let plan = Plan::of(experiment.layers).map_err(|e| anyhow!("{e:?}"))?;
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
    let summary = run(
        &experiment,
        buffers,
        &mut train,
        &mut validation,
        &mut |r: &EpochRecord| observer(r),
    )
    .map_err(|e| anyhow!("experiment {name}: {e}"))?;
    Ok((experiment, summary))
}

/// Runs `tinytrain train --experiment NAME`.
pub fn execute(name: &str, out: Option<&Path>, quiet: bool) -> anyhow::Result<()> {
    let out = out.map_or_else(|| default_dir(name), Path::to_path_buf);
    let mut dir = RunDir::create(&out)?;
    let epochs = by_name(name).map_or(0, |e| e.epochs);
    let mut failure: Option<anyhow::Error> = None;
    let (experiment, summary) = run_experiment(name, &mut |record| {
        if failure.is_some() {
            return;
        }
        let result = dir.append(record).and_then(|()| {
            if quiet {
                return Ok(());
            }
            writeln!(std::io::stdout().lock(), "{}", record.line(epochs))
                .context("cannot write to stdout")
        });
        if let Err(e) = result {
            failure = Some(e);
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !quiet {
        eprintln!(
            "experiment {}: {} training, {} validation rows, best epoch {}; saved the run to {}",
            experiment.name,
            summary.rows.train,
            summary.rows.validation,
            summary.best_epoch,
            dir.path().display()
        );
    }
    Ok(())
}
