//! `tinytrain train`: train on a CSV file, print one line per epoch, and save the run.
//!
//! stdout gets exactly one line per epoch (`Epoch 3/30 | Train Loss: ... | Val Acc: ...`), so it can
//! be piped or compared; everything else (the setup summary, the progress bar, where the files went)
//! goes to stderr: also one line per diagnosis event (overfitting, plateau, …, see
//! [`tinytrain::diagnose`]) and one when early stopping ends the run. At the end the curves are drawn
//! into the run directory (`curves.png`, `curves.svg`; `--no-plot` skips them).
//!
//! After every epoch the trainer's checkpoint goes to `checkpoint.bin`; `--resume RUN_DIR` continues
//! such a run bit-identically to an uninterrupted one (see [`ResumeRun`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use tinytrain::record::EpochRecord;
use tinytrain::train::DivergenceStats;

use crate::anomaly::{self, Threshold};
use crate::csv_data::Task;
use crate::manifest::{Manifest, WeightsInfo};
use crate::memory::{format_bytes, VecMemory};
use crate::options::{TrainArgs, TrainSpec};
use crate::pipeline::{self, Noticed, Observer, Resume, Setup};
use crate::plot;
use crate::progress::Progress;
use crate::run_dir::{self, RunDir};
use crate::targets;
use crate::weights::{self, Weights};
use tinytrain::early_stop;
use tinytrain::spec::Layer;

/// Runs `tinytrain train`.
pub fn execute(args: &TrainArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.experiment {
        return crate::experiment_cmd::execute(name, args);
    }
    if let Some(board) = &args.device {
        return crate::device::execute(args, board);
    }
    if let Some(port) = &args.port {
        return crate::device::execute_on_port(args, port);
    }
    if args.stream {
        bail!("--stream sends the training rows to a device: name it with --device BOARD (built and run here; --build-only for a board you flash), or --port PATH (a board already running the stream firmware)");
    }
    let resume = args
        .resume
        .as_deref()
        .map(|dir| ResumeRun::read(dir, args))
        .transpose()?;
    if let Some(resume) = &resume {
        if resume.is_complete() {
            eprintln!(
                "{} has trained all {} epochs already: nothing to do (--epochs N trains it on to N)",
                resume.dir.display(),
                resume.spec.epochs
            );
            return Ok(());
        }
    }
    let (spec, out) = match &resume {
        Some(resume) => (resume.spec.clone(), resume.dir.clone()),
        None => {
            let spec = args.spec()?;
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| run_dir::fresh(run_dir::default_dir(&spec.data, spec.seed)));
            (spec, out)
        }
    };
    let inputs = [Some(spec.data.clone()), spec.init.clone()]
        .into_iter()
        .flatten()
        .collect();
    let mut reporter = Reporter {
        out,
        force: args.force,
        inputs,
        quiet: args.quiet,
        epochs: spec.epochs,
        run: None,
        progress: None,
        train_rows: 0,
        resume: resume.as_ref().map(|r| r.files.clone()),
        tensorboard: args.tensorboard.clone(),
    };
    let table = pipeline::load_table(&spec)?;
    let setup = pipeline::prepare(&spec, &table)?;
    if let Some(resume) = &resume {
        if resume.train_rows.as_ref() != Some(&setup.train_rows) {
            bail!(
                "cannot resume {}: the split of {} differs from the run's (has the data file changed?)",
                resume.dir.display(),
                table.path.display()
            );
        }
    }
    let trained = pipeline::train_from(&setup, &mut reporter, resume.as_ref().map(|r| &r.resume))?;
    if let Some(progress) = &reporter.progress {
        progress.finish();
    }
    let mut run = reporter
        .run
        .context("internal error: the run directory was never created")?;
    // The manifest now says which epoch's weights the run saved.
    let last_epoch = trained.records.last().map_or(0, |r| r.epoch);
    let mut manifest = Manifest::of(&setup);
    manifest.weights = Some(WeightsInfo::of(last_epoch, trained.early_stop.as_ref()));
    run.write_manifest(&manifest)?;
    let weights = trained.weights;
    if setup.is_autoencoder() {
        let threshold = Threshold::of(&setup, &weights)?;
        let mut json = serde_json::to_vec_pretty(&threshold)?;
        json.push(b'\n');
        run.write_file(anomaly::THRESHOLD, &json)?;
        if !args.quiet {
            eprintln!("{}", threshold_line(&threshold));
        }
    }
    if let Some(per_target) = targets::of_run(&setup, &weights)? {
        let mut json = serde_json::to_vec_pretty(&per_target)?;
        json.push(b'\n');
        run.write_file(targets::FILE, &json)?;
        if !args.quiet {
            eprintln!("{per_target} ({})", targets::FILE);
        }
    }
    finish(&run, &weights, trained.records, trained.divergence, args)
}

