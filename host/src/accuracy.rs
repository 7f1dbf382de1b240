//! `tinytrain accuracy`: the benchmark table. Trains the command line's defaults on every bundled
//! dataset for several seeds and compares the mean final-epoch validation score with what small MLPs
//! reach in the literature. It is a report, not a test: it prints pass or FAIL and exits 0 either way.
//!
//! Runs happen in-process (no files, no per-epoch lines), spread over a thread pool (`--jobs`, default
//! one per core: [`crate::sweep::run_all`], as `tinytrain sweep` runs); every run is deterministic, so
//! the table is the same however the runs are scheduled.

use std::fmt::Write as _;
use std::io::Write as _;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{bail, Context};

use crate::csv_data::Table;
use crate::options::{cli_name, defaults, HiddenLayers, TrainSpec};
use crate::pipeline::{self, Silent};
use crate::progress::Progress;
use tinytrain::loss::Head;

/// How a dataset is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Validation accuracy; higher is better.
    Accuracy,
    /// Validation mean absolute error in the target's units; lower is better.
    Mae,
}

/// A bundled dataset and the score to reach.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Benchmark {
    /// Name; the file is `data/<name>.csv`.
    pub name: &'static str,
    /// What is scored.
    pub metric: Metric,
    /// The mean over seeds must reach this (accuracy as a fraction).
    pub target: f32,
}

/// The bundled datasets, in table order.
pub const BENCHMARKS: &[Benchmark] = &[
    Benchmark {
        name: "digits",
        metric: Metric::Accuracy,
        target: 0.975,
    },
    Benchmark {
        name: "breast_cancer",
        metric: Metric::Accuracy,
        target: 0.97,
    },
    Benchmark {
        name: "wine",
        metric: Metric::Accuracy,
        target: 0.98,
    },
    Benchmark {
        name: "iris",
        metric: Metric::Accuracy,
        target: 0.96,
    },
    Benchmark {
        name: "diabetes",
        metric: Metric::Mae,
        target: 44.0,
    },
];

/// A dataset's departures from the command line's defaults (`None`: keep the default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// The dataset it applies to.
    pub dataset: &'static str,
    /// `--epochs`.
    pub epochs: Option<u32>,
    /// `--hidden`.
    pub hidden: Option<&'static [usize]>,
    /// `--dropout`.
    pub dropout: Option<f32>,
    /// `--lr`.
    pub lr: Option<f32>,
    /// `--batch`.
    pub batch: Option<u32>,
    /// `--loss` (regression datasets only).
    pub loss: Option<Head>,
}

impl Preset {
    /// No departures; write presets as `Preset { dataset: "iris", epochs: Some(200), ..Preset::NONE }`.
    pub const NONE: Preset = Preset {
        dataset: "",
        epochs: None,
        hidden: None,
        dropout: None,
        lr: None,
        batch: None,
        loss: None,
    };

    /// `spec` with this preset's values.
    pub fn apply(&self, spec: TrainSpec) -> TrainSpec {
        TrainSpec {
            epochs: self.epochs.unwrap_or(spec.epochs),
            hidden: self.hidden.map_or(spec.hidden, <[usize]>::to_vec),
            dropout: self.dropout.unwrap_or(spec.dropout),
            lr: self.lr.unwrap_or(spec.lr),
            batch: self.batch.unwrap_or(spec.batch),
            loss: self.loss.or(spec.loss),
            ..spec
        }
    }

    /// The departures as command-line options, or `defaults`.
    pub fn describe(&self) -> String {
        let mut options = Vec::new();
        if let Some(epochs) = self.epochs {
            options.push(format!("--epochs {epochs}"));
        }
        if let Some(hidden) = self.hidden {
            options.push(format!("--hidden {}", HiddenLayers(hidden.to_vec())));
        }
        if let Some(dropout) = self.dropout {
            options.push(format!("--dropout {dropout}"));
        }
        if let Some(lr) = self.lr {
            options.push(format!("--lr {lr}"));
        }
        if let Some(batch) = self.batch {
            options.push(format!("--batch {batch}"));
        }
        if let Some(loss) = self.loss {
            options.push(format!("--loss {loss}"));
        }
        if options.is_empty() {
            "defaults".to_string()
        } else {
            options.join(" ")
        }
    }
}

