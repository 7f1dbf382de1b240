//! The program every binary runs: measure, train, report, exit.

use tinytrain_experiments::run::NetworkMemory;
use tinytrain_experiments::{run, Experiment, Workspace};

use crate::report::Reporter;
use crate::{board, clock, exit, exit_failure, ram};

/// Paints the stack, starts the tick counter and the board's serial port, runs `experiment` in
/// `workspace` reporting every epoch, reports the summary with the measured resources, and exits
/// (status 0 under QEMU; 1 if the experiment cannot run).
pub fn train<M: NetworkMemory, const N: usize, const V: usize>(
    experiment: &Experiment,
    workspace: &mut Workspace<M, N, V>,
) -> ! {
    ram::paint_stack();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        defmt::panic!("the core peripherals were already taken");
    };
    clock::start(peripherals.SYST);
    let mut reporter = Reporter::new(board::serial(), experiment);
    let (buffers, train, validation) = workspace.parts();
    match run(experiment, buffers, train, validation, &mut reporter) {
        Ok(summary) => {
            reporter.finish(&summary);
            exit()
        }
        Err(error) => {
            defmt::error!(
                "cannot run {=str}: {}",
                experiment.name,
                defmt::Display2Format(&error)
            );
            exit_failure()
        }
    }
}