/// E.g. `anomaly threshold 0.412 (the 0.95 quantile of 57 validation rows' reconstruction errors);
/// on held-out rows: precision 91.2%, recall 80.4% (57 normal, 212 anomalies)`.
fn threshold_line(t: &Threshold) -> String {
    let mut line = format!(
        "anomaly threshold {:.4} (the {} quantile of {} validation rows' reconstruction errors, \
         median {:.4}); written to {}",
        t.threshold,
        t.quantile,
        t.validation_rows,
        t.median_validation_error,
        anomaly::THRESHOLD
    );
    if let Some(s) = &t.scores {
        let percent = |v: Option<f32>| v.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
        line.push_str(&format!(
            "\non held-out rows, error > threshold flags {} of {} anomalies and {} of {} normal \
             rows: precision {}, recall {}",
            s.true_positives,
            s.anomaly_rows,
            s.false_positives,
            s.normal_rows,
            percent(s.precision),
            percent(s.recall)
        ));
    }
    line
}

/// The end of every training run, from a CSV or an experiment: `weights.json`, the curves (unless
/// `--no-plot`), what the divergence guard skipped, and where the run went.
pub fn finish(
    run: &RunDir,
    weights: &Weights,
    records: Vec<EpochRecord>,
    guard: DivergenceStats,
    args: &TrainArgs,
) -> anyhow::Result<()> {
    run.write_weights(run_dir::WEIGHTS, weights)?;
    if !args.no_plot {
        let curves = plot::Run {
            name: plot::run_name(run.path()),
            records,
        };
        plot::write(
            &[curves],
            &run.path().join(plot::CURVES),
            &plot::PlotOptions::default(),
        )?;
    }
    if !guard.is_clean() && !args.quiet {
        eprintln!(
            "the divergence guard skipped {} training samples ({} non-finite input rows, {} non-finite losses) and {} optimiser steps (non-finite gradients)",
            guard.skipped_samples(),
            guard.bad_inputs,
            guard.bad_losses,
            guard.skipped_steps
        );
    }
    if !args.quiet {
        eprintln!("saved the run to {}", run.path().display());
    }
    Ok(())
}

/// What `--resume RUN_DIR` reads from a run directory, checked before anything is trained.
#[derive(Debug)]
pub struct ResumeRun {
    /// The run directory.
    pub dir: PathBuf,
    /// The manifest's options, with `--epochs` as the new total.
    pub spec: TrainSpec,
    /// The checkpoint and the records of its epochs.
    pub resume: Resume,
    /// The lines of the files that are kept (those of the epochs up to the checkpoint).
    pub files: KeptLines,
    /// The manifest's training rows, checked against the split of the data as read now.
    pub train_rows: Option<Vec<u32>>,
}

/// Lines of the run's files up to the checkpoint's epoch.
#[derive(Clone, Debug, Default)]
pub struct KeptLines {
    /// `metrics.jsonl`.
    pub jsonl: Vec<String>,
    /// `metrics.csv`, without its header.
    pub csv: Vec<String>,
    /// `events.jsonl`: the events detected up to the checkpoint's epoch.
    pub events: Vec<String>,
}

impl ResumeRun {
    /// `true` when the checkpoint is at the requested last epoch and the metrics on disk end there
    /// too: resuming would train nothing and rewrite the files as they are, so it is not done.
    pub fn is_complete(&self) -> bool {
        let on_disk = std::fs::read_to_string(self.dir.join(run_dir::METRICS_JSONL))
            .map_or(0, |text| text.lines().count());
        self.files.jsonl.len() == self.spec.epochs as usize && on_disk == self.files.jsonl.len()
    }

