//! Training curves as pictures: `tinytrain plot RUN_DIR [RUN_DIR…]`, also drawn at the end of
//! `tinytrain train`.
//!
//! Two panels, side by side: the loss (training and validation) and the accuracy — or, for a
//! regression, the mean absolute error — per epoch. The epoch of the lowest validation loss is marked
//! with a dashed line, and from the overfitting onset found by the core's
//! [`Analyzer`] to the last epoch the panels are shaded. Several runs
//! are overlaid, one colour per run, named by their directories: training solid, validation dashed
//! (in the legend too), and each run's overfitting shaded in its own colour, faintly (alpha 0.12, so
//! overlapping spans stay visible), with its own legend entry.
//!
//! The loss and MAE axes are fitted to the values drawn ([`value_range`]): from the smallest to the
//! largest finite value with a margin of 5 % of that span on each side, not crossing zero (a loss
//! that reaches 0.02 starts its axis at 0). The accuracy axis ends at 100 % (how far from perfect a
//! run is is the point) and starts 5 points below the lowest finite accuracy. `--log-y` puts the
//! loss on a logarithmic axis (margin: 5 % of the span in decades); losses that are not positive
//! cannot be placed on it and are skipped, as non-finite values are on every axis.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (the `dejavu` crate), so the pictures look
//! the same on a machine without fonts.
//!
//! `--smooth W` (`0 ≤ W < 1`) draws TensorBoard's debiased exponential moving average over the raw
//! curve (drawn faint): `m₀ = 0`, `mₜ = W·mₜ₋₁ + (1 − W)·xₜ`, shown as `mₜ / (1 − Wᵗ)` (the
//! division removes the pull towards the initial 0, as in Adam). A non-finite value is shown as it
//! is and left out of the average.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, bail, Context};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf32;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use tinytrain::best::BestEpoch;
use tinytrain::diagnose::{Analyzer, DiagnoseConfig, Event};
use tinytrain::monitor::Monitor;
use tinytrain::record::EpochRecord;

use crate::run_dir;

/// Width of the pictures in pixels.
pub const WIDTH: u32 = 1200;
/// Height of the pictures in pixels.
pub const HEIGHT: u32 = 500;
/// The file stem written into a run directory.
pub const CURVES: &str = "curves";
/// The file stem written into the first run directory when several runs are overlaid.
pub const COMPARE: &str = "compare";

/// `tinytrain plot`'s options.
#[derive(Clone, Debug, clap::Args)]
pub struct PlotArgs {
    /// Run directories (each with a metrics.jsonl); several are overlaid in one picture
    #[arg(value_name = "RUN_DIR", required = true)]
    pub runs: Vec<PathBuf>,
    /// Output file stem: writes STEM.png and STEM.svg [default: RUN_DIR/curves, or FIRST_RUN_DIR/compare for several runs]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exponential smoothing weight in [0, 1), as TensorBoard's slider (0: none)
    #[arg(long, value_name = "W", default_value_t = 0.0, value_parser = parse_smoothing)]
    pub smooth: f32,
    /// Loss on a logarithmic axis (losses that are not positive are not drawn on it)
    #[arg(long)]
    pub log_y: bool,
}

/// How to draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotOptions {
    /// Smoothing weight in `[0, 1)` (0: none).
    pub smooth: f32,
    /// Picture size in pixels.
    pub size: (u32, u32),
    /// The loss axis is logarithmic ([`Scale::Log`]).
    pub log_y: bool,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            smooth: 0.0,
            size: (WIDTH, HEIGHT),
            log_y: false,
        }
    }
}

/// One run's curves.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Its name in titles and legends (the directory's name).
    pub name: String,
    /// One record per epoch.
    pub records: Vec<EpochRecord>,
}

impl Run {
    /// Reads `dir/metrics.jsonl`; the name is the directory's.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(run_dir::METRICS_JSONL);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let records = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .with_context(|| format!("{}: line {}", path.display(), i + 1))
            })
            .collect::<anyhow::Result<Vec<EpochRecord>>>()?;
        if records.is_empty() {
            bail!("{} has no epochs", path.display());
        }
        Ok(Self {
            name: run_name(dir),
            records,
        })
    }

    /// The epoch of the lowest validation loss (the lowest training loss without validation):
    /// [`BestEpoch`] by `val_loss`.
    pub fn best_epoch(&self) -> Option<u32> {
        BestEpoch::of(Monitor::ValLoss, &self.records)
    }

    /// The overfitting episodes the core's analyser (default thresholds) finds, as `(onset, end)`:
    /// from the validation-loss minimum to the epoch before the validation loss first falls below it
    /// again, or to the last epoch.
    pub fn overfitting_spans(&self) -> Vec<(u32, u32)> {
        let mut analyzer = Analyzer::new(DiagnoseConfig::default(), 0);
        let onsets: Vec<u32> = self
            .records
            .iter()
            .flat_map(|r| analyzer.observe(r))
            .filter_map(|event| match event {
                Event::Overfitting { epoch } => Some(epoch),
                _ => None,
            })
            .collect();
        let val = |epoch: u32| {
            self.records
                .iter()
                .find(|r| r.epoch == epoch)
                .and_then(|r| r.val_loss)
        };
        let last = self.records.last().map_or(1, |r| r.epoch);
        onsets
            .into_iter()
            .map(|onset| {
                let floor = val(onset).unwrap_or(f32::NEG_INFINITY);
                let end = self
                    .records
                    .iter()
                    .filter(|r| r.epoch > onset)
                    .find(|r| r.val_loss.is_some_and(|v| v < floor))
                    .map_or(last, |r| r.epoch - 1);
                (onset, end)
            })
            .collect()
    }

    fn is_regression(&self) -> bool {
        self.records.iter().all(|r| r.train_acc.is_none())
    }
}

