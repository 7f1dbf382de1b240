//! `tinytrain train --experiment NAME`: a shared experiment of `tinytrain-experiments` (`digits`,
//! `iris`), run natively with the same function the firmware runs, so its records are the device's,
//! bit for bit.
//!
//! stdout gets one line per epoch, as for a CSV run, stderr one per diagnosis event (and early
//! stopping's outcome, for an experiment with early stopping); the run directory (`--out`, default
//! `runs/experiment-<name>`) gets `metrics.jsonl`, `metrics.csv` and `events.jsonl` (the diagnosis
//! events), byte-identical to what `tinytrain decode --serial-log … --out …` writes from the
//! device's serial frames.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use tinytrain::diagnose::Event;
use tinytrain::network::Buffers;
use tinytrain::optim::optimizer_state_len;
use tinytrain::record::EpochRecord;
use tinytrain::spec::Plan;
use tinytrain_experiments::{
    by_name, run_full, EarlyStop, Experiment, NoFault, Observer, Summary, ALL,
};

use crate::pipeline::Noticed;
use crate::run_dir::RunDir;

/// The names `--experiment` accepts.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|e| e.name).collect()
}

/// `runs/experiment-<name>`, relative to the current directory.
pub fn default_dir(name: &str) -> PathBuf {
    Path::new("runs").join(format!("experiment-{name}"))
}

/// Runs the experiment called `name` on the host, telling `observer` about every epoch (and
/// event). Returns the trained parameters too (with early stopping and restoring: the best epoch's).
pub fn run_experiment(
    name: &str,
    observer: &mut impl Observer,
) -> anyhow::Result<(Experiment, Summary, Vec<f32>)> {
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
    let mut snapshot = vec![0.0; experiment.snapshot_len(plan.params)];
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
    let summary = run_full(
        &experiment,
        NoFault,
        buffers,
        &mut train,
        &mut validation,
        &mut snapshot,
        observer,
    )
    .map_err(|e| anyhow!("experiment {name}: {e}"))?;
    Ok((experiment, summary, params))
}

/// What `train --experiment` does with a run as it goes.
struct Printer {
    dir: RunDir,
    epochs: u32,
    quiet: bool,
    failure: Option<anyhow::Error>,
}

impl Printer {
    fn keep(&mut self, result: anyhow::Result<()>) {
        if let (Err(e), None) = (result, &self.failure) {
            self.failure = Some(e);
        }
    }
}

impl Observer for Printer {
    fn epoch(&mut self, record: &EpochRecord) {
        let result = self.dir.append(record).and_then(|()| {
            if self.quiet {
                return Ok(());
            }
            writeln!(std::io::stdout().lock(), "{}", record.line(self.epochs))
                .context("cannot write to stdout")
        });
        self.keep(result);
    }

    fn event(&mut self, detected: u32, event: &Event) {
        let noticed = Noticed {
            detected,
            event: *event,
        };
        let result = self.dir.append_event(&noticed.to_json());
        self.keep(result);
        if !self.quiet {
            eprintln!("epoch {detected}: {event}");
        }
    }

    fn early_stop(&mut self, outcome: &EarlyStop) {
        if self.quiet {
            return;
        }
        let restored = outcome.restored_epoch.map_or(String::new(), |e| {
            format!(", restored the weights of epoch {e}")
        });
        match outcome.stopped_epoch {
            Some(epoch) => eprintln!(
                "early_stopping: stopped at epoch {epoch}, best {} {} at epoch {}{restored}",
                outcome.monitor.name(),
                outcome.best,
                outcome.best_epoch
            ),
            None => eprintln!(
                "early_stopping: never stopped, best {} {} at epoch {}{restored}",
                outcome.monitor.name(),
                outcome.best,
                outcome.best_epoch
            ),
        }
    }
}

/// Runs `tinytrain train --experiment NAME`.
pub fn execute(name: &str, out: Option<&Path>, quiet: bool) -> anyhow::Result<()> {
    let out = out.map_or_else(|| default_dir(name), Path::to_path_buf);
    let dir = RunDir::create(&out)?;
    let epochs = by_name(name).map_or(0, |e| e.epochs);
    let mut printer = Printer {
        dir,
        epochs,
        quiet,
        failure: None,
    };
    let (experiment, summary, _) = run_experiment(name, &mut printer)?;
    if let Some(e) = printer.failure {
        return Err(e);
    }
    if !quiet {
        eprintln!(
            "experiment {}: {} training, {} validation rows, best epoch {}; saved the run to {}",
            experiment.name,
            summary.rows.train,
            summary.rows.validation,
            summary.best_epoch,
            printer.dir.path().display()
        );
    }
    Ok(())
}