    /// Reads and checks `dir`: its manifest (the options given on the command line must agree with
    /// it, except `--epochs`, the new total), its checkpoint (magic, version, length, CRC) and its
    /// metrics up to the checkpoint's epoch (later lines, from an epoch that had not been
    /// checkpointed, are dropped).
    pub fn read(dir: &Path, args: &TrainArgs) -> anyhow::Result<Self> {
        let cannot_read = |path: &Path| {
            format!(
                "cannot resume {}: cannot read {}",
                dir.display(),
                path.display()
            )
        };
        let manifest_path = dir.join(run_dir::MANIFEST);
        let text =
            std::fs::read_to_string(&manifest_path).with_context(|| cannot_read(&manifest_path))?;
        let manifest: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", manifest_path.display()))?;
        let config = manifest.get("config").cloned().unwrap_or_default();
        let mut spec: TrainSpec = serde_json::from_value(config.clone()).with_context(|| {
            format!(
                "{} has no readable `config` (a manifest of another version?)",
                manifest_path.display()
            )
        })?;
        check_agreement(args, &spec, &config, &manifest_path)?;
        if let Some(epochs) = args.epochs {
            // The cosine schedule spans the run's epochs: another total would have given the epochs
            // already trained other rates, so the resumed run would be no run ever started.
            if spec.schedule == crate::options::LrSchedule::Cosine && epochs != spec.epochs {
                bail!(
                    "cannot resume {} to --epochs {epochs}: its cosine schedule spans its {} epochs \
                     (resume with --epochs {} to finish it, or start a new run)",
                    dir.display(),
                    spec.epochs,
                    spec.epochs
                );
            }
            spec.epochs = epochs;
        }
        spec.validate()?;
        let train_rows = serde_json::from_value(manifest["split"]["train_rows"].clone()).ok();

        let checkpoint_path = dir.join(run_dir::CHECKPOINT);
        let checkpoint =
            std::fs::read(&checkpoint_path).with_context(|| cannot_read(&checkpoint_path))?;
        let header = tinytrain::checkpoint::verify(&checkpoint)
            .map_err(|e| anyhow!("cannot resume from {}: {e}", checkpoint_path.display()))?;
        let done = header.epoch as usize;
        if header.epoch > spec.epochs {
            bail!(
                "{} has trained {done} epochs already; --epochs {} asks for fewer",
                dir.display(),
                spec.epochs
            );
        }

        let read_lines = |name: &str| -> anyhow::Result<Vec<String>> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot resume: cannot read {}", path.display()))?;
            Ok(text.lines().map(str::to_owned).collect())
        };
        let mut jsonl = read_lines(run_dir::METRICS_JSONL)?;
        if jsonl.len() < done {
            bail!(
                "cannot resume: {} holds {} epochs, the checkpoint is at epoch {done}",
                dir.join(run_dir::METRICS_JSONL).display(),
                jsonl.len()
            );
        }
        jsonl.truncate(done);
        let records = jsonl
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let record: EpochRecord = serde_json::from_str(line)
                    .with_context(|| format!("{} line {}", run_dir::METRICS_JSONL, i + 1))?;
                if record.epoch as usize != i + 1 {
                    bail!(
                        "{} line {} is epoch {}",
                        run_dir::METRICS_JSONL,
                        i + 1,
                        record.epoch
                    );
                }
                Ok(record)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let csv: Vec<String> = read_lines(run_dir::METRICS_CSV)?
            .into_iter()
            .skip(1)
            .take(done)
            .collect();
        if csv.len() < done {
            bail!(
                "cannot resume: {} holds {} epochs, the checkpoint is at epoch {done} (epochs were lost)",
                dir.join(run_dir::METRICS_CSV).display(),
                csv.len()
            );
        }
        // Every run writes events.jsonl, empty or not: a missing one lost its events.
        let events = read_lines(run_dir::EVENTS_JSONL)?
            .into_iter()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("detected")?.as_u64())
                    .is_some_and(|detected| detected <= u64::from(header.epoch))
            })
            .collect();
        Ok(ResumeRun {
            dir: dir.to_path_buf(),
            spec,
            resume: Resume {
                checkpoint,
                records,
            },
            files: KeptLines { jsonl, csv, events },
            train_rows,
        })
    }
}

