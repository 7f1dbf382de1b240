//! `tinytrain monitor`: watch a run as it trains — on a device, in QEMU, or replayed from a file.
//!
//! Sources (exactly one):
//!
//! * `FILE` or `-` (stdin) — a replay: `metrics.jsonl` records, a serial log of `JSON*crc32` frames,
//!   or `tinytrain decode --elf` output; the format is detected per line ([`classify`]).
//! * `--serial PATH [--baud N]` — a serial port (or a Unix socket, e.g. QEMU's
//!   `-serial unix:PATH,server=on`) carrying the firmware's frames. The monitor sends
//!   [`HANDSHAKE_START`](tinytrain_experiments::frame::HANDSHAKE_START) when it opens the port (again every second until bytes arrive) and
//!   [`HANDSHAKE_ACK`](tinytrain_experiments::frame::HANDSHAKE_ACK) after the summary frame, for firmware built with the `handshake`
//!   feature; other firmware ignores them. A disconnect is reported and the port reopened every
//!   `--retry-ms` until the device is back. The summary frame ends the session; with
//!   `--timeout SECONDS`, so does silence: no good line (a frame, a record, a log line — noise does
//!   not count) for that long since the start or the last one, or a port that does not open for
//!   that long, stops the monitor with an error naming the port and the time waited, after saving
//!   what came.
//! * `--qemu FIRMWARE.elf` — runs the firmware in `qemu-system-arm` (machine from the ELF as
//!   `firmware/qemu-run.sh` picks it, or `--machine`), its UART on a Unix socket, its defmt output
//!   (semihosting stdout) decoded with the ELF's table and shown as the device log.
//! * `--probe --chip NAME FIRMWARE.elf` — RTT up channel 0 through a debug probe (probe-rs), defmt
//!   decoded, `epoch` lines parsed (exact, from their `bits=`). Needs the `probe` cargo feature.
//!
//! On a terminal (stdout a tty, no `--plain`) a live view: the latest epoch, the loss and accuracy
//! (or MAE) curves, the diagnosis events of the core's [`Analyzer`] and the device log, with the count
//! of corrupted frames. Otherwise one `Epoch n/N | …` line per epoch on stdout and the events,
//! corrupted frames, disconnects and the device log on stderr.
//!
//! Every record goes into the run directory as it arrives (`--out DIR`, default
//! `runs/monitor-<source>`): `metrics.jsonl`, `metrics.csv`, `events.jsonl` (as `tinytrain train`
//! writes them), `summary.json` (the device's summary frame, if one came), and on exit — end of
//! input, the summary, `q` or Ctrl-C — the curves (`curves.png`, `curves.svg`). Corrupted frames are
//! counted, never recorded. With `--tensorboard DIR` each record and event also goes, as it arrives,
//! to a TensorBoard event file in `DIR/<run name>/` ([`crate::tensorboard`]), its options being the
//! source and the device's start line.

mod source;
mod tui;

#[cfg(feature = "probe")]
mod probe;

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Mutex, Once};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use tinytrain::diagnose::{Analyzer, DiagnoseConfig};
use tinytrain::record::EpochRecord;
use tinytrain_experiments::wire::{self, Line, Tally};

use crate::decode;
use crate::pipeline::Noticed;
use crate::plot;
use crate::run_dir::RunDir;

pub use source::{Feed, Source};

/// The file the summary frame is saved to.
pub const SUMMARY_JSON: &str = "summary.json";

/// Lines of device log and notes the live view keeps.
const LOG_LINES: usize = 200;

