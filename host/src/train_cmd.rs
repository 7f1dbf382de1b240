//! `tinytrain train`: train on a CSV file, print one line per epoch, and save the run.
//!
//! stdout gets exactly one line per epoch (`Epoch 3/30 | Train Loss: ... | Val Acc: ...`), so it can
//! be piped or compared; everything else (the setup summary, the progress bar, where the files went)
//! goes to stderr: also one line per diagnosis event (overfitting, plateau, …, see
//! [`tinytrain::diagnose`]) and one when early stopping ends the run. At the end the curves are drawn
//! into the run directory (`curves.png`, `curves.svg`; `--no-plot` skips them).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use tinytrain::record::EpochRecord;

use crate::csv_data::Task;
use crate::manifest::Manifest;
use crate::options::TrainArgs;
use crate::pipeline::{self, EarlyStopOutcome, Noticed, Observer, Setup};
use crate::plot;
use crate::progress::Progress;
use crate::run_dir::{self, RunDir};
use crate::weights::{self, Weights};

/// Runs `tinytrain train`.
pub fn execute(args: &TrainArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.experiment {
        return crate::experiment_cmd::execute(name, args.out.as_deref(), args.quiet);
    }
    let spec = args.spec()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| run_dir::default_dir(&spec.data, spec.seed));
    let mut reporter = Reporter {
        out,
        quiet: args.quiet,
        epochs: spec.epochs,
        run: None,
        progress: None,
        train_rows: 0,
    };
    let trained = pipeline::run(&spec, &mut reporter)?;
    if let Some(progress) = &reporter.progress {
        progress.finish();
    }
    let run = reporter
        .run
        .context("internal error: the run directory was never created")?;
    run.write_weights(run_dir::WEIGHTS, &trained.weights)?;
    if !args.no_plot {
        let curves = plot::Run {
            name: plot::run_name(run.path()),
            records: trained.records,
        };
        plot::write(
            &[curves],
            &run.path().join(plot::CURVES),
            &plot::PlotOptions::default(),
        )?;
    }
    if !args.quiet {
        eprintln!("saved the run to {}", run.path().display());
    }
    Ok(())
}

/// The observer of `tinytrain train`: files, stdout lines, progress bar.
struct Reporter {
    out: PathBuf,
    quiet: bool,
    epochs: u32,
    /// Created at the start of training, so that bad input leaves no directory behind.
    run: Option<RunDir>,
    progress: Option<Progress>,
    train_rows: usize,
}

impl Observer for Reporter {
    fn start(&mut self, setup: &Setup<'_>, initial: &Weights) -> anyhow::Result<()> {
        if !self.quiet {
            eprintln!("{}", describe(setup));
        }
        let run = RunDir::create(&self.out)?;
        run.write_manifest(&Manifest::of(setup))?;
        run.write_weights(run_dir::INIT_WEIGHTS, initial)?;
        self.run = Some(run);
        self.train_rows = setup.train_rows.len();
        let total = u64::from(self.epochs) * self.train_rows as u64;
        let progress = Progress::new(total, "samples", !self.quiet);
        progress.set_message(format!("epoch 1/{}", self.epochs));
        self.progress = Some(progress);
        Ok(())
    }

    fn progress(&mut self, epoch: u32, done: usize) {
        if let Some(progress) = &self.progress {
            progress.set_position(u64::from(epoch) * self.train_rows as u64 + done as u64);
        }
    }

    fn epoch(&mut self, record: &EpochRecord) -> anyhow::Result<()> {
        if let Some(run) = &mut self.run {
            run.append(record)?;
        }
        if self.quiet {
            return Ok(());
        }
        let line = record.line(self.epochs).to_string();
        let print = || writeln!(std::io::stdout().lock(), "{line}");
        match &self.progress {
            Some(progress) => {
                let next = (record.epoch + 1).min(self.epochs);
                progress.set_message(format!("epoch {next}/{}", self.epochs));
                progress.suspend(print)
            }
            None => print(),
        }
        .context("cannot write to stdout")
    }

    fn event(&mut self, noticed: &Noticed) -> anyhow::Result<()> {
        if let Some(run) = &mut self.run {
            run.append_event(&noticed.to_json())?;
        }
        self.note(&format!("epoch {}: {}", noticed.detected, noticed.event));
        Ok(())
    }

    fn early_stop(&mut self, outcome: &EarlyStopOutcome) -> anyhow::Result<()> {
        let last = outcome.stopped_epoch.unwrap_or(self.epochs);
        if let Some(run) = &mut self.run {
            run.append_event(&outcome.to_json(last))?;
        }
        self.note(&outcome.to_string());
        Ok(())
    }
}

impl Reporter {
    /// A line on stderr, between the progress bar's redraws.
    fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        match &self.progress {
            Some(progress) => progress.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

/// One line about the data, the network and the split, e.g.
/// `iris.csv: 150 rows × 4 features, 3 classes | network 4→64→3 (515 parameters, SoftmaxCrossEntropy)
/// | 120 training, 30 validation rows`.
fn describe(setup: &Setup<'_>) -> String {
    let table = setup.table;
    let target = match table.task() {
        Task::Classification => format!("{} classes", table.classes()),
        Task::Regression => format!("regression on '{}'", table.label.name),
    };
    format!(
        "{}: {} rows × {} features, {target} | network {} ({} parameters, {:?}) | {} training, {} validation rows",
        table.path.display(),
        table.rows(),
        table.width(),
        weights::describe(&setup.dense_shapes()),
        setup.plan.params,
        setup.head,
        setup.train_rows.len(),
        setup.val_rows.len(),
    )
}
