//! `tinytrain sweep`: a grid of `train` options × seeds, each point a normal run directory, spread
//! over a thread pool, then one table of every run and one of each grid point's mean over seeds.
//!
//! A sweep is nothing but `train` runs: every option of `train` means the same here (the fixed
//! options are given as to `train`), a `--grid OPTION=V1;V2` axis names a `train` option by its long
//! name, and each run is exactly `tinytrain train <fixed options> --OPTION=V … --seed=S --out=DIR/NAME
//! --quiet`, parsed by `train`'s own parser and run by [`train_cmd::execute`]. So a run's files are
//! byte-identical to those of that `train` command, and every value is checked by `train`'s rules
//! before the first run starts (a bad one names its axis; nothing is created).
//!
//! Runs are deterministic by seed, so results do not depend on `--jobs` or on the schedule.
//! [`run_all`] is also what `tinytrain accuracy` spreads its runs with.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Command, FromArgMatches, Parser};
use rayon::prelude::*;
use tinytrain::record::EpochRecord;

use crate::accuracy::{Metric, Seeds};
use crate::options::TrainArgs;
use crate::progress::Progress;
use crate::{pipeline, plot, run_dir, train_cmd};

/// Options of `train` whose values may hold commas of their own: their axis values are separated by
/// `;` only (`--grid 'hidden=32;64,32'`). Every other axis takes `;` or `,`.
const OWN_COMMAS: &[&str] = &["hidden", "ignore", "data", "label", "init", "delimiter"];

/// Options of `train` whose values are files: a run's name holds the file's stem.
const PATHS: &[&str] = &["data", "init"];

/// `train` options that are not grid axes: the sweep sets them per run (or has its own).
const NOT_AXES: &[(&str, &str)] = &[
    ("seed", "seeds are the sweep's own axis: --seeds 1..5"),
    (
        "out",
        "--out is the sweep's directory; each run goes into a directory of it",
    ),
    ("quiet", "runs are always quiet"),
    ("no-plot", "give it once, for every run"),
    (
        "tensorboard",
        "give it once: every run writes DIR/<run name>",
    ),
];

/// `train` options a sweep refuses: a sweep starts fresh runs on the host only.
const REFUSED: &[&str] = &[
    "resume",
    "force",
    "experiment",
    "device",
    "chip",
    "probe",
    "no_verify",
    "build_only",
    "plain",
];

/// `tinytrain train`'s options as a clap command (for their names, kinds and parsers).
fn train_command() -> Command {
    TrainArgs::augment_args(Command::new("train"))
}

/// One grid axis: a `train` option (its long name) and the values it takes, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The option's long name, e.g. `lr`, `batch-norm`.
    pub option: String,
    /// The values, as typed (each checked later by `train`'s parser).
    pub values: Vec<String>,
    /// The option is a flag (`--batch-norm`): values are `true` or `false`.
    pub flag: bool,
}

impl FromStr for Axis {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let Some((name, values)) = text.split_once('=') else {
            return Err(format!(
                "'{text}' is not OPTION=V1;V2;… (e.g. 'lr=1e-3;3e-3' or 'hidden=32;64,32')"
            ));
        };
        let option = name.trim().trim_start_matches("--").replace('_', "-");
        if let Some((_, why)) = NOT_AXES.iter().find(|(n, _)| *n == option) {
            return Err(format!("--{option} cannot be a grid axis: {why}"));
        }
        let command = train_command();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(option.as_str()) && !a.is_hide_set())
            .filter(|a| !REFUSED.contains(&a.get_id().as_str()))
            .ok_or_else(|| {
                format!("'{option}' is not an option of train (see tinytrain train --help)")
            })?;
        let separators: &[char] = if OWN_COMMAS.contains(&option.as_str()) {
            &[';']
        } else {
            &[';', ',']
        };
        let values: Vec<String> = values
            .split(separators)
            .map(|v| v.trim().to_string())
            .collect();
        let mut seen = HashSet::new();
        for value in &values {
            if !seen.insert(name_part(&option, value)) {
                return Err(format!(
                    "--grid {option}: '{value}' is given twice (or two values give one run name)"
                ));
            }
        }
        Ok(Axis {
            flag: !arg.get_action().takes_values(),
            option,
            values,
        })
    }
}

impl Axis {
    /// The command-line words that give this axis `value` (a flag: itself or nothing).
    fn words(&self, value: &str) -> anyhow::Result<Vec<OsString>> {
        if !self.flag {
            return Ok(vec![format!("--{}={value}", self.option).into()]);
        }
        match value {
            "true" => Ok(vec![format!("--{}", self.option).into()]),
            "false" => Ok(Vec::new()),
            _ => bail!(
                "--grid {}: '{value}' is not true or false (--{} is a flag)",
                self.option,
                self.option
            ),
        }
    }
}

/// The part of a run's directory name for one axis value: `lr=0.001`, `hidden=64-32`,
/// `data=iris`. Letters, digits and `.+-` stay; a comma becomes `-`, anything else `_`.
fn name_part(option: &str, value: &str) -> String {
    let value = if PATHS.contains(&option) {
        Path::new(value)
            .file_stem()
            .map_or_else(|| value.to_string(), |s| s.to_string_lossy().into_owned())
    } else {
        value.to_string()
    };
    let safe: String = value
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || ".+-".contains(c) => c,
            ',' => '-',
            _ => '_',
        })
        .collect();
    let safe = if safe.is_empty() { "none".into() } else { safe };
    format!("{option}={safe}")
}

/// A `train` option given on the sweep's command line: the same for every run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Given {
    /// clap's id (the field name, `batch_norm`).
    id: String,
    /// Its words, as they will be handed to `train`.
    words: Vec<OsString>,
    /// Where it was on the command line (the order matters to options that override each other).
    index: usize,
}

