//! `tinytrain`: train small MLPs on CSV data with the same core that runs on microcontrollers.
//!
//! Each subcommand lives in its own module of the `tinytrain_host` library (dispatched by
//! [`tinytrain_host::cli`]); this file only parses the command line and turns an error into
//! `error: <message>` on stderr and a non-zero exit code.

use std::process::ExitCode;

use clap::Parser;
use tinytrain_host::cli::Cli;

fn main() -> ExitCode {
    // Usage errors exit here, with clap's message and exit code 2.
    let cli = Cli::parse();
    match cli.execute() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole chain of context: "outer: inner: cause".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