/// The options of `tinytrain monitor`.
#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["input", "serial", "qemu"])))]
pub struct MonitorArgs {
    /// Replay a metrics.jsonl, a serial log of frames or a decoded defmt log ("-": stdin; detected per line); with --probe: the firmware's ELF
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// A serial port (or a Unix socket) carrying the firmware's JSON+CRC frames
    #[arg(long, value_name = "PATH", conflicts_with_all = ["input", "qemu"])]
    pub serial: Option<PathBuf>,
    /// The serial port's baud rate
    #[arg(long, value_name = "N", default_value_t = 115_200)]
    pub baud: u32,
    /// Run this firmware in qemu-system-arm: frames from its UART, defmt from its semihosting output
    #[arg(long, value_name = "FIRMWARE.elf", conflicts_with = "input")]
    pub qemu: Option<PathBuf>,
    /// The QEMU machine [default: netduinoplus2 for flash at 0x0800_0000, else mps2-an386]
    // `conflicts_with_all` as well: clap does not enforce `requires` between members of the
    // `source` group (clap #4707), so `monitor FILE --machine X` was accepted and ignored.
    #[arg(long, value_name = "NAME", requires = "qemu", conflicts_with_all = ["input", "serial"])]
    pub machine: Option<String>,
    /// Read the firmware (the FILE argument, its ELF) over RTT through a debug probe (feature `probe`)
    #[arg(long, requires_all = ["chip", "input"], conflicts_with_all = ["serial", "qemu"])]
    pub probe: bool,
    /// The target chip for --probe, e.g. STM32F411CEUx or nRF52840_xxAA
    #[arg(long, value_name = "NAME", requires = "probe")]
    pub chip: Option<String>,
    /// The run directory [default: runs/monitor-<source name>, or -2, -3, … if taken]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace --out DIR even if it holds a run (the old one stays until the first epoch arrives)
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Plain lines even on a terminal (no live view)
    #[arg(long)]
    pub plain: bool,
    /// The number of epochs, for `Epoch n/N` (default: from the device's start line or the file)
    #[arg(long, value_name = "N")]
    pub epochs: Option<u32>,
    /// Milliseconds between attempts to reopen a disconnected serial port
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub retry_ms: u64,
    /// Stop with an error when no frame has come from --serial for this long (since the start, or
    /// since the last frame), the port open or not [default: wait for ever]
    // Not `requires = "serial"`: clap takes any member of the `source` group for it (clap #4707).
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["input", "qemu"], value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Do not draw curves.png / curves.svg at the end
    #[arg(long)]
    pub no_plot: bool,
    /// Also write the run as TensorBoard event files into DIR/<run name>/, flushed as each epoch
    /// arrives: `tensorboard --logdir DIR` follows the device live
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
}

/// What a source reports, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// An epoch record (from a frame, exact to the bit; a `metrics.jsonl` line; a defmt line).
    Record(EpochRecord),
    /// The summary frame (`{"summary":…,"resources":…}`).
    Summary(serde_json::Value),
    /// A diagnosis event the device reported (an `{"event":…}` frame or a defmt `event` line).
    Event(Noticed),
    /// Early stopping's outcome (its line of `events.jsonl`).
    EarlyStop(tinytrain::early_stop::Outcome),
    /// A weights frame (firmware feature `dump-weights`): a piece of the trained parameters.
    Weights(crate::device_weights::Chunk),
    /// A batch norm's weights frame: a piece of its parameters or running statistics.
    BatchNormWeights(crate::device_weights::BatchNormChunk),
    /// A line that is not a good frame or record (bad CRC, cut off, noise): why.
    Corrupted(String),
    /// A device log line (decoded defmt) or a note from the source.
    Log(String),
    /// The device listens for a stream's samples (its ready frame).
    Ready,
    /// The source is connected (a port opened, QEMU started).
    Connected(String),
    /// The source lost its device: why; it is retrying.
    Disconnected(String),
    /// The input ended (`Err`: the source failed).
    End(Result<(), String>),
    /// Ctrl-C.
    Interrupted,
}