/// The sweep's own options.
#[derive(Clone, Debug, clap::Args)]
struct SweepOptions {
    /// A grid axis: a train option by its long name and its values, separated by ';' (or ',',
    /// except for options whose values hold commas: hidden, ignore, data, label, init); flags take
    /// true;false. Repeat for more axes; the grid is every combination
    #[arg(long = "grid", value_name = "OPTION=V1;V2")]
    grid: Vec<Axis>,
    /// Seeds of every grid point: a range (both ends included) or a comma-separated list [default: --seed]
    #[arg(long, value_name = "1..5|1,2,3")]
    seeds: Option<Seeds>,
    /// Runs at a time [default: one per core]
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
}

/// `--jobs N`: a whole number ≥ 1 (of `sweep` and `accuracy`).
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{text}' is not a whole number ≥ 1")),
    }
}

/// `tinytrain sweep`'s options: its own (`--grid`, `--seeds`, `--jobs`) and every `train` option,
/// fixed for all runs. Parsed by hand from clap's matches, to keep the `train` options as typed.
#[derive(Clone, Debug)]
pub struct SweepArgs {
    /// The grid's axes, in order.
    pub grid: Vec<Axis>,
    /// `--seeds`.
    pub seeds: Option<Seeds>,
    /// `--jobs` (`None`: one per core).
    pub jobs: Option<usize>,
    /// The `train` options as parsed (`out` is the sweep's directory).
    pub train: TrainArgs,
    /// The `train` options given, as typed.
    given: Vec<Given>,
}