/// The name of a run directory (its last component).
pub fn run_name(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into())
}

/// TensorBoard's debiased exponential moving average (see the module documentation).
pub fn smooth(values: &[f32], weight: f32) -> Vec<f32> {
    if weight <= 0.0 {
        return values.to_vec();
    }
    let (mut last, mut count) = (0.0f64, 0i32);
    values
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                return v;
            }
            let w = f64::from(weight);
            last = last * w + (1.0 - w) * f64::from(v);
            count += 1;
            (last / (1.0 - w.powi(count))) as f32
        })
        .collect()
}

/// Runs `tinytrain plot`.
pub fn execute(args: &PlotArgs) -> anyhow::Result<()> {
    let runs = args
        .runs
        .iter()
        .map(|dir| Run::read(dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let stem = match (&args.out, args.runs.as_slice()) {
        (Some(out), _) => out.with_extension(""),
        (None, [one]) => one.join(CURVES),
        (None, dirs) => dirs[0].join(COMPARE),
    };
    let options = PlotOptions {
        smooth: args.smooth,
        log_y: args.log_y,
        ..PlotOptions::default()
    };
    for path in write(&runs, &stem, &options)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// Draws `runs` into `STEM.png` and `STEM.svg`; returns the two paths.
pub fn write(runs: &[Run], stem: &Path, options: &PlotOptions) -> anyhow::Result<[PathBuf; 2]> {
    if runs.is_empty() {
        bail!("nothing to plot");
    }
    register_fonts()?;
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let file_name = stem
        .file_name()
        .map_or_else(|| CURVES.into(), |n| n.to_string_lossy().into_owned());
    let png = stem.with_file_name(format!("{file_name}.png"));
    let svg = stem.with_file_name(format!("{file_name}.svg"));
    let failed = |path: &Path| format!("cannot draw {}", path.display());
    draw(
        BitMapBackend::new(&png, options.size).into_drawing_area(),
        runs,
        options,
    )
    .with_context(|| failed(&png))?;
    draw(
        SVGBackend::new(&svg, options.size).into_drawing_area(),
        runs,
        options,
    )
    .with_context(|| failed(&svg))?;
    Ok([png, svg])
}

/// The SVG text of the picture (what [`write`](fn@write) puts into `STEM.svg`).
pub fn svg_text(runs: &[Run], options: &PlotOptions) -> anyhow::Result<String> {
    register_fonts()?;
    let mut text = String::new();
    draw(
        SVGBackend::with_string(&mut text, options.size).into_drawing_area(),
        runs,
        options,
    )?;
    Ok(text)
}

/// Makes the embedded font plotters' `sans-serif`.
fn register_fonts() -> anyhow::Result<()> {
    static REGISTER: Once = Once::new();
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        )
        .and_then(|()| {
            plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
        })
        .map_err(|_| anyhow!("the embedded font does not load"));
    });
    result
}

/// The tab10 colours (matplotlib's defaults).
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
const SHADE: RGBColor = RGBColor(214, 39, 40);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// What a panel shows.
#[derive(Clone, Copy)]
enum Panel {
    Loss,
    Accuracy,
    Mae,
}

impl Panel {
    fn caption(self) -> &'static str {
        match self {
            Panel::Loss => "Loss",
            Panel::Accuracy => "Accuracy",
            Panel::Mae => "Mean absolute error",
        }
    }

    fn values(self, r: &EpochRecord) -> (Option<f32>, Option<f32>) {
        match self {
            Panel::Loss => (Some(r.train_loss), r.val_loss),
            Panel::Accuracy => (r.train_acc, r.val_acc),
            Panel::Mae => (r.train_mae, r.val_mae),
        }
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    runs: &[Run],
    options: &PlotOptions,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e}");
    root.fill(&WHITE).map_err(err)?;
    let title = runs
        .iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(" vs ");
    let root = root
        .titled(
            &title,
            ("sans-serif", 26).into_font().style(FontStyle::Bold),
        )
        .map_err(err)?;
    let (left, right) = root.split_horizontally(options.size.0 / 2);
    let second = if runs.iter().all(Run::is_regression) {
        Panel::Mae
    } else {
        Panel::Accuracy
    };
    draw_panel(&left, runs, Panel::Loss, options).map_err(err)?;
    draw_panel(&right, runs, second, options).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// How a value axis places values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Evenly.
    Linear,
    /// By their logarithm (`--log-y`); values that are not positive have no place on it.
    Log,
}