/// Classifies one line of input (without or with its line ending) with [`wire::classify`], the
/// function `tinytrain decode` calls; `None` for a blank line or a defmt location line.
///
/// * a good `JSON*crc32` frame: an epoch ([`Input::Record`], floats from its `bits`), an event
///   ([`Input::Event`]), the summary, early stopping's outcome or weights ([`Input::Log`]);
/// * a frame whose CRC does not match, or that does not parse as its kind: [`Input::Corrupted`];
/// * a JSON `EpochRecord` (a `metrics.jsonl` line): [`Input::Record`];
/// * a decoded defmt line in any of defmt-decoder's formats (`INFO  epoch …` with `bits=`, with a
///   timestamp, `[INFO ]`, as `probe-rs run` prints them): [`Input::Record`]; `event=…`:
///   [`Input::Event`]; other log lines: [`Input::Log`];
/// * anything else: [`Input::Corrupted`].
///
/// ```
/// use tinytrain_host::monitor::{classify, Input};
/// let Some(Input::Record(r)) = classify(r#"{"epoch":2,"train_loss":0.5,"lr":0.001}"#) else { panic!() };
/// assert_eq!((r.epoch, r.train_loss), (2, 0.5));
/// assert!(matches!(classify(r#"{"epoch":2}*00000000"#), Some(Input::Corrupted(_))));
/// assert!(matches!(classify("INFO  start experiment=iris"), Some(Input::Log(_))));
/// assert_eq!(classify("  \r\n"), None);
/// ```
pub fn classify(line: &str) -> Option<Input> {
    Some(match wire::classify(line)? {
        Line::Epoch(record) => Input::Record(record),
        Line::Event(detected, event) => Input::Event(Noticed { detected, event }),
        Line::Summary(value) => Input::Summary(value),
        Line::EarlyStop(outcome) => Input::EarlyStop(outcome),
        Line::Log(json) => Input::Log(json.into_owned()),
        Line::Weights(chunk) => Input::Weights(chunk),
        Line::BatchNormWeights(chunk) => Input::BatchNormWeights(chunk),
        Line::Ready => Input::Ready,
        Line::Corrupted(why) => Input::Corrupted(why),
    })
}

/// `Epoch n/N | Train Loss: …` ([`EpochRecord::line`]), or `Epoch n | …` when `N` is unknown.
pub fn epoch_line(record: &EpochRecord, epochs: Option<u32>) -> String {
    match epochs {
        Some(n) => record.line(n.max(record.epoch)).to_string(),
        None => {
            let line = record.line(0).to_string();
            let prefix = format!("Epoch {}/0", record.epoch);
            line.replacen(&prefix, &format!("Epoch {}", record.epoch), 1)
        }
    }
}

/// Where the monitor's output of one input goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// An epoch line (stdout in the plain mode).
    Epoch(String),
    /// An event, a corrupted frame, a connection change (stderr in the plain mode).
    Note(String),
    /// A device log line (stderr in the plain mode).
    Log(String),
}

/// The monitor's state: everything the views show, and the open run directory.
#[derive(Debug)]
pub struct State {
    /// The source, as shown in the title.
    pub source: String,
    /// The records so far.
    pub records: Vec<EpochRecord>,
    /// The diagnosis events so far.
    pub events: Vec<Noticed>,
    /// Lines that were not good frames or records.
    pub corrupted: usize,
    /// Events the device reported, and other good lines (summary, early stopping, weights, log).
    reported: (usize, usize),
    /// The number of epochs, when known.
    pub epochs: Option<u32>,
    /// The device's summary frame.
    pub summary: Option<serde_json::Value>,
    /// The last lines of the device log and the notes.
    pub log: VecDeque<String>,
    /// When the first record arrived.
    pub first_record: Option<std::time::Instant>,
    /// The weights frames so far ([`crate::device_weights::assemble`] puts them together).
    pub weights: Vec<crate::device_weights::Chunk>,
    /// The batch norms' weights frames so far.
    pub batch_norm_weights: Vec<crate::device_weights::BatchNormChunk>,
    /// Connected, disconnected, ended.
    pub status: String,
    /// `Some` once the input ended (`Err`: the source failed).
    pub ended: Option<Result<(), String>>,
    /// Ctrl-C or `q`.
    pub interrupted: bool,
    /// The device's start line (`start experiment=… epochs=…`), once it came.
    start_line: Option<String>,
    analyzer: Analyzer,
    sequence: wire::Sequence,
    run: RunDir,
}

impl State {
    /// A monitor of `source` writing into `run`.
    pub fn new(source: String, run: RunDir, epochs: Option<u32>) -> Self {
        Self {
            source,
            records: Vec::new(),
            events: Vec::new(),
            corrupted: 0,
            reported: (0, 0),
            epochs,
            summary: None,
            log: VecDeque::new(),
            first_record: None,
            weights: Vec::new(),
            batch_norm_weights: Vec::new(),
            status: "waiting".into(),
            ended: None,
            interrupted: false,
            start_line: None,
            analyzer: Analyzer::new(DiagnoseConfig::default(), 0),
            sequence: wire::Sequence::default(),
            run,
        }
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        self.run.path()
    }