/// Per-dataset settings that differ from the defaults. Tune here.
pub const PRESETS: &[Preset] = &[
    // The small sets take only 5-9 optimiser steps per epoch at batch 32: smaller batches and more
    // epochs give them enough updates.
    Preset {
        dataset: "wine",
        epochs: Some(60),
        batch: Some(16),
        ..Preset::NONE
    },
    Preset {
        dataset: "iris",
        epochs: Some(200),
        batch: Some(16),
        hidden: Some(&[64, 32]),
        ..Preset::NONE
    },
    // 442 noisy rows: a narrower layer, more dropout and fewer epochs keep the MLP from fitting noise
    // (validation MAE rises again after about 30 epochs).
    Preset {
        dataset: "diabetes",
        epochs: Some(25),
        hidden: Some(&[32]),
        dropout: Some(0.2),
        ..Preset::NONE
    },
];

/// The preset for `dataset`, or [`Preset::NONE`].
pub fn preset_for(dataset: &str) -> Preset {
    PRESETS
        .iter()
        .copied()
        .find(|p| p.dataset == dataset)
        .unwrap_or(Preset::NONE)
}

/// The spec a benchmark trains with: defaults, then its preset, then the seed.
pub fn spec_for(benchmark: &Benchmark, seed: u64) -> TrainSpec {
    let defaults = TrainSpec {
        data: format!("data/{}.csv", benchmark.name).into(),
        seed,
        ..TrainSpec::default()
    };
    preset_for(benchmark.name).apply(defaults)
}

/// Seeds: a range `1..5` (both ends included) or a list `1,2,3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl FromStr for Seeds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("'{}' is not a seed (a whole number)", t.trim()))
        };
        let seeds: Vec<u64> = match text.split_once("..") {
            Some((first, last)) => {
                (number(first)?..=number(last.trim_start_matches('='))?).collect()
            }
            None => text.split(',').map(number).collect::<Result<_, _>>()?,
        };
        if seeds.is_empty() {
            return Err(format!("'{text}' contains no seed"));
        }
        Ok(Seeds(seeds))
    }
}

/// `tinytrain accuracy`'s options.
#[derive(Clone, Debug, clap::Args)]
pub struct AccuracyArgs {
    /// Seeds: a range (both ends included) or a comma-separated list
    #[arg(long, value_name = "1..5|1,2,3", default_value = "1..5")]
    pub seeds: Seeds,
    /// Datasets, comma-separated [default: digits,breast_cancer,wine,iris,diabetes]
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub datasets: Vec<String>,
    /// Runs at a time [default: one per core]
    #[arg(long, value_name = "N", value_parser = crate::sweep::parse_jobs)]
    pub jobs: Option<usize>,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The dataset.
    pub benchmark: Benchmark,
    /// Data rows.
    pub rows: usize,
    /// Features per row.
    pub features: usize,
    /// The settings used (`defaults` or the preset's options).
    pub setting: String,
    /// Final-epoch validation score per seed.
    pub scores: Vec<f32>,
}

impl Row {
    /// Mean score over the seeds.
    pub fn mean(&self) -> f32 {
        self.scores.iter().sum::<f32>() / self.scores.len().max(1) as f32
    }

    /// Whether the mean reaches the target (within rounding of the printed digits).
    pub fn passes(&self) -> bool {
        const SLACK: f32 = 1e-6;
        match self.benchmark.metric {
            Metric::Accuracy => self.mean() >= self.benchmark.target - SLACK,
            Metric::Mae => self.mean() <= self.benchmark.target + SLACK,
        }
    }
}

