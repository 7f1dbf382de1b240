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
use tinytrain::early_stop;
use tinytrain::network::Mlp;
use tinytrain::record::EpochRecord;
use tinytrain::spec::Plan;
use tinytrain_experiments::{by_name, run, Experiment, NoFault, Observer, Summary, ALL};

use crate::memory::VecMemory;
use crate::options::TrainArgs;
use crate::pipeline::{self, Noticed};
use crate::run_dir::RunDir;
use crate::train_cmd;
use crate::weights::Weights;

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
) -> anyhow::Result<(Experiment, Summary, Weights)> {
    let experiment = by_name(name).ok_or_else(|| {
        anyhow!(
            "no experiment called {name:?} (known: {})",
            names().join(", ")
        )
    })?;
    // A host's memory: Vecs sized by the plan (a firmware uses the experiment's `Workspace`).
    let plan = Plan::of(experiment.layers).map_err(|e| anyhow!("{e:?}"))?;
    let mut memory = VecMemory::try_for_run(
        &plan,
        &experiment.config,
        tinytrain::spec::frozen_params(experiment.layers, experiment.config.freeze as usize),
    )?;
    // Early stopping's snapshot keeps the model: parameters and batch-norm statistics.
    let mut snapshot = vec![0.0; experiment.snapshot_len(plan.params + plan.stats)];
    let mut rows = vec![0u32; experiment.train_capacity()];
    let summary = run::<tinytrain::train::Runtime, _, _, _>(
        &experiment,
        NoFault,
        memory.buffers(),
        &mut rows,
        &mut snapshot,
        observer,
    )
    .map_err(|e| anyhow!("experiment {name}: {e}"))?;
    // The trained model (parameters and batch-norm statistics), read through the network that
    // owns it (seed irrelevant: the initialisation is overwritten).
    let buffers = memory.buffers();
    let trained = (buffers.params.to_vec(), buffers.stats.to_vec());
    let mut net = Mlp::new(experiment.layers, memory.buffers(), 0)
        .map_err(|e| anyhow!("experiment {name}: {e}"))?;
    net.params_mut().copy_from_slice(&trained.0);
    net.stats_mut().copy_from_slice(&trained.1);
    Ok((experiment, summary, Weights::of(&net)))
}

/// What `train --experiment` does with a run as it goes: what `train`'s observer does.
struct Printer {
    dir: RunDir,
    epochs: u32,
    quiet: bool,
    records: Vec<EpochRecord>,
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
    fn epoch(&mut self, record: &EpochRecord) -> Result<(), std::convert::Infallible> {
        self.records.push(*record);
        let result = self.dir.append(record).and_then(|()| {
            if self.quiet {
                return Ok(());
            }
            writeln!(std::io::stdout().lock(), "{}", record.line(self.epochs))
                .context("cannot write to stdout")
        });
        self.keep(result);
        Ok(())
    }

    fn event(&mut self, detected: u32, event: &Event) -> Result<(), std::convert::Infallible> {
        let noticed = Noticed {
            detected,
            event: *event,
        };
        let result = self.dir.append_event(&noticed.to_json());
        self.keep(result);
        if !self.quiet {
            eprintln!("epoch {detected}: {event}");
        }
        Ok(())
    }

    fn early_stop(
        &mut self,
        outcome: &early_stop::Outcome,
    ) -> Result<(), std::convert::Infallible> {
        let last = outcome.stopped_epoch.unwrap_or(self.epochs);
        let result = self
            .dir
            .append_event(&pipeline::early_stop_json(outcome, last));
        self.keep(result);
        if !self.quiet {
            eprintln!("{outcome}");
        }
        Ok(())
    }
}

/// Runs `tinytrain train --experiment NAME` (with `args`' `--out`, `--quiet`, `--no-plot`).
pub fn execute(name: &str, args: &TrainArgs) -> anyhow::Result<()> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::run_dir::fresh(default_dir(name)));
    let mut dir = RunDir::create(&out, args.force, &[])?;
    let experiment = by_name(name);
    if let (Some(logdir), Some(e)) = (&args.tensorboard, &experiment) {
        dir.tensorboard(logdir)?;
        dir.write_hparams(&serde_json::json!({
            "experiment": e.name,
            "epochs": e.epochs,
            "seed": e.seed,
            "validation_fraction": e.validation_fraction,
            "standardize": e.standardize,
            "layers": e.layers,
            "head": e.head,
            "train_config": e.config,
            "early_stopping": e.early_stopping,
        }))?;
    }
    let epochs = experiment.map_or(0, |e| e.epochs);
    let mut printer = Printer {
        dir,
        epochs,
        quiet: args.quiet,
        records: Vec::new(),
        failure: None,
    };
    let (experiment, summary, weights) = run_experiment(name, &mut printer)?;
    if let Some(e) = printer.failure {
        return Err(e);
    }
    if !args.quiet {
        eprintln!(
            "experiment {}: {} training, {} validation rows, best epoch {}",
            experiment.name, summary.rows.train, summary.rows.validation, summary.best_epoch,
        );
    }
    train_cmd::finish(
        &printer.dir,
        &weights,
        printer.records,
        summary.divergence,
        args,
    )
}