    /// Takes one input: records it, analyses it, and returns what to show.
    pub fn apply(&mut self, mut input: Input) -> anyhow::Result<Vec<Output>> {
        let mut out = Vec::new();
        // An epoch must follow the one before it (a replayed or damaged line is not a new one).
        if let Input::Record(record) = &input {
            if let Err(why) = self.sequence.admit(record.epoch) {
                input = Input::Corrupted(why);
            }
        }
        match &input {
            Input::Event(_) => self.reported.0 += 1,
            Input::Summary(_)
            | Input::Log(_)
            | Input::Weights(_)
            | Input::BatchNormWeights(_)
            | Input::Ready
            | Input::EarlyStop(_) => self.reported.1 += 1,
            _ => {}
        }
        match input {
            Input::Record(record) => {
                self.first_record
                    .get_or_insert_with(std::time::Instant::now);
                if self.records.is_empty() {
                    self.run.write_hparams(&self.options())?;
                }
                self.run.append(&record)?;
                self.records.push(record);
                out.push(Output::Epoch(epoch_line(&record, self.epochs)));
                for event in self.analyzer.observe(&record) {
                    let noticed = Noticed {
                        detected: record.epoch,
                        event,
                    };
                    self.run.append_event(&noticed.to_json())?;
                    self.events.push(noticed);
                    out.push(Output::Note(format!("epoch {}: {event}", record.epoch)));
                }
            }
            Input::Event(noticed) => {
                // The monitor's own analyser may have noticed it already (from the records).
                if !self.events.contains(&noticed) {
                    self.run.append_event(&noticed.to_json())?;
                    self.events.push(noticed);
                    out.push(Output::Note(format!(
                        "epoch {}: {} (device)",
                        noticed.detected, noticed.event
                    )));
                }
            }
            Input::Summary(value) => {
                if let Some(n) = value["summary"]["epochs"].as_u64() {
                    self.epochs = u32::try_from(n).ok().or(self.epochs);
                }
                let path = self.dir().join(SUMMARY_JSON);
                let text = serde_json::to_string_pretty(&value)?;
                std::fs::write(&path, text + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let best = &value["summary"]["best_epoch"];
                out.push(Output::Note(format!(
                    "summary: {} epochs, best epoch {best}",
                    value["summary"]["epochs"]
                )));
                self.summary = Some(value);
            }
            Input::EarlyStop(outcome) => {
                let last = self.epochs.unwrap_or(self.records.len() as u32);
                self.run
                    .append_event(&wire::early_stopping_json(&outcome, last))?;
                out.push(Output::Note(outcome.to_string()));
            }
            Input::Weights(chunk) => {
                out.push(Output::Log(format!(
                    "weights: dense layer {}, {} parameters from {}",
                    chunk.layer,
                    chunk.values.len(),
                    chunk.offset
                )));
                self.weights.push(chunk);
            }
            Input::BatchNormWeights(chunk) => {
                out.push(Output::Log(format!(
                    "weights: batch norm {}, {} values of its {} from {}",
                    chunk.index,
                    chunk.values.len(),
                    tinytrain_experiments::wire::weights::BATCH_NORM_PARTS[chunk.part],
                    chunk.offset
                )));
                self.batch_norm_weights.push(chunk);
            }
            Input::Corrupted(why) => {
                self.corrupted += 1;
                out.push(Output::Note(format!(
                    "corrupted frame ignored ({} so far): {why}",
                    self.corrupted
                )));
            }
            Input::Log(line) => {
                // The device's start line tells the number of epochs.
                let text = decode::strip_level(&line);
                if text.starts_with("start ") {
                    if self.epochs.is_none() {
                        self.epochs = text
                            .split_whitespace()
                            .find_map(|t| t.strip_prefix("epochs="))
                            .and_then(|n| n.parse().ok());
                    }
                    self.start_line = Some(text.to_owned());
                }
                out.push(Output::Log(line));
            }
            Input::Connected(what) => {
                self.status = format!("connected: {what}");
                out.push(Output::Note(self.status.clone()));
            }
            Input::Ready => {
                self.status = "the device listens: streaming".into();
                out.push(Output::Note(self.status.clone()));
            }
            Input::Disconnected(why) => {
                self.status = format!("disconnected: {why}; waiting for the device");
                out.push(Output::Note(self.status.clone()));
            }
            Input::End(result) => {
                self.status = match &result {
                    Ok(()) => "end of input".into(),
                    Err(e) => format!("failed: {e}"),
                };
                self.ended = Some(result);
            }
            Input::Interrupted => {
                self.status = "interrupted".into();
                self.interrupted = true;
            }
        }
        for line in &out {
            if let Output::Note(text) | Output::Log(text) = line {
                if self.log.len() == LOG_LINES {
                    self.log.pop_front();
                }
                self.log.push_back(text.clone());
            }
        }
        Ok(out)
    }

    /// Writes `weights.json` if weights frames came, draws the curves (unless `no_plot` or there are
    /// no records); returns a note for the user.
    pub fn finish(&self, no_plot: bool) -> anyhow::Result<String> {
        if !self.weights.is_empty() {
            let weights =
                crate::device_weights::assemble_all(&self.weights, &self.batch_norm_weights)?;
            weights.write(&self.dir().join(crate::run_dir::WEIGHTS))?;
        }
        if !no_plot && !self.records.is_empty() {
            let run = plot::Run {
                name: plot::run_name(self.dir()),
                records: self.records.clone(),
            };
            plot::write(
                &[run],
                &self.dir().join(plot::CURVES),
                &plot::PlotOptions::default(),
            )?;
        }
        Ok(format!(
            "saved to {}: {}",
            self.dir().display(),
            self.tally()
        ))
    }

    /// What the monitor knows of the run's options, for the TensorBoard `hparams` text: the
    /// source, the number of epochs and the `key=value` fields of the device's start line.
    fn options(&self) -> serde_json::Value {
        let device: serde_json::Map<String, serde_json::Value> = self
            .start_line
            .iter()
            .flat_map(|line| line.split_whitespace())
            .filter_map(|field| field.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.into()))
            .collect();
        serde_json::json!({"source": self.source, "epochs": self.epochs, "device": device})
    }