/// Runs `tinytrain accuracy`: prints the table to stdout, progress to stderr.
pub fn execute(args: &AccuracyArgs) -> anyhow::Result<()> {
    let benchmarks = select(&args.datasets)?;
    let seeds = &args.seeds.0;
    let Some(&first_seed) = seeds.first() else {
        bail!("--seeds: no seed given");
    };
    let tables = benchmarks
        .iter()
        .map(|b| pipeline::load_table(&spec_for(b, first_seed)))
        .collect::<anyhow::Result<Vec<Table>>>()?;
    let jobs: Vec<(usize, u64)> = (0..benchmarks.len())
        .flat_map(|b| seeds.iter().map(move |&s| (b, s)))
        .collect();

    let started = Instant::now();
    let progress = Progress::new(jobs.len() as u64, "runs", true);
    let (scores, threads) = crate::sweep::run_all(args.jobs, jobs.len(), |job| {
        let (b, seed) = jobs[job];
        let score = score(&benchmarks[b], &tables[b], seed)?;
        if progress.is_visible() {
            progress.inc(1);
        } else {
            eprintln!(
                "{} seed {seed}: {}",
                benchmarks[b].name,
                format_score(benchmarks[b].metric, score)
            );
        }
        Ok(score)
    })?;
    progress.finish();
    // The first failure in table order, as the table cannot be made without every score.
    let scores = scores.into_iter().collect::<anyhow::Result<Vec<f32>>>()?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("{}", crate::sweep::wall_time(jobs.len(), seconds, threads));

    let rows: Vec<Row> = benchmarks
        .iter()
        .zip(&tables)
        .enumerate()
        .map(|(b, (benchmark, table))| Row {
            benchmark: *benchmark,
            rows: table.rows(),
            features: table.width(),
            setting: preset_for(benchmark.name).describe(),
            scores: scores[b * seeds.len()..(b + 1) * seeds.len()].to_vec(),
        })
        .collect();
    let report = format!("{}\n\n{}", caption(), render(&rows, seeds));
    write!(std::io::stdout().lock(), "{report}").context("cannot write to stdout")
}

/// The benchmarks named in `names` (all when empty), in table order.
fn select(names: &[String]) -> anyhow::Result<Vec<Benchmark>> {
    if names.is_empty() {
        return Ok(BENCHMARKS.to_vec());
    }
    for name in names {
        if !BENCHMARKS.iter().any(|b| b.name == name.trim()) {
            let known: Vec<&str> = BENCHMARKS.iter().map(|b| b.name).collect();
            bail!(
                "--datasets: unknown dataset '{name}'; the bundled datasets are {}",
                known.join(", ")
            );
        }
    }
    Ok(BENCHMARKS
        .iter()
        .filter(|b| names.iter().any(|n| n.trim() == b.name))
        .copied()
        .collect())
}

/// Trains one benchmark with one seed; its final-epoch validation score.
fn score(benchmark: &Benchmark, table: &Table, seed: u64) -> anyhow::Result<f32> {
    let spec = spec_for(benchmark, seed);
    let trained = pipeline::train(&pipeline::prepare(&spec, table)?, &mut Silent)?;
    let last = trained.records.last().context("no epoch ran")?;
    let value = match benchmark.metric {
        Metric::Accuracy => last.val_acc,
        Metric::Mae => last.val_mae,
    };
    value.with_context(|| {
        format!(
            "{}: the last epoch has no {:?} score",
            benchmark.name, benchmark.metric
        )
    })
}

/// What the table measures and with which defaults.
fn caption() -> String {
    let d = TrainSpec::default();
    format!(
        "Final-epoch validation score (accuracy; MAE for diabetes), {:.0}/{:.0} stratified split. \
         Defaults: --hidden {} --activation {} --dropout {} --normalize {} --optimizer {} --lr {} \
         --batch {} --epochs {}.",
        100.0 * (1.0 - d.val_fraction),
        100.0 * d.val_fraction,
        HiddenLayers(d.hidden.clone()),
        defaults::ACTIVATION,
        d.dropout,
        cli_name(defaults::NORMALIZE),
        d.optimizer,
        d.lr,
        d.batch,
        d.epochs
    )
}