impl FromArgMatches for SweepArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let own = SweepOptions::from_arg_matches(matches)?;
        let train = TrainArgs::from_arg_matches(matches)?;
        let mut given = Vec::new();
        for arg in train_command().get_arguments() {
            let id = arg.get_id().as_str();
            if matches.value_source(id) != Some(ValueSource::CommandLine) {
                continue;
            }
            let long = arg.get_long().unwrap_or(id);
            let words = if arg.get_action().takes_values() {
                matches
                    .get_raw(id)
                    .into_iter()
                    .flatten()
                    .map(|value| {
                        let mut word = OsString::from(format!("--{long}="));
                        word.push(value);
                        word
                    })
                    .collect()
            } else {
                vec![format!("--{long}").into()]
            };
            let index = matches
                .indices_of(id)
                .and_then(|mut i| i.next())
                .unwrap_or(0);
            given.push(Given {
                id: id.to_string(),
                words,
                index,
            });
        }
        given.sort_by_key(|g| g.index);
        Ok(SweepArgs {
            grid: own.grid,
            seeds: own.seeds,
            jobs: own.jobs,
            train,
            given,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for SweepArgs {
    fn augment_args(cmd: Command) -> Command {
        let cmd = TrainArgs::augment_args(SweepOptions::augment_args(cmd))
            .mut_arg("out", |a| {
                a.help("Sweep directory: one run directory per grid point and seed, results.csv and summary.csv [default: runs/sweep-DATA, or runs/sweep-DATA-2, … when taken]")
            })
            .mut_arg("seed", |a| a.help("The seed when --seeds is not given"))
            .mut_arg("quiet", |a| {
                a.help("No line per finished run and no progress bar (the tables are printed)")
            });
        REFUSED
            .iter()
            .fold(cmd, |cmd, id| cmd.mut_arg(*id, |a| a.hide(true)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// The command line of `tinytrain train` for one run, parsed as `tinytrain train` parses it.
#[derive(Parser)]
#[command(name = "tinytrain", no_binary_name = true)]
struct TrainLine {
    #[command(flatten)]
    args: TrainArgs,
}

/// One run of the sweep.
#[derive(Clone, Debug)]
struct Run {
    /// Its value on each axis, as typed.
    values: Vec<String>,
    seed: u64,
    /// Its directory's name inside the sweep's directory.
    name: String,
    /// Its `train` options.
    args: TrainArgs,
}

/// What a finished run scored, read back from its run directory.
#[derive(Clone, Debug, PartialEq)]
struct Score {
    metric: Metric,
    /// The metric at the epoch whose weights the run saved.
    value: f32,
    val_loss: Option<f32>,
    val_acc: Option<f32>,
    val_mae: Option<f32>,
    /// The epoch `weights.json` holds: the last, or the best one restored.
    saved_epoch: u32,
    /// Epochs trained (fewer than `--epochs` when early stopping ended the run).
    epochs: usize,
}

/// A run's outcome.
#[derive(Clone, Debug)]
struct Outcome {
    score: Result<Score, String>,
    seconds: f64,
}

/// Runs `tinytrain sweep`.
pub fn execute(args: &SweepArgs) -> anyhow::Result<()> {
    let out = match &args.train.out {
        Some(out) => out.clone(),
        None => {
            // As train's default, `runs/<data>-seedN`: `runs/sweep-<data>`.
            let name = match (
                &args.train.data.file_stem(),
                args.grid.iter().any(|a| a.option == "data"),
            ) {
                (Some(stem), false) => format!("sweep-{}", stem.to_string_lossy()),
                _ => "sweep".to_string(),
            };
            run_dir::fresh(Path::new("runs").join(name))
        }
    };
    let runs = plan(args, &out)?;
    refuse_occupied(&out)?;
    check_data(&runs)?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let quiet = args.train.quiet;
    if !quiet {
        eprintln!("{}", describe_plan(args, &runs, &out));
    }
    let started = Instant::now();
    let progress = Progress::new(runs.len() as u64, "runs", !quiet);
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let (outcomes, threads) = run_all(args.jobs, runs.len(), |i| {
        let run = &runs[i];
        let start = Instant::now();
        let score = train_cmd::execute(&run.args)
            .and_then(|()| read_score(&out.join(&run.name)))
            .map_err(|e| format!("{e:#}"));
        let outcome = Outcome {
            score,
            seconds: start.elapsed().as_secs_f64(),
        };
        let done = 1 + finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !quiet {
            let line = format!(
                "[{done}/{}] {}: {}",
                runs.len(),
                run.name,
                describe_outcome(&outcome)
            );
            progress.suspend(|| eprintln!("{line}"));
        }
        progress.inc(1);
        Ok(outcome)
    })?;
    progress.finish();
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|e| Outcome {
                score: Err(format!("{e:#}")),
                seconds: 0.0,
            })
        })
        .collect();
    let wall = started.elapsed().as_secs_f64();

    let results = Results::new(&args.grid, &runs, &outcomes);
    run_dir::write_atomic(&out.join(RESULTS_CSV), &results.runs_csv()?)?;
    run_dir::write_atomic(&out.join(SUMMARY_CSV), &results.summary_csv()?)?;
    let seeds = runs.iter().map(|r| r.seed).collect::<HashSet<_>>().len();
    let mut report = results.runs_table(&out);
    if seeds > 1 {
        report.push('\n');
        report.push_str(&results.summary_table());
    }
    write!(std::io::stdout().lock(), "{report}").context("cannot write to stdout")?;
    let failed = outcomes.iter().filter(|o| o.score.is_err()).count();
    eprintln!(
        "{}; results in {} and {}",
        wall_time(runs.len(), wall, threads),
        out.join(RESULTS_CSV).display(),
        out.join(SUMMARY_CSV).display()
    );
    if failed > 0 {
        bail!(
            "{failed} of {} runs failed (their errors are above and in {})",
            runs.len(),
            out.join(RESULTS_CSV).display()
        );
    }
    Ok(())
}

/// `25 runs in 41.2 s on 2 threads`.
pub fn wall_time(runs: usize, seconds: f64, threads: usize) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{runs} run{} in {seconds:.1} s on {threads} thread{}",
        s(runs),
        s(threads)
    )
}

/// The per-run table's file.
pub const RESULTS_CSV: &str = "results.csv";
/// The per-grid-point table's file.
pub const SUMMARY_CSV: &str = "summary.csv";

/// Every run of the sweep, each checked by `train`'s parser and rules, before anything runs: the
/// grid points (the first axis varies slowest), each with every seed.
fn plan(args: &SweepArgs, out: &Path) -> anyhow::Result<Vec<Run>> {
    if let Some(given) = args.given.iter().find(|g| REFUSED.contains(&g.id.as_str())) {
        bail!(
            "--{} does not apply to a sweep (it starts fresh runs on the host; resume or replace a run with train)",
            given.id.replace('_', "-")
        );
    }
    let seed_given = args.given.iter().any(|g| g.id == "seed");
    let seeds = match &args.seeds {
        Some(_) if seed_given => bail!("give --seeds or --seed, not both"),
        Some(seeds) => seeds.0.clone(),
        None => vec![args.train.seed],
    };
    let mut axes = HashSet::new();
    for axis in &args.grid {
        if !axes.insert(&axis.option) {
            bail!(
                "--grid {} is given twice; list all its values in one --grid",
                axis.option
            );
        }
        let id = axis.option.replace('-', "_");
        if args.given.iter().any(|g| g.id == id) {
            bail!(
                "--{} is both fixed and a --grid axis; give it once",
                axis.option
            );
        }
    }
    // Each value alone through train's parser first, so that a bad value is named with its axis;
    // the rules between options (`--momentum` with `--optimizer sgd` only) apply to whole runs.
    for axis in &args.grid {
        for value in &axis.values {
            let words = axis.words(value)?;
            parse_line(args, &words, seeds[0], Path::new("."))
                .with_context(|| format!("--grid {}: '{value}'", axis.option))?;
        }
    }
    let mut points: Vec<Vec<usize>> = vec![Vec::new()];
    for axis in &args.grid {
        points = points
            .into_iter()
            .flat_map(|point| {
                (0..axis.values.len()).map(move |v| [point.as_slice(), &[v]].concat())
            })
            .collect();
    }
    let mut runs = Vec::with_capacity(points.len() * seeds.len());
    for point in &points {
        let values: Vec<String> = args
            .grid
            .iter()
            .zip(point)
            .map(|(axis, &v)| axis.values[v].clone())
            .collect();
        let mut words = Vec::new();
        for (axis, value) in args.grid.iter().zip(&values) {
            words.extend(axis.words(value)?);
        }
        for &seed in &seeds {
            let parts: Vec<String> = args
                .grid
                .iter()
                .zip(&values)
                .map(|(axis, value)| name_part(&axis.option, value))
                .chain(std::iter::once(format!("seed={seed}")))
                .collect();
            let name = parts.join(",");
            let args = parse_run(args, &words, seed, &out.join(&name))
                .with_context(|| format!("run {name}"))?;
            runs.push(Run {
                values: values.clone(),
                seed,
                name,
                args,
            });
        }
    }
    Ok(runs)
}

/// A run's `train` options, parsed and checked as `train` does: [`parse_line`], then the rules
/// between options of [`TrainArgs::spec`].
fn parse_run(
    args: &SweepArgs,
    axis_words: &[OsString],
    seed: u64,
    out: &Path,
) -> anyhow::Result<TrainArgs> {
    let run = parse_line(args, axis_words, seed, out)?;
    run.spec()?;
    Ok(run)
}

/// `tinytrain train <fixed options> <axis words> --seed=S --out=DIR --quiet`, parsed by `train`'s
/// own parser.
fn parse_line(
    args: &SweepArgs,
    axis_words: &[OsString],
    seed: u64,
    out: &Path,
) -> anyhow::Result<TrainArgs> {
    let fixed = args
        .given
        .iter()
        .filter(|g| !["seed", "out", "quiet"].contains(&g.id.as_str()))
        .flat_map(|g| g.words.iter().cloned());
    let mut out_word = OsString::from("--out=");
    out_word.push(out);
    let words: Vec<OsString> = fixed
        .chain(axis_words.iter().cloned())
        .chain([format!("--seed={seed}").into(), out_word, "--quiet".into()])
        .collect();
    let line = TrainLine::try_parse_from(words).map_err(|e| anyhow!("{}", clap_message(&e)))?;
    Ok(line.args)
}

/// The first line of a clap error, without its `error: `.
fn clap_message(error: &clap::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// `train`'s rule for `--out`: a directory that holds files is never written into.
fn refuse_occupied(out: &Path) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("--out {} is a file, not a sweep directory", out.display());
    }
    let occupied = std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        bail!(
            "{} already holds files (another sweep?); choose another --out",
            out.display()
        );
    }
    Ok(())
}

