//! Training curves as pictures: `tinytrain plot RUN_DIR [RUN_DIR…]`, also drawn at the end of
//! `tinytrain train`.
//!
//! Two panels, side by side: the loss (training and validation) and the accuracy — or, for a
//! regression, the mean absolute error — per epoch. The epoch of the lowest validation loss is marked
//! with a dashed line, and from the overfitting onset found by the core's
//! [`Analyzer`](tinytrain::diagnose::Analyzer) to the last epoch the panels are shaded. Several runs
//! are overlaid, one colour per run, named by their directories.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (the `dejavu` crate), so the pictures look
//! the same on a machine without fonts.
//!
//! `--smooth W` (`0 ≤ W < 1`) draws TensorBoard's debiased exponential moving average over the raw
//! curve (drawn faint): `m₀ = 0`, `mₜ = W·mₜ₋₁ + (1 − W)·xₜ`, shown as `mₜ / (1 − Wᵗ)` (the
//! division removes the pull towards the initial 0, as in Adam). A non-finite value is shown as it
//! is and left out of the average.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, bail, Context};
use plotters::coord::Shift;
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
}

/// How to draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotOptions {
    /// Smoothing weight in `[0, 1)` (0: none).
    pub smooth: f32,
    /// Picture size in pixels.
    pub size: (u32, u32),
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            smooth: 0.0,
            size: (WIDTH, HEIGHT),
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

/// The SVG text of the picture (what [`write`] puts into `STEM.svg`).
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

/// The top of a loss or MAE axis: 5 % above the largest value, and always finite (`hi · 1.05`
/// overflows to infinity above 3.24e38, and plotters' tick search never ends on an infinite axis).
fn loss_axis_top(lo: f32, hi: f32) -> f32 {
    let top = f64::from(hi.max(lo + 1e-6)) * 1.05;
    top.min(f64::from(f32::MAX)) as f32
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
    let finite: Vec<f32> = runs
        .iter()
        .flat_map(|r| r.records.iter())
        .flat_map(|r| {
            let (a, b) = panel.values(r);
            [a, b]
        })
        .flatten()
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = finite
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (y0, y1) = match panel {
        _ if finite.is_empty() => (0.0, 1.0),
        Panel::Accuracy => ((lo - 0.05).clamp(0.0, 0.95), 1.0),
        Panel::Loss | Panel::Mae => (0.0, loss_axis_top(lo, hi)),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(panel.caption(), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(1u32..epochs, y0..y1)?;
    let percent = |v: &f32| format!("{:.0}%", v * 100.0);
    let plain = |v: &f32| format!("{v:.2}");
    let y_format: &dyn Fn(&f32) -> String = match panel {
        Panel::Accuracy => &percent,
        _ => &plain,
    };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(match panel {
            Panel::Loss => "loss",
            Panel::Accuracy => "accuracy",
            Panel::Mae => "MAE",
        })
        .x_labels(10)
        .y_labels(8)
        .y_label_formatter(y_format)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.1))
        .draw()?;

    for (k, run) in runs.iter().enumerate() {
        for (i, &(onset, end)) in run.overfitting_spans().iter().enumerate() {
            let shade = if single { SHADE } else { PALETTE[k % 6] };
            let series = chart.draw_series(std::iter::once(Rectangle::new(
                [(onset, y0), (end, y1)],
                shade.mix(0.10).filled(),
            )))?;
            if single && i == 0 {
                series
                    .label(format!("overfitting from epoch {onset}"))
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 20, y + 6)], SHADE.mix(0.2).filled())
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
            if points.is_empty() {
                continue;
            }
            let values: Vec<f32> = points.iter().map(|p| p.1).collect();
            let smoothed = smooth(&values, options.smooth);
            if options.smooth > 0.0 {
                chart.draw_series(LineSeries::new(
                    points.iter().copied().filter(|p| p.1.is_finite()),
                    color.mix(0.25).stroke_width(1),
                ))?;
            }
            let line: Vec<(u32, f32)> = points
                .iter()
                .zip(&smoothed)
                .map(|(&(e, _), &v)| (e, v))
                .filter(|p| p.1.is_finite())
                .collect();
            let label = name(if is_val { "validation" } else { "train" });
            let style = color.stroke_width(2);
            if is_val && !single {
                chart
                    .draw_series(DashedLineSeries::new(line, 6, 4, style))?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 8, y), (x + 12, y), (x + 20, y)], style)
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
                        PathElement::new(vec![(x, y), (x + 20, y)], GREY.stroke_width(1))
                    });
            }
            if let Some((_, Some(v))) = run
                .records
                .iter()
                .find(|r| r.epoch == best)
                .map(|r| panel.values(r))
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

    /// A run that learns, then overfits from epoch 8 on.
    fn run(name: &str, shift: f32) -> Run {
        let records = (1..=14u32)
            .map(|e| {
                let x = e as f32;
                let val = if e <= 8 {
                    1.5 / x
                } else {
                    1.5 / 8.0 + 0.03 * (x - 8.0)
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
        for huge in [3.3e38f32, f32::MAX] {
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
                let _ = done.send(svg_text(&runs, &PlotOptions::default()).map(|svg| svg.len()));
            });
            let svg = finished
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("plotting a loss of 3.3e38 returns");
            assert!(svg.unwrap() > 1000);
        }
        assert!(loss_axis_top(0.0, f32::MAX).is_finite());
        assert_eq!(loss_axis_top(0.0, 2.0), 2.1);
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