    /// The input's counts, in the words `tinytrain decode` uses.
    pub fn tally(&self) -> Tally {
        Tally {
            epochs: self.records.len(),
            events: self.reported.0,
            other: self.reported.1,
            corrupted: self.corrupted,
        }
    }
}

/// The sender Ctrl-C reports to (the ctrlc handler can be installed once per process).
static INTERRUPT: Mutex<Option<Sender<Input>>> = Mutex::new(None);

fn catch_ctrl_c(sender: Sender<Input>) {
    static INSTALL: Once = Once::new();
    if let Ok(mut slot) = INTERRUPT.lock() {
        *slot = Some(sender);
    }
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if let Some(sender) = INTERRUPT.lock().ok().and_then(|s| s.clone()) {
                let _ = sender.send(Input::Interrupted);
            }
        });
        if let Err(error) = installed {
            eprintln!("warning: Ctrl-C will not save the run: {error}");
        }
    });
}

/// `runs/monitor-<name>`: the file's stem (a run directory's name for its `metrics.jsonl`), the
/// port's or the ELF's name, or `stdin-<seconds since 1970>`.
pub fn default_dir(args: &MonitorArgs) -> PathBuf {
    let stem = |path: &Path| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = if let Some(port) = &args.serial {
        stem(port)
    } else if let Some(elf) = &args.qemu {
        stem(elf)
    } else {
        match &args.input {
            Some(path) if path != Path::new("-") => {
                let name = stem(path);
                match path.parent().map(plot::run_name) {
                    Some(dir) if name == "metrics" && !dir.is_empty() => dir,
                    _ => name,
                }
            }
            _ => {
                let seconds = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                format!("stdin-{seconds}")
            }
        }
    };
    Path::new("runs").join(format!("monitor-{name}"))
}