/// Reads every distinct data file the runs use, once, before any run starts.
fn check_data(runs: &[Run]) -> anyhow::Result<()> {
    let mut seen = HashSet::new();
    for run in runs {
        let spec = run.args.spec()?;
        let key = serde_json::json!([
            spec.data,
            spec.label,
            spec.task,
            spec.delimiter,
            spec.ignore,
            spec.drop_missing
        ])
        .to_string();
        if seen.insert(key) {
            pipeline::load_table(&spec)?;
        }
    }
    Ok(())
}

/// The line before the runs start, e.g. `sweep: lr (2) × hidden (2) × seeds 1, 2 = 8 runs into
/// runs/s | lr: 0.001; 0.003 | hidden: 32; 64,32`.
fn describe_plan(args: &SweepArgs, runs: &[Run], out: &Path) -> String {
    let mut seeds: Vec<String> = Vec::new();
    for run in runs {
        let seed = run.seed.to_string();
        if !seeds.contains(&seed) {
            seeds.push(seed);
        }
    }
    let mut text = String::from("sweep: ");
    for axis in &args.grid {
        let _ = write!(text, "{} ({}) × ", axis.option, axis.values.len());
    }
    let _ = write!(
        text,
        "seeds {} = {} runs into {}",
        seeds.join(", "),
        runs.len(),
        out.display()
    );
    for axis in &args.grid {
        let _ = write!(text, " | {}: {}", axis.option, axis.values.join("; "));
    }
    text
}

/// A finished run's line: `val_acc 96.67%, val_loss 0.0912 (30 epochs, 1.2 s)` or `FAILED: …`.
fn describe_outcome(outcome: &Outcome) -> String {
    match &outcome.score {
        Ok(score) => format!(
            "{} {}, val_loss {} ({} epochs, {:.2} s)",
            metric_name(score.metric),
            format_value(score.metric, score.value),
            score.val_loss.map_or("—".into(), |l| format!("{l:.4}")),
            score.epochs,
            outcome.seconds
        ),
        Err(error) => format!("FAILED: {error}"),
    }
}

/// The score of a finished run directory: its records, and from its manifest which epoch's
/// weights it saved.
fn read_score(dir: &Path) -> anyhow::Result<Score> {
    let records = plot::Run::read(dir)?.records;
    let manifest_path = dir.join(run_dir::MANIFEST);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", manifest_path.display()))?;
    let last = records.last().context("the run trained no epoch")?;
    let saved_epoch = manifest["weights"]["epoch"]
        .as_u64()
        .and_then(|e| u32::try_from(e).ok())
        .unwrap_or(last.epoch);
    let record: &EpochRecord = records
        .iter()
        .find(|r| r.epoch == saved_epoch)
        .unwrap_or(last);
    let (metric, value) = match (record.val_acc, record.val_mae) {
        (Some(acc), _) => (Metric::Accuracy, acc),
        (None, Some(mae)) => (Metric::Mae, mae),
        (None, None) => bail!("epoch {} has neither val_acc nor val_mae", record.epoch),
    };
    Ok(Score {
        metric,
        value,
        val_loss: record.val_loss,
        val_acc: record.val_acc,
        val_mae: record.val_mae,
        saved_epoch,
        epochs: records.len(),
    })
}

/// `val_acc` or `val_mae`.
fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Accuracy => "val_acc",
        Metric::Mae => "val_mae",
    }
}

/// `96.67%` for accuracy, `43.10` for MAE.
fn format_value(metric: Metric, value: f32) -> String {
    match metric {
        Metric::Accuracy => format!("{:.2}%", 100.0 * value),
        Metric::Mae => format!("{value:.2}"),
    }
}

/// Better first: accuracy descending, then MAE ascending (a sweep over datasets of both tasks
/// lists each task's runs together), NaN (a diverged run) last. Rounded to 1e-6, so that means of
/// equal accuracies summed in another order tie (and the tie goes to val_loss).
fn metric_key(metric: Metric, value: f64) -> (u8, f64) {
    let rounded = (value * 1e6).round();
    match metric {
        _ if value.is_nan() => (2, 0.0),
        Metric::Accuracy => (0, -rounded),
        Metric::Mae => (1, rounded),
    }
}

/// Lower is better, NaN and absent last.
fn loss_key(loss: Option<f64>) -> f64 {
    loss.filter(|l| !l.is_nan()).unwrap_or(f64::INFINITY)
}