impl Scale {
    /// Whether `v` can be drawn on this axis: finite, and positive on a log axis.
    fn shows(self, v: f32) -> bool {
        v.is_finite() && (self == Scale::Linear || v > 0.0)
    }
}

/// The share of the values' span added as a margin on each side of a fitted axis.
const MARGIN: f64 = 0.05;

/// The range of a loss or MAE axis for `values`: from the smallest to the largest value the axis
/// [shows](Scale) (non-finite values, and on a log axis the ones that are not positive, are
/// ignored), widened by 5 % of their span on each side — of their span in decades on a log axis.
/// The margin does not cross zero, a single value gets ±5 % of itself (`0..0.05` for 0, a twentieth
/// of a decade on a log axis), no values the range `0..1` (`0.1..1` on a log axis). The ends are
/// always finite: plotters' tick search never ends on an infinite axis.
///
/// ```
/// use tinytrain_host::plot::{value_range, Scale};
/// let r = value_range([42.0, 46.0, f32::NAN], Scale::Linear);
/// assert!(r.start > 41.0 && r.end < 47.0);
/// ```
pub fn value_range(values: impl IntoIterator<Item = f32>, scale: Scale) -> Range<f32> {
    let (lo, hi) = values
        .into_iter()
        .filter(|&v| scale.shows(v))
        .map(f64::from)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let max = f64::from(f32::MAX);
    match scale {
        _ if lo > hi => match scale {
            Scale::Linear => 0.0..1.0,
            Scale::Log => 0.1..1.0,
        },
        Scale::Linear => {
            let pad = if hi > lo {
                (hi - lo) * MARGIN
            } else {
                (lo.abs() * MARGIN).max(MARGIN)
            };
            let mut y0 = lo - pad;
            let mut y1 = hi + pad;
            if lo >= 0.0 {
                y0 = y0.max(0.0);
            } else if hi <= 0.0 {
                y1 = y1.min(0.0);
            }
            (y0.max(-max) as f32)..(y1.min(max) as f32)
        }
        Scale::Log => {
            let (d0, d1) = (lo.log10(), hi.log10());
            let pad = if d1 > d0 { (d1 - d0) * MARGIN } else { MARGIN };
            let y0 = 10f64.powf(d0 - pad) as f32;
            // Below the smallest f32 the margin rounds to 0, which a log axis cannot start at.
            let y0 = if y0 > 0.0 { y0 } else { lo as f32 };
            y0..(10f64.powf(d1 + pad).min(max) as f32)
        }
    }
}

/// The range of an accuracy axis: up to 100 %, from 5 points below the lowest finite accuracy
/// (at most 95 %, at least 0).
fn accuracy_range(values: impl IntoIterator<Item = f32>) -> Range<f32> {
    let lo = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(f32::INFINITY, f32::min);
    if lo.is_finite() {
        (lo - 0.05).clamp(0.0, 0.95)..1.0
    } else {
        0.0..1.0
    }
}

/// A value axis, linear or logarithmic. Not plotters' `log_scale()`: its ticks start at the first
/// power of ten in the range, so a loss between 0.3 and 0.9 would get none; [`log_ticks`] puts
/// them at 1, 2, 5 or 1…9 times a power of ten, as many as fit.
#[derive(Clone)]
struct ValueAxis {
    range: Range<f32>,
    scale: Scale,
}

impl ValueAxis {
    fn position(&self, v: f32) -> f64 {
        match self.scale {
            Scale::Linear => f64::from(v),
            Scale::Log => f64::from(v).ln(),
        }
    }
}

impl Ranged for ValueAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f32;

    /// As plotters maps its numeric ranges, in the logarithm on a log axis.
    fn map(&self, value: &f32, limit: (i32, i32)) -> i32 {
        let (a, b) = (
            self.position(self.range.start),
            self.position(self.range.end),
        );
        if a == b || !(a.is_finite() && b.is_finite()) {
            return (limit.1 - limit.0) / 2;
        }
        let t = (self.position(*value) - a) / (b - a);
        let length = f64::from(limit.1 - limit.0);
        if t.is_nan() {
            return limit.0;
        }
        if t.is_infinite() {
            return if t > 0.0 { limit.1 } else { limit.0 };
        }
        let offset = if length >= 0.0 {
            (length * t + 1e-3).floor()
        } else {
            (length * t - 1e-3).ceil()
        };
        // `as` saturates: a point far outside the axis lands far outside the picture.
        limit.0.saturating_add(offset as i32)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f32> {
        match self.scale {
            Scale::Linear => RangedCoordf32::from(self.range.clone()).key_points(hint),
            Scale::Log => log_ticks(&self.range, hint.max_num_points()),
        }
    }

    fn range(&self) -> Range<f32> {
        self.range.clone()
    }
}