/// The Markdown table.
pub fn render(rows: &[Row], seeds: &[u64]) -> String {
    let mut out = String::from("| dataset | rows×features | setting |");
    seeds.iter().for_each(|s| {
        let _ = write!(out, " seed {s} |");
    });
    out.push_str(" mean | target | result |\n|---|---|---|");
    out.push_str(&"---:|".repeat(seeds.len() + 2));
    out.push_str("---|\n");
    for row in rows {
        let metric = row.benchmark.metric;
        let _ = write!(
            out,
            "| {} | {}×{} | {} |",
            row.benchmark.name, row.rows, row.features, row.setting
        );
        row.scores.iter().for_each(|&s| {
            let _ = write!(out, " {} |", format_score(metric, s));
        });
        let target = match metric {
            Metric::Accuracy => format!("≥ {}", format_score(metric, row.benchmark.target)),
            Metric::Mae => format!("MAE ≤ {}", format_score(metric, row.benchmark.target)),
        };
        let result = if row.passes() { "pass" } else { "FAIL" };
        let _ = writeln!(
            out,
            " {} | {target} | {result} |",
            format_score(metric, row.mean())
        );
    }
    out
}

/// `97.22%` for accuracy, `43.10` for MAE.
fn format_score(metric: Metric, value: f32) -> String {
    match metric {
        Metric::Accuracy => format!("{:.2}%", 100.0 * value),
        Metric::Mae => format!("{value:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse() {
        assert_eq!("1..5".parse::<Seeds>().unwrap().0, [1, 2, 3, 4, 5]);
        assert_eq!("2..=3".parse::<Seeds>().unwrap().0, [2, 3]);
        assert_eq!("1, 2,7".parse::<Seeds>().unwrap().0, [1, 2, 7]);
        assert_eq!("4".parse::<Seeds>().unwrap().0, [4]);
        assert!("5..1".parse::<Seeds>().unwrap_err().contains("no seed"));
        assert!("a,b"
            .parse::<Seeds>()
            .unwrap_err()
            .contains("'a' is not a seed"));
    }

    #[test]
    fn presets_change_only_what_they_name() {
        let preset = Preset {
            dataset: "iris",
            epochs: Some(200),
            lr: Some(0.01),
            ..Preset::NONE
        };
        let spec = preset.apply(TrainSpec::default());
        assert_eq!((spec.epochs, spec.lr), (200, 0.01));
        assert_eq!(
            spec,
            TrainSpec {
                epochs: 200,
                lr: 0.01,
                ..TrainSpec::default()
            }
        );
        assert_eq!(preset.describe(), "--epochs 200 --lr 0.01");
        let l1 = Preset {
            loss: Some(Head::LinearL1),
            ..Preset::NONE
        };
        assert_eq!(l1.describe(), "--loss l1");
        assert_eq!(Preset::NONE.describe(), "defaults");
        assert_eq!(spec_for(&BENCHMARKS[3], 4).seed, 4);
    }

    #[test]
    fn datasets_are_selected_by_name() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let chosen = select(&names(&["iris", "digits"])).unwrap();
        assert_eq!(
            chosen.iter().map(|b| b.name).collect::<Vec<_>>(),
            ["digits", "iris"]
        );
        let message = select(&names(&["mnist"])).unwrap_err().to_string();
        assert!(
            message.contains("unknown dataset 'mnist'; the bundled datasets are digits, "),
            "{message}"
        );
    }

    #[test]
    fn table_has_one_row_per_dataset_with_pass_or_fail() {
        let row = |benchmark: Benchmark, scores: Vec<f32>| Row {
            benchmark,
            rows: 150,
            features: 4,
            setting: "defaults".into(),
            scores,
        };
        let rows = [
            row(BENCHMARKS[3], vec![0.95, 0.97]),
            row(BENCHMARKS[4], vec![45.0, 44.0]),
        ];
        let table = render(&rows, &[1, 2]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "| dataset | rows×features | setting | seed 1 | seed 2 | mean | target | result |"
        );
        assert_eq!(lines[1], "|---|---|---|---:|---:|---:|---:|---|");
        assert_eq!(
            lines[2],
            "| iris | 150×4 | defaults | 95.00% | 97.00% | 96.00% | ≥ 96.00% | pass |"
        );
        assert_eq!(
            lines[3],
            "| diabetes | 150×4 | defaults | 45.00 | 44.00 | 44.50 | MAE ≤ 44.00 | FAIL |"
        );
    }
}
