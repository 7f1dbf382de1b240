//! `tinytrain`: train small MLPs on CSV data with the same core that runs on microcontrollers.
//!
//! Each subcommand lives in its own module of the `tinytrain_host` library; this file only parses the
//! command line and turns an error into `error: <message>` on stderr and a non-zero exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tinytrain_host::{accuracy, options, train_cmd};

#[derive(Parser)]
#[command(name = "tinytrain", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an MLP on a CSV file; one line per epoch on stdout, metrics and weights in a run directory
    Train(options::TrainArgs),
    /// Benchmark table: the defaults on every bundled dataset over several seeds
    Accuracy(accuracy::AccuracyArgs),
}

fn main() -> ExitCode {
    // Usage errors exit here, with clap's message and exit code 2.
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(args) => train_cmd::execute(args),
        Command::Accuracy(args) => accuracy::execute(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole chain of context: "outer: inner: cause".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