/// Runs `tinytrain monitor`.
pub fn execute(args: &MonitorArgs) -> anyhow::Result<()> {
    if args.probe && !cfg!(feature = "probe") {
        bail!("--probe needs tinytrain built with the `probe` feature (cargo build -p tinytrain-host --features probe)");
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::run_dir::fresh(default_dir(args)));
    let (sender, receiver) = std::sync::mpsc::channel();
    let retry = Duration::from_millis(args.retry_ms.max(1));
    let (source, name) = if let Some(port) = &args.serial {
        (
            Source::serial(port, args.baud, retry, args.timeout, sender.clone()),
            port.display().to_string(),
        )
    } else if let Some(elf) = &args.qemu {
        (
            Source::qemu(elf, args.machine.as_deref(), None, sender.clone())?,
            format!("QEMU {}", elf.display()),
        )
    } else if args.probe {
        let elf = args.input.as_deref().context("--probe needs the ELF")?;
        let chip = args.chip.as_deref().context("--probe needs --chip")?;
        (
            probe_source(elf, chip, sender.clone())?,
            format!("probe {chip}"),
        )
    } else {
        let input = args.input.as_deref().unwrap_or(Path::new("-"));
        let (source, lines) = Source::replay(input, sender.clone())?;
        let name = if input == Path::new("-") {
            "stdin".into()
        } else {
            input.display().to_string()
        };
        // A file's records tell the number of epochs.
        let epochs = args.epochs.or(lines);
        return monitor(args, &out, source, name, epochs, sender, receiver);
    };
    monitor(args, &out, source, name, args.epochs, sender, receiver)
}

/// `train --device` on a probe-rs board: flash `elf` into `chip` through the probe `selector`
/// names (or the only one), run it, read RTT (feature `probe`).
#[cfg(feature = "probe")]
pub fn probe_run(
    elf: &Path,
    chip: &str,
    selector: Option<&str>,
    sender: Sender<Input>,
) -> anyhow::Result<Source> {
    probe::flash_and_start(elf, chip, selector, sender)
}

#[cfg(feature = "probe")]
fn probe_source(elf: &Path, chip: &str, sender: Sender<Input>) -> anyhow::Result<Source> {
    probe::start(elf, chip, sender)
}

#[cfg(not(feature = "probe"))]
fn probe_source(_elf: &Path, _chip: &str, _sender: Sender<Input>) -> anyhow::Result<Source> {
    bail!("--probe needs the `probe` feature")
}

fn monitor(
    args: &MonitorArgs,
    out: &Path,
    source: Source,
    name: String,
    epochs: Option<u32>,
    sender: Sender<Input>,
    receiver: Receiver<Input>,
) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = args
        .input
        .iter()
        .chain(&args.qemu)
        .map(PathBuf::as_path)
        .collect();
    let mut run = RunDir::create(out, args.force, &inputs)?;
    if let Some(logdir) = &args.tensorboard {
        run.tensorboard(logdir)?;
    }
    let mut state = State::new(name, run, epochs);
    let live = !args.plain && std::io::stdout().is_terminal();
    watch(&mut state, source, (sender, receiver), live, args.no_plot)
}

/// Feeds `state` what `source` reports, in the live view (`live`) or as plain lines, until the
/// input ends, the summary came, `q` or Ctrl-C; then stops the source (kills QEMU, closes the port),
/// draws the curves (unless `no_plot`) and fails if the source failed.
pub fn watch(
    state: &mut State,
    source: Source,
    (sender, receiver): (Sender<Input>, Receiver<Input>),
    live: bool,
    no_plot: bool,
) -> anyhow::Result<()> {
    if live {
        drop(sender);
        tui::run(state, &receiver, no_plot)?;
    } else {
        catch_ctrl_c(sender);
        plain(state, &receiver)?;
        if let Ok(mut slot) = INTERRUPT.lock() {
            *slot = None;
        }
    }
    drop(source);
    if !live {
        let note = state.finish(no_plot)?;
        eprintln!("{note}");
    }
    match &state.ended {
        Some(Err(error)) => bail!("{error}"),
        _ => Ok(()),
    }
}

/// The plain mode: epoch lines on stdout, everything else on stderr, until the end or Ctrl-C.
fn plain(state: &mut State, receiver: &Receiver<Input>) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    while state.ended.is_none() && !state.interrupted {
        let Ok(input) = receiver.recv() else {
            state.apply(Input::End(Ok(())))?;
            break;
        };
        for output in state.apply(input)? {
            match output {
                Output::Epoch(line) => writeln!(stdout, "{line}")
                    .and_then(|()| stdout.flush())
                    .context("cannot write to stdout")?,
                Output::Note(line) | Output::Log(line) => eprintln!("{line}"),
            }
        }
    }
    if state.interrupted {
        eprintln!("interrupted");
    }
    Ok(())
}

/// A positive number of seconds (`1`, `2.5`), for `--timeout`.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("'{text}' is not a positive number of seconds"))
}

#[cfg(test)]
mod tests;