/// One grid point's runs over the seeds.
#[derive(Clone, Debug)]
struct Point {
    values: Vec<String>,
    /// Indices of its runs.
    runs: Vec<usize>,
    metric: Option<Metric>,
    /// Mean and population standard deviation of the metric over the finished runs.
    mean: Option<(f64, f64)>,
    val_loss: Option<(f64, f64)>,
    failed: usize,
}

/// The sweep's outcome, sorted.
struct Results<'a> {
    grid: &'a [Axis],
    runs: &'a [Run],
    outcomes: &'a [Outcome],
    /// Run indices, best first, failed runs last.
    order: Vec<usize>,
    /// Grid points, best mean first.
    points: Vec<Point>,
}

/// Mean and population standard deviation (`ddof = 0`, as scikit-learn's `GridSearchCV` reports
/// `std_test_score`).
fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    Some((mean, variance.sqrt()))
}

impl<'a> Results<'a> {
    fn new(grid: &'a [Axis], runs: &'a [Run], outcomes: &'a [Outcome]) -> Self {
        let key = |i: &usize| {
            let score = outcomes[*i].score.as_ref().ok();
            (
                score.map_or((3, 0.0), |s| metric_key(s.metric, f64::from(s.value))),
                loss_key(score.and_then(|s| s.val_loss).map(f64::from)),
            )
        };
        let mut order: Vec<usize> = (0..runs.len()).collect();
        // Stable: ties keep the grid's order.
        order.sort_by(|a, b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });

