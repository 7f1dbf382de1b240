//! The `tinytrain` command line: its subcommands and their dispatch (used by `main.rs`, and by tests
//! that run a command in-process).

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::{
    accuracy, decode, device, export, monitor, options, plot, ports, predict, size, sweep,
    train_cmd,
};

/// `tinytrain`.
#[derive(Parser, Debug)]
#[command(name = "tinytrain", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train an MLP on a CSV file (or a shared experiment: --experiment); one line per epoch on stdout, metrics and weights in a run directory
    Train(Box<options::TrainArgs>),
    /// A grid of train options × seeds on all cores: each run a run directory, a table sorted by the validation metric, mean ± std per grid point
    Sweep(Box<sweep::SweepArgs>),
    /// Predict new rows with a finished run: one CSV row per input row (class and probabilities, or the value), metrics when the rows have labels
    Predict(predict::PredictArgs),
    /// A finished run as an inference-only Rust module (no_std) or C header: weights as constants, a forward function
    Export(export::ExportArgs),
    /// Benchmark table: the defaults on every bundled dataset over several seeds
    Accuracy(accuracy::AccuracyArgs),
    /// Decode a device's output: a defmt byte stream (--elf) or a serial log of JSON+CRC frames
    Decode(decode::DecodeArgs),
    /// Flash and RAM of a firmware image, by section
    Size(size::SizeArgs),
    /// Draw a run's loss and accuracy curves (several runs: overlaid) as PNG and SVG
    Plot(plot::PlotArgs),
    /// Watch a run live (serial port, QEMU, debug probe) or replay one (metrics.jsonl, serial log); saves it as a run directory
    Monitor(monitor::MonitorArgs),
    /// The serial ports (name, USB VID:PID, maker, product, serial number), to find the board for monitor --serial
    Ports,
    /// The boards `train --device` builds for: flash, RAM, CPU and how each is run
    Boards,
}

impl Cli {
    /// Runs the command.
    pub fn execute(&self) -> anyhow::Result<()> {
        match &self.command {
            Command::Train(args) => train_cmd::execute(args),
            Command::Sweep(args) => sweep::execute(args),
            Command::Predict(args) => predict::execute(args),
            Command::Export(args) => export::execute(args),
            Command::Accuracy(args) => accuracy::execute(args),
            Command::Decode(args) => decode::execute(args),
            Command::Size(args) => size::execute(args),
            Command::Plot(args) => plot::execute(args),
            Command::Monitor(args) => monitor::execute(args),
            Command::Ports => ports::execute(),
            Command::Boards => device::boards::execute(),
        }
    }
}

/// Parses `args` (the first is the program name) and runs the command, as `tinytrain` would.
pub fn run<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)?.execute()
}