/// Ticks on a log axis over `range`, at most `max` of them: the densest of `1·10ᵏ`, `{1, 2, 5}·10ᵏ`
/// and `{1, …, 9}·10ᵏ` that fits (every second, fourth, … power of ten when even the powers do not).
fn log_ticks(range: &Range<f32>, max: usize) -> Vec<f32> {
    let (lo, hi) = (range.start, range.end);
    if max == 0 || !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return Vec::new();
    }
    let decade = |v: f32| f64::from(v).log10();
    let (first, last) = (decade(lo).floor() as i32, decade(hi).ceil() as i32);
    let ticks = |mantissas: &[f64], every: i32| -> Vec<f32> {
        (first..=last)
            .filter(|k| k.rem_euclid(every) == 0)
            .flat_map(|k| mantissas.iter().map(move |m| (m * 10f64.powi(k)) as f32))
            // Compared as f32: 3 · 10⁻¹ in f64 is below 0.3f32, yet it is the tick 0.3.
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let all: [&[f64]; 3] = [
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        &[1.0, 2.0, 5.0],
        &[1.0],
    ];
    if let Some(found) = all.iter().map(|m| ticks(m, 1)).find(|t| t.len() <= max) {
        return found;
    }
    let mut every = 2;
    loop {
        let found = ticks(&[1.0], every);
        if found.len() <= max {
            return found;
        }
        every *= 2;
    }
}

/// Tick labels of a linear value axis spanning `span`: enough decimals to tell ticks apart (plotters
/// puts at most 8, at 1, 2 or 5 times a power of ten), scientific notation for large or tiny ones.
fn linear_label(span: f64) -> impl Fn(&f32) -> String {
    let step = span / 8.0;
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    let scientific = !(1e-5..1e6).contains(&step);
    move |v: &f32| {
        if scientific || v.abs() >= 1e6 {
            format!("{v:.2e}")
        } else {
            format!("{v:.decimals$}")
        }
    }
}