        // The grid points in the grid's order, each with its runs (one per seed).
        let mut grouped: Vec<Point> = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            match grouped.iter_mut().find(|p| p.values == run.values) {
                Some(point) => point.runs.push(i),
                None => grouped.push(Point {
                    values: run.values.clone(),
                    runs: vec![i],
                    metric: None,
                    mean: None,
                    val_loss: None,
                    failed: 0,
                }),
            }
        }
        let mut points: Vec<Point> = grouped
            .into_iter()
            .map(|mut point| {
                let scores: Vec<&Score> = point
                    .runs
                    .iter()
                    .filter_map(|&i| outcomes[i].score.as_ref().ok())
                    .collect();
                point.failed = point.runs.len() - scores.len();
                point.metric = scores.first().map(|s| s.metric);
                let values: Vec<f64> = scores.iter().map(|s| f64::from(s.value)).collect();
                point.mean = mean_std(&values);
                let losses: Vec<f64> = scores
                    .iter()
                    .filter_map(|s| s.val_loss.map(f64::from))
                    .collect();
                point.val_loss = mean_std(&losses);
                point
            })
            .collect();
        let point_key = |p: &Point| match (p.metric, p.mean) {
            (Some(metric), Some((mean, _))) => (
                metric_key(metric, mean),
                loss_key(p.val_loss.map(|(m, _)| m)),
            ),
            _ => ((3, 0.0), f64::INFINITY),
        };
        points.sort_by(|a, b| {
            point_key(a)
                .partial_cmp(&point_key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Results {
            grid,
            runs,
            outcomes,
            order,
            points,
        }
    }

    /// The metrics the finished runs report (one, unless the grid spans both tasks).
    fn metrics(&self) -> Vec<Metric> {
        let mut metrics = Vec::new();
        for score in self.outcomes.iter().filter_map(|o| o.score.as_ref().ok()) {
            if !metrics.contains(&score.metric) {
                metrics.push(score.metric);
            }
        }
        if metrics.is_empty() {
            metrics.push(Metric::Accuracy);
        }
        metrics
    }

    fn metric_header(&self) -> String {
        let names: Vec<&str> = self.metrics().into_iter().map(metric_name).collect();
        names.join(" / ")
    }

    /// Every run, best first.
    fn runs_table(&self, out: &Path) -> String {
        let metric = self.metric_header();
        let mut header: Vec<String> = vec!["rank".into()];
        header.extend(self.grid.iter().map(|a| a.option.clone()));
        header.extend(
            ["seed", &metric, "val_loss", "epochs", "run"]
                .iter()
                .map(|s| s.to_string()),
        );
        let mut rows = Vec::new();
        let mut failures = String::new();
        for (rank, &i) in self.order.iter().enumerate() {
            let (run, outcome) = (&self.runs[i], &self.outcomes[i]);
            let mut row = vec![match outcome.score {
                Ok(_) => (rank + 1).to_string(),
                Err(_) => "—".into(),
            }];
            row.extend(run.values.iter().cloned());
            row.push(run.seed.to_string());
            match &outcome.score {
                Ok(score) => {
                    row.push(format_value(score.metric, score.value));
                    row.push(score.val_loss.map_or("—".into(), |l| format!("{l:.4}")));
                    let epochs = if score.saved_epoch as usize == score.epochs {
                        score.epochs.to_string()
                    } else {
                        format!("{} (best {})", score.epochs, score.saved_epoch)
                    };
                    row.push(epochs);
                }
                Err(error) => {
                    row.extend(["FAILED".into(), "—".into(), "—".into()]);
                    let _ = writeln!(failures, "FAILED {}: {error}", run.name);
                }
            }
            row.push(run.name.clone());
            rows.push(row);
        }
        // Numbers right, the grid's values and the run's name left.
        let (grid, last) = (self.grid.len(), header.len() - 1);
        let right = |column: usize| column == 0 || (column > grid && column < last);
        let mut text = format!(
            "{} runs in {}, best first by {metric} at the epoch each run saved (the last; the best \
             with --restore-best or early stopping), then val_loss:\n\n",
            self.runs.len(),
            out.display()
        );
        text.push_str(&render(&header, &rows, right));
        if !failures.is_empty() {
            text.push('\n');
            text.push_str(&failures);
        }
        text
    }

    /// Each grid point's mean ± standard deviation over its seeds, best mean first.
    fn summary_table(&self) -> String {
        let metric = self.metric_header();
        let mut header: Vec<String> = vec!["rank".into()];
        header.extend(self.grid.iter().map(|a| a.option.clone()));
        header.extend(
            [
                "runs",
                &format!("{metric} mean ± std"),
                "val_loss mean ± std",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let rows: Vec<Vec<String>> = self
            .points
            .iter()
            .enumerate()
            .map(|(rank, point)| {
                let mut row = vec![match point.mean {
                    Some(_) => (rank + 1).to_string(),
                    None => "—".into(),
                }];
                row.extend(point.values.iter().cloned());
                let finished = point.runs.len() - point.failed;
                row.push(match point.failed {
                    0 => finished.to_string(),
                    failed => format!("{finished} ({failed} failed)"),
                });
                row.push(match (point.metric, point.mean) {
                    (Some(Metric::Accuracy), Some((mean, std))) => {
                        format!("{:.2}% ± {:.2}", 100.0 * mean, 100.0 * std)
                    }
                    (Some(Metric::Mae), Some((mean, std))) => format!("{mean:.2} ± {std:.2}"),
                    _ => "—".into(),
                });
                row.push(
                    point
                        .val_loss
                        .map_or("—".into(), |(m, s)| format!("{m:.4} ± {s:.4}")),
                );
                row
            })
            .collect();
        let grid = self.grid.len();
        let mut text = format!(
            "Mean ± std over the seeds of each grid point (population std, as scikit-learn's \
             GridSearchCV), best mean {metric} first:\n\n"
        );
        text.push_str(&render(&header, &rows, |c| c == 0 || c > grid));
        text
    }

    /// `results.csv`: every run, best first; failed runs last, with their error.
    fn runs_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["rank".into()];
        header.extend(self.grid.iter().map(|a| a.option.clone()));
        header.extend(
            [
                "seed",
                "status",
                "val_acc",
                "val_mae",
                "val_loss",
                "saved_epoch",
                "epochs",
                "seconds",
                "run_dir",
                "error",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        csv.write_record(&header)?;
        let cell = |v: Option<f32>| v.map_or_else(String::new, |v| v.to_string());
        for (rank, &i) in self.order.iter().enumerate() {
            let (run, outcome) = (&self.runs[i], &self.outcomes[i]);
            let mut row = vec![match outcome.score {
                Ok(_) => (rank + 1).to_string(),
                Err(_) => String::new(),
            }];
            row.extend(run.values.iter().cloned());
            row.push(run.seed.to_string());
            match &outcome.score {
                Ok(score) => row.extend([
                    "ok".into(),
                    cell(score.val_acc),
                    cell(score.val_mae),
                    cell(score.val_loss),
                    score.saved_epoch.to_string(),
                    score.epochs.to_string(),
                ]),
                Err(_) => row.extend(["failed", "", "", "", "", ""].iter().map(|s| s.to_string())),
            }
            row.push(format!("{:.3}", outcome.seconds));
            row.push(run.name.clone());
            row.push(outcome.score.as_ref().err().cloned().unwrap_or_default());
            csv.write_record(&row)?;
        }
        csv.into_inner().context("cannot write results.csv")
    }

    /// `summary.csv`: each grid point's mean and standard deviation over its seeds, best first.
    fn summary_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["rank".into()];
        header.extend(self.grid.iter().map(|a| a.option.clone()));
        header.extend(
            [
                "runs",
                "failed",
                "metric",
                "mean",
                "std",
                "val_loss_mean",
                "val_loss_std",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        csv.write_record(&header)?;
        for (rank, point) in self.points.iter().enumerate() {
            let mut row = vec![point
                .mean
                .map_or_else(String::new, |_| (rank + 1).to_string())];
            row.extend(point.values.iter().cloned());
            row.push((point.runs.len() - point.failed).to_string());
            row.push(point.failed.to_string());
            row.push(point.metric.map_or("", metric_name).to_string());
            let pair = |p: Option<(f64, f64)>| match p {
                Some((m, s)) => [m.to_string(), s.to_string()],
                None => [String::new(), String::new()],
            };
            row.extend(pair(point.mean));
            row.extend(pair(point.val_loss));
            csv.write_record(&row)?;
        }
        csv.into_inner().context("cannot write summary.csv")
    }
}

/// A Markdown table with its columns padded to one width (`right`: right-aligned columns).
fn render(header: &[String], rows: &[Vec<String>], right: impl Fn(usize) -> bool) -> String {
    let width = |s: &str| s.chars().count();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| width(&r[c]))
                .chain([width(&header[c]), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut text = String::from("|");
        for (c, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[c] - width(cell));
            if right(c) {
                let _ = write!(text, " {pad}{cell} |");
            } else {
                let _ = write!(text, " {cell}{pad} |");
            }
        }
        text.push('\n');
        text
    };
    let mut text = line(header);
    text.push('|');
    for (c, &w) in widths.iter().enumerate() {
        let dashes = "-".repeat(w);
        if right(c) {
            let _ = write!(text, "-{dashes}:|");
        } else {
            let _ = write!(text, "-{dashes}-|");
        }
    }
    text.push('\n');
    for row in rows {
        text.push_str(&line(row));
    }
    text
}

/// Runs `job(0)`, …, `job(count - 1)` on a pool of `jobs` threads (`None`: rayon's default, one per
/// core, or `RAYON_NUM_THREADS`); the results in job order, whatever the schedule, and the number
/// of threads. A job that panics gives an error in its place; the others run on.
pub fn run_all<T: Send>(
    jobs: Option<usize>,
    count: usize,
    job: impl Fn(usize) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<(Vec<anyhow::Result<T>>, usize)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .context("cannot start the thread pool")?;
    let results = pool.install(|| {
        (0..count)
            .into_par_iter()
            // One job per task: runs differ in length, so each is handed out on its own.
            .with_max_len(1)
            .map(|i| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(i))).unwrap_or_else(
                    |panic| {
                        let message = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        Err(anyhow!("job {i} panicked: {message}"))
                    },
                )
            })
            .collect()
    });
    Ok((results, pool.current_num_threads()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(args: &[&str]) -> anyhow::Result<SweepArgs> {
        let argv = ["tinytrain", "sweep"].iter().chain(args);
        match crate::cli::Cli::try_parse_from(argv)?.command {
            crate::cli::Command::Sweep(args) => Ok(*args),
            _ => unreachable!(),
        }
    }

    #[test]
    fn axes_parse_with_their_separators() {
        let lr: Axis = "lr=1e-3,3e-3".parse().unwrap();
        assert_eq!((lr.option.as_str(), lr.flag), ("lr", false));
        assert_eq!(lr.values, ["1e-3", "3e-3"]);
        let hidden: Axis = "--hidden=32; 64,32".parse().unwrap();
        assert_eq!(hidden.values, ["32", "64,32"]);
        let bn: Axis = "batch_norm=true;false".parse().unwrap();
        assert_eq!((bn.option.as_str(), bn.flag), ("batch-norm", true));
        assert_eq!(bn.words("true").unwrap(), [OsString::from("--batch-norm")]);
        assert!(bn.words("false").unwrap().is_empty());
        assert!(bn
            .words("yes")
            .unwrap_err()
            .to_string()
            .contains("true or false"));
        for (text, expected) in [
            ("lrr=1", "'lrr' is not an option of train"),
            ("lr", "is not OPTION=V1;V2"),
            ("seed=1,2", "--seeds 1..5"),
            ("resume=a", "'resume' is not an option"),
            ("lr=1e-3;1e-3", "'1e-3' is given twice"),
        ] {
            let message = text.parse::<Axis>().unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
        }
    }

    #[test]
    fn run_names_are_safe() {
        assert_eq!(name_part("hidden", "64,32"), "hidden=64-32");
        assert_eq!(name_part("data", "data/iris.csv"), "data=iris");
        assert_eq!(name_part("label", "a b/c"), "label=a_b_c");
        assert_eq!(name_part("hidden", ""), "hidden=none");
        assert_eq!(name_part("lr", "1e-3"), "lr=1e-3");
    }

    #[test]
    fn the_grid_is_every_combination_with_train_options_fixed() {
        let args = sweep(&[
            "--data",
            "data/iris.csv",
            "--epochs",
            "3",
            "--grid",
            "lr=1e-3,3e-3",
            "--grid",
            "hidden=32;64,32",
            "--seeds",
            "1..2",
        ])
        .unwrap();
        let runs = plan(&args, Path::new("out")).unwrap();
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lr=1e-3,hidden=32,seed=1",
                "lr=1e-3,hidden=32,seed=2",
                "lr=1e-3,hidden=64-32,seed=1",
                "lr=1e-3,hidden=64-32,seed=2",
                "lr=3e-3,hidden=32,seed=1",
                "lr=3e-3,hidden=32,seed=2",
                "lr=3e-3,hidden=64-32,seed=1",
                "lr=3e-3,hidden=64-32,seed=2",
            ]
        );
        let last = runs[7].args.spec().unwrap();
        assert_eq!(
            (last.lr, last.hidden.as_slice(), last.seed, last.epochs),
            (3e-3, &[64, 32][..], 2, 3)
        );
        assert!(runs.iter().all(|r| r.args.quiet));
        assert_eq!(
            runs[7].args.out.as_deref(),
            Some(Path::new("out/lr=3e-3,hidden=64-32,seed=2"))
        );
    }

    #[test]
    fn bad_sweeps_are_refused_before_any_run() {
        for (args, expected) in [
            (
                &["--grid", "lr=1e-3;0"][..],
                "--grid lr: '0': invalid value '0' for '--lr <RATE>': 0 is not a number > 0",
            ),
            (&["--grid", "hidden=32;0"], "--grid hidden: '0'"),
            (&["--grid", "lr=1", "--lr", "2"], "both fixed and a --grid axis"),
            (&["--grid", "lr=1", "--grid", "lr=2"], "given twice"),
            (&["--seed", "3", "--seeds", "1..2"], "not both"),
            (&["--resume", "x"], "--resume does not apply to a sweep"),
            (
                &["--grid", "optimizer=sgd;adam", "--grid", "momentum=0;0.9"],
                "run optimizer=adam,momentum=0.9,seed=1: --momentum and --nesterov apply to --optimizer sgd only",
            ),
        ] {
            let message = format!("{:#}", plan(&sweep(args).unwrap(), Path::new("out")).unwrap_err());
            assert!(message.contains(expected), "{args:?}: {message}");
        }
        // A value that needs another axis's value is checked with it.
        let args = sweep(&["--grid", "optimizer=sgd", "--grid", "momentum=0;0.9"]).unwrap();
        let runs = plan(&args, Path::new("out"));
        assert_eq!(runs.unwrap().len(), 2);
    }

    #[test]
    fn fixed_options_are_handed_on_as_typed() {
        // Refused by train's parser, as by train.
        let message = sweep(&["--lr=-0"]).unwrap_err().to_string();
        assert!(message.contains("'-0' for '--lr <RATE>'"), "{message}");
        let args = sweep(&[
            "--no-restore-best",
            "--restore-best",
            "--hidden",
            "",
            "--ignore",
            "a,b",
            "--lr",
            "-1e-3",
        ]);
        assert!(args.is_err());
        let args = sweep(&[
            "--no-restore-best",
            "--restore-best",
            "--hidden",
            "",
            "--ignore",
            "a,b",
        ])
        .unwrap();
        let words: Vec<OsString> = args.given.iter().flat_map(|g| g.words.clone()).collect();
        // The flag that overrides the other is the only one left, as in train.
        assert_eq!(
            words,
            ["--restore-best", "--hidden=", "--ignore=a", "--ignore=b"].map(OsString::from)
        );
        let run = parse_run(&args, &[], 4, Path::new("x")).unwrap();
        assert!(run.restore_best && !run.no_restore_best);
        assert_eq!((run.seed, run.hidden.0.len(), run.ignore.len()), (4, 0, 2));
    }

    #[test]
    fn tables_are_sorted_and_aligned() {
        let grid: Vec<Axis> = vec!["lr=1,2".parse().unwrap()];
        let args = TrainArgs::clone(&sweep(&[]).unwrap().train);
        let run = |value: &str, seed| Run {
            values: vec![value.into()],
            seed,
            name: format!("lr={value},seed={seed}"),
            args: args.clone(),
        };
        let score = |acc: f32, loss: f32| Score {
            metric: Metric::Accuracy,
            value: acc,
            val_loss: Some(loss),
            val_acc: Some(acc),
            val_mae: None,
            saved_epoch: 3,
            epochs: 3,
        };
        let runs = [run("1", 1), run("1", 2), run("2", 1), run("2", 2)];
        let outcomes = [
            Ok(score(0.5, 0.9)),
            Ok(score(0.9, 0.3)),
            Ok(score(0.9, 0.2)),
            Err("boom".to_string()),
        ]
        .map(|score| Outcome {
            score,
            seconds: 1.0,
        });
        let results = Results::new(&grid, &runs, &outcomes);
        assert_eq!(results.order, [2, 1, 0, 3]);
        let table = results.runs_table(Path::new("out"));
        let expected = "\
| rank | lr  | seed | val_acc | val_loss | epochs | run         |
|-----:|-----|-----:|--------:|---------:|-------:|-------------|
|    1 | 2   |    1 |  90.00% |   0.2000 |      3 | lr=2,seed=1 |
|    2 | 1   |    2 |  90.00% |   0.3000 |      3 | lr=1,seed=2 |
|    3 | 1   |    1 |  50.00% |   0.9000 |      3 | lr=1,seed=1 |
|    — | 2   |    2 |  FAILED |        — |      — | lr=2,seed=2 |

FAILED lr=2,seed=2: boom
";
        assert!(table.ends_with(expected), "{table}");
        assert!(table.starts_with("4 runs in out, best first by val_acc"));
        let summary = results.summary_table();
        let expected = "\
| rank | lr  |         runs | val_acc mean ± std | val_loss mean ± std |
|-----:|-----|-------------:|-------------------:|--------------------:|
|    1 | 2   | 1 (1 failed) |      90.00% ± 0.00 |     0.2000 ± 0.0000 |
|    2 | 1   |            2 |     70.00% ± 20.00 |     0.6000 ± 0.3000 |
";
        assert!(summary.ends_with(expected), "{summary}");
        // The files hold the same order, failed runs with their error.
        let csv = String::from_utf8(results.runs_csv().unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "rank,lr,seed,status,val_acc,val_mae,val_loss,saved_epoch,epochs,seconds,run_dir,error"
        );
        assert_eq!(lines[1], "1,2,1,ok,0.9,,0.2,3,3,1.000,\"lr=2,seed=1\",");
        assert_eq!(lines[4], ",2,2,failed,,,,,,1.000,\"lr=2,seed=2\",boom");
        let summary = String::from_utf8(results.summary_csv().unwrap()).unwrap();
        assert!(summary.starts_with("rank,lr,runs,failed,metric,mean,std,val_loss_mean,val_loss_std\n1,2,1,1,val_acc,0.89999997"), "{summary}");
    }

    #[test]
    fn mean_and_std_are_the_population_ones() {
        let (mean, std) = mean_std(&[0.5, 0.9]).unwrap();
        assert!((mean - 0.7).abs() < 1e-12 && (std - 0.2).abs() < 1e-12);
        assert_eq!(mean_std(&[]), None);
        // Equal accuracies summed in another order tie; NaN sorts last.
        let (a, b) = (
            0.8333333f32 as f64 + 0.93333334 + 0.8666667,
            0.9f32 as f64 + 0.8333333 + 0.9,
        );
        assert_ne!(a, b);
        assert_eq!(
            metric_key(Metric::Accuracy, a / 3.0),
            metric_key(Metric::Accuracy, b / 3.0)
        );
        assert!(metric_key(Metric::Mae, 1e9) < metric_key(Metric::Accuracy, f64::NAN));
    }

    #[test]
    fn jobs_run_on_the_pool_in_job_order() {
        let (squares, threads) = run_all(Some(2), 9, |i| Ok(i * i)).unwrap();
        assert_eq!(threads, 2);
        let squares: Vec<usize> = squares.into_iter().map(Result::unwrap).collect();
        assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64]);
        let (results, _) = run_all(Some(1), 3, |i| {
            if i == 1 {
                panic!("job one");
            }
            Ok(i)
        })
        .unwrap();
        assert_eq!(
            results[1].as_ref().unwrap_err().to_string(),
            "job 1 panicked: job one"
        );
        assert_eq!(*results[2].as_ref().unwrap(), 2);
    }
}