/// Every option given on the command line (that is, differing from its default) must have the
/// run's value; `--epochs` is the new total and is not compared.
fn check_agreement(
    args: &TrainArgs,
    run: &TrainSpec,
    config: &serde_json::Value,
    manifest: &Path,
) -> anyhow::Result<()> {
    let given = serde_json::to_value(args.spec()?)?;
    let defaults = serde_json::to_value(TrainSpec::default())?;
    let mut conflicts = Vec::new();
    if let Some(given) = given.as_object() {
        for (key, value) in given {
            // A flag the manifest leaves out when off is off.
            let off = serde_json::Value::Bool(false);
            let run_value = match config.get(key) {
                Some(v) => v,
                None if value.is_boolean() => &off,
                None => &serde_json::Value::Null,
            };
            if key == "epochs" || Some(value) == defaults.get(key) || value == run_value {
                continue;
            }
            if key == "data" && same_file(&args.data, &run.data) {
                continue;
            }
            conflicts.push(format!(
                "--{} {value} (the run has {run_value})",
                key.replace('_', "-")
            ));
        }
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    bail!(
        "--resume: options conflict with the run's ({}): {}; leave them out to use the run's",
        manifest.display(),
        conflicts.join(", ")
    )
}

/// Two data paths that name the same file (as `--data` finds it).
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        crate::csv_data::locate(p)
            .ok()
            .and_then(|found| found.canonicalize().ok())
    };
    matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

/// The observer of `tinytrain train`: files, stdout lines, progress bar.
struct Reporter {
    out: PathBuf,
    /// `--force`: replace a run already in `out`.
    force: bool,
    /// The files the run reads, which must not be inside a directory `--force` replaces.
    inputs: Vec<PathBuf>,
    quiet: bool,
    epochs: u32,
    /// Created at the start of training, so that bad input leaves no directory behind.
    run: Option<RunDir>,
    progress: Option<Progress>,
    train_rows: usize,
    /// `--resume`: the kept lines of the run's files (the directory is reopened, not recreated).
    resume: Option<KeptLines>,
    /// `--tensorboard DIR`.
    tensorboard: Option<PathBuf>,
}

impl Observer for Reporter {
    fn start(&mut self, setup: &Setup<'_>, initial: &Weights) -> anyhow::Result<()> {
        if !self.quiet {
            eprintln!("{}", describe(setup));
            if setup.skips_last_sample() {
                eprintln!("{}", skipped_sample_note(setup));
            }
            for note in setup_notes(setup) {
                eprintln!("{note}");
            }
        }
        let done = self.resume.as_ref().map_or(0, |kept| kept.jsonl.len());
        let mut run = match &self.resume {
            Some(kept) => RunDir::resume(&self.out, &kept.jsonl, &kept.csv, &kept.events)?,
            None => {
                let inputs: Vec<&Path> = self.inputs.iter().map(PathBuf::as_path).collect();
                let run = RunDir::create(&self.out, self.force, &inputs)?;
                run.write_weights(run_dir::INIT_WEIGHTS, initial)?;
                run
            }
        };
        if let Some(logdir) = &self.tensorboard {
            run.tensorboard(logdir)?;
        }
        // Resumed: the manifest as an uninterrupted run of the new total would have written it.
        run.write_manifest(&Manifest::of(setup))?;
        self.run = Some(run);
        self.train_rows = setup.train_rows.len();
        let total = u64::from(self.epochs) * self.train_rows as u64;
        let progress = Progress::new(total, "samples", !self.quiet);
        progress.set_position(done as u64 * self.train_rows as u64);
        progress.set_message(format!("epoch {}/{}", done + 1, self.epochs));
        self.progress = Some(progress);
        Ok(())
    }

    fn wants_checkpoints(&self) -> bool {
        true
    }

    fn checkpoint(&mut self, _epoch: u32, bytes: &[u8]) -> anyhow::Result<()> {
        match &self.run {
            Some(run) => run.write_checkpoint(bytes),
            None => Ok(()),
        }
    }