/// A tick label on a log axis: the tick's shortest decimal form (`0.2`, `30`), `1e-5` beyond.
fn log_label(v: &f32) -> String {
    if (1e-3..1e5).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[Run],
    panel: Panel,
    options: &PlotOptions,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let single = runs.len() == 1;
    let epochs = runs
        .iter()
        .flat_map(|r| r.records.iter().map(|r| r.epoch))
        .max()
        .unwrap_or(1)
        .max(2);
    let scale = match panel {
        Panel::Loss if options.log_y => Scale::Log,
        _ => Scale::Linear,
    };
    let values = runs
        .iter()
        .flat_map(|r| r.records.iter())
        .flat_map(|r| {
            let (a, b) = panel.values(r);
            [a, b]
        })
        .flatten();
    let range = match panel {
        Panel::Accuracy => accuracy_range(values),
        Panel::Loss | Panel::Mae => value_range(values, scale),
    };
    let (y0, y1) = (range.start, range.end);
    let mut chart = ChartBuilder::on(area)
        .caption(panel.caption(), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(1u32..epochs, ValueAxis { range, scale })?;
    let percent = |v: &f32| format!("{:.0}%", v * 100.0);
    let linear = linear_label(f64::from(y1) - f64::from(y0));
    let y_format: &dyn Fn(&f32) -> String = match (panel, scale) {
        (Panel::Accuracy, _) => &percent,
        (_, Scale::Log) => &log_label,
        (_, Scale::Linear) => &linear,
    };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(match (panel, scale) {
            (Panel::Loss, Scale::Log) => "loss (log scale)",
            (Panel::Loss, Scale::Linear) => "loss",
            (Panel::Accuracy, _) => "accuracy",
            (Panel::Mae, _) => "MAE",
        })
        .x_labels(10)
        .y_labels(8)
        .y_label_formatter(y_format)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.1))
        .draw()?;

    // One run's overfitting in red; in an overlay each run's in its own colour, faint enough that
    // overlapping spans show both, each named in the legend.
    for (k, run) in runs.iter().enumerate() {
        let (shade, name) = if single {
            (SHADE, String::new())
        } else {
            (PALETTE[k % 6], format!("{} ", run.name))
        };
        for (i, &(onset, end)) in run.overfitting_spans().iter().enumerate() {
            let series = chart.draw_series(std::iter::once(Rectangle::new(
                [(onset, y0), (end, y1)],
                shade.mix(if single { 0.10 } else { 0.12 }).filled(),
            )))?;
            if i == 0 {
                series
                    .label(format!("{name}overfitting from epoch {onset}"))
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 20, y + 6)], shade.mix(0.2).filled())
                    });
            }
        }
    }

    for (k, run) in runs.iter().enumerate() {
        let (train_color, val_color) = if single {
            (PALETTE[0], PALETTE[1])
        } else {
            (PALETTE[k % 6], PALETTE[k % 6])
        };
        let name = |what: &str| {
            if single {
                what.to_string()
            } else {
                format!("{} {what}", run.name)
            }
        };
        for (is_val, color) in [(false, train_color), (true, val_color)] {
            let points: Vec<(u32, f32)> = run
                .records
                .iter()
                .filter_map(|r| {
                    let (train, val) = panel.values(r);
                    let v = if is_val { val } else { train };
                    v.map(|v| (r.epoch, v))
                })
                .collect();
            let shown = |p: &(u32, f32)| scale.shows(p.1);
            if points.is_empty() {
                continue;
            }
            let values: Vec<f32> = points.iter().map(|p| p.1).collect();
            let smoothed = smooth(&values, options.smooth);
            if options.smooth > 0.0 {
                chart.draw_series(LineSeries::new(
                    points.iter().copied().filter(shown),
                    color.mix(0.25).stroke_width(1),
                ))?;
            }
            let line: Vec<(u32, f32)> = points
                .iter()
                .zip(&smoothed)
                .map(|(&(e, _), &v)| (e, v))
                .filter(shown)
                .collect();
            let label = name(if is_val { "validation" } else { "train" });
            let style = color.stroke_width(2);
            if is_val && !single {
                chart
                    .draw_series(DashedLineSeries::new(line, 6, 4, style))?
                    .label(label)
                    .legend(move |(x, y)| {
                        DashedPathElement::new(vec![(x, y), (x + 20, y)], 5, 3, style)
                    });
            } else {
                chart
                    .draw_series(LineSeries::new(line, style))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            }
        }
        if let Some(best) = run.best_epoch() {
            let mark = if single { GREY } else { PALETTE[k % 6] };
            let series = chart.draw_series(DashedLineSeries::new(
                [(best, y0), (best, y1)],
                4,
                4,
                mark.stroke_width(1),
            ))?;
            if single {
                series
                    .label(format!("best epoch {best} (lowest val loss)"))
                    .legend(move |(x, y)| {
                        DashedPathElement::new(
                            vec![(x, y), (x + 20, y)],
                            4,
                            4,
                            GREY.stroke_width(1),
                        )
                    });
            }
            if let Some((_, Some(v))) = run
                .records
                .iter()
                .find(|r| r.epoch == best)
                .map(|r| panel.values(r))
                .filter(|(_, v)| v.is_some_and(|v| scale.shows(v)))
            {
                chart.draw_series(std::iter::once(Circle::new(
                    (best, v),
                    4,
                    val_color.filled(),
                )))?;
            }
        }
    }
    let position = match panel {
        Panel::Accuracy => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::UpperRight,
    };
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
}

