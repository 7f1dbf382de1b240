//! The program every binary runs: measure, train, report, exit.

use tinytrain::data::RowIndex;
use tinytrain::train::Settings;
use tinytrain_experiments::run::NetworkMemory;
use tinytrain_experiments::{Experiment, Fault, Workspace};

use crate::report::Reporter;
use crate::{exit, exit_failure};

/// Paints the stack, starts the tick counter and the board's serial port, runs `experiment` in
/// `workspace` reporting every epoch, reports the summary with the measured resources, and exits
/// (status 0 under QEMU; 1 if the experiment cannot run).
///
/// `T` is the experiment's [`Settings`] (its module's `Fixed`): with them constant, the firmware
/// carries only the optimiser, schedule and head the experiment uses.
///
/// `fault` is [`NoFault`](tinytrain_experiments::NoFault) except in the fault programs, which inject
/// a [`Fault`] into the data (e.g. a NaN input row) to test the core's divergence guard on the
/// device: when the guard skipped anything, a `WARN divergence skipped_samples=… skipped_steps=…`
/// line follows the summary (and the summary frame carries the counts).
pub fn train<
    T: Settings,
    M: NetworkMemory,
    const N: usize,
    const S: usize,
    I: RowIndex,
    F: Fault,
>(
    experiment: &Experiment,
    fault: F,
    workspace: &mut Workspace<M, N, S, I>,
) -> ! {
    let mut serial = crate::start();
    // Feature `handshake`: start when the host says it listens (see `frame::HANDSHAKE_START`).
    #[cfg(feature = "handshake")]
    {
        use crate::serial::Receiver;
        serial.enable_receiver();
        crate::serial::wait_for(&mut serial, tinytrain_experiments::frame::HANDSHAKE_START);
    }
    let mut reporter = Reporter::new(&mut serial, experiment);
    // The snapshot is empty (`S = 0`) unless the experiment stops early and restores its best weights.
    match workspace.run_fixed::<T>(experiment, fault, &mut reporter) {
        Ok(summary) => {
            reporter.finish(&summary);
            // Feature `dump-weights`: the trained parameters follow the summary as weights frames
            // (`tinytrain_experiments::weights_frame`; `tinytrain decode --serial-log` writes them
            // to weights.json).
            #[cfg(feature = "dump-weights")]
            {
                let [params, stats] = workspace.model();
                let front = experiment.front();
                crate::report::send_weights(&mut serial, experiment.layers, front, params, stats);
            }
            if summary.skipped_samples > 0 || summary.skipped_steps > 0 {
                defmt::warn!(
                    "divergence skipped_samples={=u32} skipped_steps={=u32}",
                    summary.skipped_samples,
                    summary.skipped_steps
                );
            }
            // ... and exit only when the host has read the summary.
            #[cfg(feature = "handshake")]
            crate::serial::wait_for(&mut serial, tinytrain_experiments::frame::HANDSHAKE_ACK);
            exit()
        }
        Err(error) => {
            defmt::error!("cannot run {=str}: {}", experiment.name, error);
            exit_failure()
        }
    }
}