    fn progress(&mut self, epoch: u32, done: usize) {
        if let Some(progress) = &self.progress {
            let before = u64::from(epoch.saturating_sub(1));
            progress.set_position(before * self.train_rows as u64 + done as u64);
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

    fn early_stop(&mut self, outcome: &early_stop::Outcome) -> anyhow::Result<()> {
        let last = outcome.stopped_epoch.unwrap_or(self.epochs);
        if let Some(run) = &mut self.run {
            run.append_event(&pipeline::early_stop_json(outcome, last))?;
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

/// The note that an epoch's last mini-batch, one sample, is skipped ([`Setup::skips_last_sample`]).
pub fn skipped_sample_note(setup: &Setup<'_>) -> String {
    let (rows, batch) = (setup.train_rows.len(), setup.config.batch_size);
    format!(
        "note: {rows} training rows in batches of {batch} leave 1 row for the last batch of each \
         epoch; it is skipped, as batch norm has no variance over a single sample (PyTorch's \
         BatchNorm1d raises on one; another --batch avoids it)"
    )
}

/// What `--init`, `--freeze` and `--task autoencoder` changed, one line each.
pub fn setup_notes(setup: &Setup<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    let parametrised: Vec<&Layer> = setup.layers.iter().filter(|l| l.params() > 0).collect();
    let name = |i: usize| {
        parametrised
            .get(i)
            .map_or_else(String::new, |l| layer_name(l))
    };
    let span = |range: std::ops::Range<usize>| {
        let names: Vec<String> = range
            .clone()
            .map(|i| format!("{i} ({})", name(i)))
            .collect();
        format!(
            "layer{} {}",
            if range.len() == 1 { "" } else { "s" },
            names.join(", ")
        )
    };
    if let (Some(path), Some(weights)) = (&setup.spec.init, &setup.init) {
        let n = setup.init_layers;
        let mut note = format!("--init {}: {} from the file", path.display(), span(0..n));
        if n < parametrised.len() {
            let file = weights.entries();
            let theirs = file.get(n).map_or("none".into(), |e| e.text());
            note.push_str(&format!(
                "; {} initialised from seed {} (the file's layer {n} is {theirs})",
                span(n..parametrised.len()),
                setup.spec.seed
            ));
        }
        if weights
            .about
            .as_ref()
            .is_some_and(|a| a.normalization.is_some())
            && setup.features.is_some()
        {
            note.push_str("; inputs standardised with the file's statistics, not re-fitted");
        }
        notes.push(note);
    }
    if let Some(&last) = setup.spec.freeze.last() {
        let frozen = setup.frozen_params();
        let bytes = |frozen: usize| {
            VecMemory::run_bytes(&setup.plan, &setup.config, frozen).unwrap_or(0) as u64
        };
        notes.push(format!(
            "--freeze: {} frozen, {} of {} parameters train; training RAM {} instead of {} \
             (no gradients or optimiser state for the frozen layers)",
            span(0..last + 1),
            setup.plan.params - frozen,
            setup.plan.params,
            format_bytes(bytes(frozen)),
            format_bytes(bytes(0)),
        ));
    }
    if let Some(auto) = &setup.spec.autoencoder {
        let mut note = format!(
            "--task autoencoder: the network reconstructs the {} standardised features; a row's \
             error is its loss, {:?} averaged over the features",
            setup.table.width(),
            setup.head
        );
        if let Some(normal) = &auto.normal {
            note.push_str(&format!(
                "; trained on label {normal} only, {} rows of the other classes held out as \
                 anomalies",
                setup.anomaly_rows.len()
            ));
        }
        notes.push(note);
    }
    notes
}

/// E.g. `dense 4→16`, `batch norm 16`.
fn layer_name(layer: &Layer) -> String {
    match *layer {
        Layer::Dense { inputs, outputs } => format!("dense {inputs}→{outputs}"),
        Layer::BatchNorm { features } => format!("batch norm {features}"),
        _ => String::new(),
    }
}

/// One line about the data, the network and the split, e.g.
/// `iris.csv: 150 rows × 4 features, 3 classes | network 4→64→3 (515 parameters, SoftmaxCrossEntropy)
/// | 120 training, 30 validation rows`.
pub fn describe(setup: &Setup<'_>) -> String {
    let table = setup.table;
    let target = match table.task() {
        _ if setup.is_autoencoder() => "autoencoder".to_string(),
        Task::Classification => format!("{} classes", table.classes()),
        Task::Regression if table.target_width() > 1 => format!(
            "regression on {} targets ({}; errors per epoch in standard deviations)",
            table.target_width(),
            table
                .labels
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Task::Regression => format!("regression on '{}'", table.label().name),
    };
    format!(
        "{}: {} rows × {} features, {target} | network {} ({} parameters, {:?}) | {} training, {} validation rows",
        table.path.display(),
        table.rows(),
        table.width(),
        weights::shape(&setup.layers),
        setup.plan.params,
        setup.head,
        setup.train_rows.len(),
        setup.val_rows.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train(args: &[&str]) -> anyhow::Result<()> {
        let argv = ["tinytrain", "train", "--quiet", "--no-plot"];
        crate::cli::run(argv.iter().chain(args))
    }

    #[test]
    fn a_resumed_run_equals_an_uninterrupted_one_and_damage_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let (full, part) = (path("full"), path("part"));
        let common = ["--data", "data/iris.csv", "--seed", "5", "--batch", "8"];
        fn with<'s>(common: &[&'s str], extra: &[&'s str]) -> Vec<&'s str> {
            [common, extra].concat()
        }
        train(&with(&common, &["--epochs", "7", "--out", &full])).unwrap();
        train(&with(&common, &["--epochs", "3", "--out", &part])).unwrap();
        // Options that agree with the manifest are accepted; --epochs is the new total.
        train(&with(&common, &["--epochs", "7", "--resume", &part])).unwrap();
        for name in [
            "metrics.jsonl",
            "metrics.csv",
            "events.jsonl",
            "weights.json",
            "manifest.json",
            "checkpoint.bin",
        ] {
            let read = |run: &str| std::fs::read(Path::new(run).join(name)).unwrap();
            assert!(read(&full) == read(&part), "{name} differs");
        }
        // Nothing left to do, then conflicting options.
        let message = format!(
            "{:#}",
            train(&["--resume", &part, "--epochs", "5"]).unwrap_err()
        );
        assert!(message.contains("asks for fewer"), "{message}");
        let message = format!(
            "{:#}",
            train(&["--resume", &part, "--seed", "6"]).unwrap_err()
        );
        assert!(
            message.contains("conflict") && message.contains("--seed 6 (the run has 5)"),
            "{message}"
        );
        // A damaged checkpoint: one flipped bit; a truncated one; not a checkpoint at all.
        let checkpoint = Path::new(&part).join(run_dir::CHECKPOINT);
        let good = std::fs::read(&checkpoint).unwrap();
        for (bytes, expected) in [
            (
                {
                    let mut b = good.clone();
                    b[good.len() / 2] ^= 0x04;
                    b
                },
                "corrupted checkpoint",
            ),
            (good[..good.len() - 7].to_vec(), "truncated checkpoint"),
            (b"{\"layers\":[]}".to_vec(), "bad magic"),
        ] {
            std::fs::write(&checkpoint, &bytes).unwrap();
            let message = format!(
                "{:#}",
                train(&["--resume", &part, "--epochs", "9"]).unwrap_err()
            );
            assert!(message.contains(expected), "{message}");
        }
        std::fs::remove_file(&checkpoint).unwrap();
        let message = format!("{:#}", train(&["--resume", &part]).unwrap_err());
        assert!(message.contains("checkpoint.bin"), "{message}");
    }

    /// A regression whose target has rows of 1e30: with `--normalize none`, their squared error
    /// overflows to infinity.
    fn overflowing_csv(dir: &Path) -> String {
        let mut text = String::from("x,y\n");
        for i in 0..60 {
            let y = if i % 6 == 0 {
                "1e30".to_string()
            } else {
                format!("{}", i % 7)
            };
            text.push_str(&format!("{},{y}\n", i as f32 / 10.0));
        }
        let path = dir.join("overflow.csv");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    #[test]
    fn an_infinite_loss_is_skipped_reported_and_can_stop_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let csv = overflowing_csv(dir.path());
        for (policy, epochs) in [("skip", 4), ("stop", 1), ("reduce-lr", 4)] {
            let out = dir.path().join(policy);
            train(&[
                "--data",
                &csv,
                "--task",
                "regression",
                "--normalize",
                "none",
                "--hidden",
                "8",
                "--epochs",
                "4",
                "--on-divergence",
                policy,
                "--out",
                out.to_str().unwrap(),
            ])
            .unwrap();
            let metrics = std::fs::read_to_string(out.join(run_dir::METRICS_JSONL)).unwrap();
            assert_eq!(metrics.lines().count(), epochs, "{policy}: {metrics}");
            for line in metrics.lines() {
                let record: EpochRecord = serde_json::from_str(line).unwrap();
                assert!(record.train_loss.is_finite(), "{policy}: {line}");
            }
            let events = std::fs::read_to_string(out.join(run_dir::EVENTS_JSONL)).unwrap();
            let first: serde_json::Value =
                serde_json::from_str(events.lines().next().unwrap()).unwrap();
            assert_eq!(first["event"], "divergence", "{policy}: {events}");
            assert_eq!(first["non_finite"], true);
            assert_eq!(first["detected"], 1);
            // Every parameter finite (a non-finite one would be written as null and not parse).
            let weights = Weights::read(&out.join(run_dir::WEIGHTS)).unwrap();
            assert!(weights.is_finite(), "{policy}");
            if policy == "reduce-lr" {
                let last: EpochRecord =
                    serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
                assert!(last.lr < 1e-3, "{policy}: {last:?}");
            }
        }
    }
}