fn parse_smoothing(text: &str) -> Result<f32, String> {
    match text.trim().parse::<f32>() {
        Ok(w) if (0.0..1.0).contains(&w) => Ok(w),
        _ => Err(format!("'{text}' is not a smoothing weight in [0, 1)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of 14 epochs that learns, then overfits from epoch 8 on.
    fn run(name: &str, shift: f32) -> Run {
        overfitting_run(name, shift, 8)
    }

    /// A run of 14 epochs that learns, then overfits from epoch `onset` on.
    fn overfitting_run(name: &str, shift: f32, onset: u32) -> Run {
        let m = onset as f32;
        let records = (1..=14u32)
            .map(|e| {
                let x = e as f32;
                let val = if e <= onset {
                    1.5 / x
                } else {
                    1.5 / m + 0.03 * (x - m)
                };
                EpochRecord {
                    epoch: e,
                    train_loss: 2.0 / x + shift,
                    train_acc: Some(1.0 - 0.5 / x),
                    val_loss: Some(val + shift),
                    val_acc: Some(0.95 - 0.4 / x - shift),
                    lr: 1e-3,
                    ..Default::default()
                }
            })
            .collect();
        Run {
            name: name.into(),
            records,
        }
    }

    /// Found by hostile input: a loss above 3.24e38 made the axis top infinite and plotters' tick
    /// search spin forever (train, monitor and plot all hung). Every finite value must plot.
    #[test]
    fn losses_up_to_f32_max_plot_and_return() {
        for (huge, log_y) in [(3.3e38f32, false), (f32::MAX, false), (f32::MAX, true)] {
            let records = vec![
                EpochRecord {
                    epoch: 1,
                    train_loss: huge,
                    lr: 0.001,
                    ..EpochRecord::default()
                },
                EpochRecord {
                    epoch: 2,
                    train_loss: 1e-30,
                    val_loss: Some(-f32::MAX),
                    lr: 0.001,
                    ..EpochRecord::default()
                },
            ];
            let (done, finished) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runs = [Run {
                    name: "huge".into(),
                    records,
                }];
                let options = PlotOptions {
                    log_y,
                    ..PlotOptions::default()
                };
                let _ = done.send(svg_text(&runs, &options).map(|svg| svg.len()));
            });
            let svg = finished
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("plotting a loss of 3.3e38 returns");
            assert!(svg.unwrap() > 1000);
        }
        for scale in [Scale::Linear, Scale::Log] {
            let r = value_range([f32::MAX, -f32::MAX, 1e-30], scale);
            assert!(r.start.is_finite() && r.end.is_finite(), "{r:?}");
        }
    }

    #[test]
    fn value_axes_are_fitted_to_the_finite_values() {
        // The MAE of a diabetes run, between 42 and 46: no longer squashed against an axis from 0.
        let r = value_range(
            [46.0, 44.5, f32::NAN, 42.0, f32::INFINITY, 43.0],
            Scale::Linear,
        );
        assert!(r.start >= 41.0 && r.start < 42.0, "{r:?}");
        assert!(r.end > 46.0 && r.end <= 47.0, "{r:?}");
        assert_eq!(r, 41.8..46.2);
        // The margin does not take a positive curve below zero, or a negative one above it.
        assert_eq!(value_range([0.02, 2.0], Scale::Linear), 0.0..2.099);
        assert_eq!(value_range([-2.0, -0.02], Scale::Linear), -2.099..0.0);
        assert_eq!(value_range([-1.0, 1.0], Scale::Linear), -1.1..1.1);
        // A flat curve, and nothing to draw.
        assert_eq!(value_range([45.0, 45.0], Scale::Linear), 42.75..47.25);
        assert_eq!(value_range([0.0], Scale::Linear), 0.0..0.05);
        assert_eq!(value_range([-1.0, 0.0], Scale::Linear), -1.05..0.0);
        assert_eq!(value_range([f32::NAN], Scale::Linear), 0.0..1.0);
        // Accuracy keeps its ceiling.
        assert_eq!(accuracy_range([0.8, f32::NAN, 0.9]), 0.75..1.0);
        assert_eq!(accuracy_range([1.0]), 0.95..1.0);
    }

    #[test]
    fn a_log_axis_skips_values_that_are_not_positive() {
        let r = value_range([0.0, -1.0, 0.01, f32::NAN, 1.0], Scale::Log);
        // Two decades, a tenth of a decade of margin each side.
        let (lo, hi) = (0.01 / 10f32.powf(0.1), 10f32.powf(0.1));
        assert!(
            (r.start - lo).abs() < 1e-6 && (r.end - hi).abs() < 1e-5,
            "{r:?}"
        );
        assert_eq!(value_range([0.0, -3.0], Scale::Log), 0.1..1.0);
        let r = value_range([f32::from_bits(1)], Scale::Log);
        assert!(r.start > 0.0 && r.start <= r.end, "{r:?}");

        // Each decade takes the same height.
        let axis = ValueAxis {
            range: r_of(0.001, 10.0),
            scale: Scale::Log,
        };
        let y = |v: f32| axis.map(&v, (400, 0));
        assert_eq!((y(0.001), y(10.0)), (400, 0));
        assert!((y(0.01) - y(0.1) - (y(0.1) - y(1.0))).abs() <= 1);
        assert_eq!(y(0.1), 200);

        // Ticks: the densest of 1…9, 1-2-5 and the powers of ten that fit.
        assert_eq!(
            log_ticks(&r_of(0.3, 0.9), 8),
            [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        );
        assert_eq!(
            log_ticks(&r_of(0.02, 2.0), 8),
            [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
        );
        assert_eq!(log_ticks(&r_of(1e-4, 1.0), 8), [1e-4, 1e-3, 1e-2, 0.1, 1.0]);
        assert!(log_ticks(&r_of(1e-40, 1e38), 8).len() <= 8);
        assert_eq!(
            (log_label(&0.2), log_label(&30.0), log_label(&1e-5)),
            ("0.2".into(), "30".into(), "1e-5".into())
        );
    }

    fn r_of(start: f32, end: f32) -> Range<f32> {
        start..end
    }

    #[test]
    fn log_y_draws_another_loss_axis() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = dir.path().join("run");
        std::fs::create_dir_all(&run_dir).unwrap();
        let jsonl: String = run("run", 0.0)
            .records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        std::fs::write(run_dir.join(run_dir::METRICS_JSONL), jsonl).unwrap();
        let plot = |stem: &str, extra: &[&str]| {
            let out = dir.path().join(stem);
            let mut argv = vec!["tinytrain", "plot", run_dir.to_str().unwrap()];
            argv.extend(["--out", out.to_str().unwrap()]);
            argv.extend(extra);
            crate::cli::run(argv).unwrap();
            let png = image::open(out.with_extension("png")).unwrap().to_rgb8();
            let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
            (png, svg)
        };
        let (linear, linear_svg) = plot("linear", &[]);
        let (log, log_svg) = plot("log", &["--log-y"]);
        let differing = linear
            .pixels()
            .zip(log.pixels())
            .filter(|(a, b)| a != b)
            .count();
        assert!(differing > 1000, "{differing} pixels differ");
        assert!(log_svg.contains("\nloss (log scale)\n") && !linear_svg.contains("log scale"));
        // The right panel (accuracy) is the same.
        let right = |png: &image::RgbImage| -> Vec<[u8; 3]> {
            (WIDTH / 2..WIDTH)
                .flat_map(|x| (40..HEIGHT).map(move |y| (x, y)))
                .map(|(x, y)| png.get_pixel(x, y).0)
                .collect()
        };
        assert!(right(&linear) == right(&log));
    }

    /// A mark in a legend: the SVG element's name, its extent left to right, its centre's height.
    #[derive(Debug)]
    struct Mark {
        element: String,
        x: (i32, i32),
        y: i32,
        colour: String,
    }

    /// The first legend of an SVG (the loss panel's): each label with the marks drawn beside it.
    /// plotters draws the box, then every label, then every label's mark, in order.
    fn first_legend(svg: &str) -> Vec<(String, Vec<Mark>)> {
        let tags: Vec<&str> = svg.split('<').skip(1).collect();
        let attr = |tag: &str, name: &str| -> Option<String> {
            let key = format!(" {name}=\"");
            let start = tag.find(&key)? + key.len();
            Some(tag[start..].split('"').next()?.to_owned())
        };
        let number = |tag: &str, name: &str| attr(tag, name).unwrap().parse::<i32>().unwrap();
        let legend_box = tags
            .iter()
            .position(|t| t.starts_with("rect") && attr(t, "opacity").as_deref() == Some("0.85"))
            .expect("a legend");
        let mut i = legend_box + 2; // the background and the border
        let mut labels = Vec::new();
        while tags[i].starts_with("text") {
            labels.push(tags[i].split_once('>').unwrap().1.trim().to_owned());
            i += 2; // the text and its closing tag
        }
        let mut marks: Vec<Mark> = Vec::new();
        while let Some(tag) = tags
            .get(i)
            .filter(|t| t.starts_with("polyline") || t.starts_with("rect"))
        {
            let mark = if tag.starts_with("rect") {
                let (x, y) = (number(tag, "x"), number(tag, "y"));
                Mark {
                    element: "rect".into(),
                    x: (x, x + number(tag, "width")),
                    y: y + number(tag, "height") / 2,
                    colour: attr(tag, "fill").unwrap(),
                }
            } else {
                let points: Vec<(i32, i32)> = attr(tag, "points")
                    .unwrap()
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect();
                assert!(points.iter().all(|p| p.1 == points[0].1), "{tag}");
                Mark {
                    element: "polyline".into(),
                    x: (points[0].0, points.last().unwrap().0),
                    y: points[0].1,
                    colour: attr(tag, "stroke").unwrap(),
                }
            };
            marks.push(mark);
            i += 1;
        }
        let mut grouped: Vec<Vec<Mark>> = Vec::new();
        for mark in marks {
            match grouped.last_mut() {
                Some(group) if group[0].y == mark.y => group.push(mark),
                _ => grouped.push(vec![mark]),
            }
        }
        assert_eq!(labels.len(), grouped.len(), "{labels:?} {grouped:?}");
        labels.into_iter().zip(grouped).collect()
    }

    /// `marks` draw a dashed line: several short segments of one colour, left to right, gaps between.
    fn is_dashed(marks: &[Mark]) -> bool {
        marks.len() >= 2
            && marks
                .iter()
                .all(|m| m.element == "polyline" && m.x.1 - m.x.0 < 10)
            && marks
                .windows(2)
                .all(|w| w[1].x.0 > w[0].x.1 && w[0].colour == w[1].colour)
    }

    #[test]
    fn overlay_legends_show_validation_dashed_and_each_runs_shading() {
        let runs = [
            overfitting_run("first", 0.0, 6),
            overfitting_run("second", 0.1, 10),
        ];
        let svg = svg_text(&runs, &PlotOptions::default()).unwrap();
        let legend = first_legend(&svg);
        let labels: Vec<&str> = legend.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "first overfitting from epoch 6",
                "second overfitting from epoch 10",
                "first train",
                "first validation",
                "second train",
                "second validation"
            ]
        );
        let marks = |label: &str| &legend.iter().find(|(l, _)| l == label).unwrap().1;
        let (blue, orange) = ("#1F77B4", "#FF7F0E");
        for (run, colour) in [("first", blue), ("second", orange)] {
            let train = marks(&format!("{run} train"));
            assert!(
                train.len() == 1 && train[0].x.1 - train[0].x.0 == 20 && train[0].colour == colour,
                "{train:?}"
            );
            let validation = marks(&format!("{run} validation"));
            assert!(
                is_dashed(validation) && validation[0].colour == colour,
                "{validation:?}"
            );
        }
        // Each run's span shaded in its own colour, faintly, from its own onset.
        assert_eq!(marks("first overfitting from epoch 6")[0].colour, blue);
        assert_eq!(marks("second overfitting from epoch 10")[0].colour, orange);
        for colour in [blue, orange] {
            let shade = format!("opacity=\"0.12\" fill=\"{colour}\"");
            assert_eq!(
                svg.matches(&shade).count(),
                2,
                "{colour}: one span in each panel"
            );
        }

        // One run: validation solid in its own colour, the best epoch's mark dashed as its line.
        let svg = svg_text(&runs[..1], &PlotOptions::default()).unwrap();
        let legend = first_legend(&svg);
        let labels: Vec<&str> = legend.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "overfitting from epoch 6",
                "train",
                "validation",
                "best epoch 6 (lowest val loss)"
            ]
        );
        assert_eq!(legend[2].1.len(), 1);
        assert!(is_dashed(&legend[3].1), "{:?}", legend[3].1);
    }

    #[test]
    fn smoothing_is_tensorboards_debiased_ema() {
        assert_eq!(smooth(&[1.0, 2.0], 0.0), [1.0, 2.0]);
        let s = smooth(&[1.0, 3.0, f32::NAN, 3.0], 0.5);
        // m1 = 0.5 → 0.5/0.5 = 1; m2 = 0.25 + 1.5 = 1.75 → 1.75/0.75; NaN passes; m3 = 0.875 + 1.5.
        assert_eq!(s[0], 1.0);
        assert!((s[1] - 1.75 / 0.75).abs() < 1e-6);
        assert!(s[2].is_nan());
        assert!((s[3] - 2.375 / 0.875).abs() < 1e-6);
    }

    #[test]
    fn best_epoch_and_onset_come_from_the_records() {
        let r = run("a", 0.0);
        assert_eq!(r.best_epoch(), Some(8));
        assert_eq!(r.overfitting_spans(), [(8, 14)]);
        // A later, lower minimum ends the episode.
        let mut r = r;
        r.records[12].val_loss = Some(0.1);
        assert_eq!(r.overfitting_spans(), [(8, 12)]);
    }

    #[test]
    fn pngs_and_svgs_are_written_at_the_expected_size() {
        let dir = tempfile::tempdir().unwrap();
        let options = PlotOptions::default();
        let [png, svg] = write(&[run("a", 0.0)], &dir.path().join("curves"), &options).unwrap();
        let image = image::open(&png).unwrap();
        assert_eq!((image.width(), image.height()), (WIDTH, HEIGHT));
        // Text was drawn: the title's pixels are not all white.
        let rgb = image.to_rgb8();
        let dark = (0..WIDTH)
            .flat_map(|x| (5..30).map(move |y| (x, y)))
            .filter(|&(x, y)| rgb.get_pixel(x, y).0[0] < 128)
            .count();
        assert!(dark > 50, "{dark} dark pixels in the title band");
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.starts_with("<svg") && text.contains("\nLoss\n"),
            "{text}"
        );

        // Two runs overlaid, with smoothing.
        let options = PlotOptions {
            smooth: 0.6,
            size: (800, 400),
            log_y: false,
        };
        let [png, svg] = write(
            &[run("first", 0.0), run("second", 0.1)],
            &dir.path().join("sub/both"),
            &options,
        )
        .unwrap();
        let image = image::open(&png).unwrap();
        assert_eq!((image.width(), image.height()), (800, 400));
        let text = std::fs::read_to_string(svg).unwrap();
        assert!(text.contains("first train") && text.contains("second validation"));
    }

    #[test]
    fn the_svg_matches_its_snapshot() {
        let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/curves.svg");
        let text = svg_text(&[run("snapshot-run", 0.0)], &PlotOptions::default()).unwrap();
        if crate::snapshot::blessing() {
            std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
            std::fs::write(&snapshot, &text).unwrap();
            eprintln!("blessed {}", snapshot.display());
            return;
        }
        let expected = std::fs::read_to_string(&snapshot)
            .expect("no snapshot: run the test with TINYTRAIN_BLESS=1 to write it");
        assert!(
            text == expected,
            "the SVG differs from {}; if the change is intended, rerun with TINYTRAIN_BLESS=1",
            snapshot.display()
        );
    }

    #[test]
    fn reading_a_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my-run");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(
            path.join(run_dir::METRICS_JSONL),
            "{\"epoch\":1,\"train_loss\":0.5,\"lr\":0.1}\n\n{\"epoch\":2,\"train_loss\":0.25,\"lr\":0.1}\n",
        )
        .unwrap();
        let run = Run::read(&path).unwrap();
        assert_eq!((run.name.as_str(), run.records.len()), ("my-run", 2));
        assert!(run.is_regression());
        std::fs::write(path.join(run_dir::METRICS_JSONL), "{oops\n").unwrap();
        let message = format!("{:#}", Run::read(&path).unwrap_err());
        assert!(message.contains("line 1"), "{message}");
    }
}
