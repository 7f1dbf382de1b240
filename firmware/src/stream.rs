//! The program of a device that learns as samples arrive: a shipped model (built in, in flash)
//! fine-tunes the layers its experiment trains on the labelled samples the host streams over the
//! UART (`tinytrain train --device … --stream`), reporting every epoch the stream closes on both
//! channels, as [`train`](crate::train) does, and the windowed metrics over defmt. An autoencoder
//! also scores samples (a defmt `score` line each), sets its anomaly threshold, and counts its
//! flag's hits in the summary.

use tinytrain::train::Settings;
use tinytrain_experiments::run::NetworkMemory;
use tinytrain_experiments::stream::{Fed, Stream};
use tinytrain_experiments::wire::sample::{Frame, READY, SAMPLE_CAPACITY};
use tinytrain_experiments::{frame, Experiment, Observer, Rows, Workspace};

use crate::report::Reporter;
use crate::serial::{read_line, Receiver};
use crate::{clock, exit, exit_failure};

/// Paints the stack, starts the tick counter and the serial port (both ways), then learns every
/// sample frame as it arrives until the `end` frame, reports the model as weights frames and the
/// summary with the measured resources, and exits once the host acknowledges the summary. A frame whose CRC or JSON is bad is
/// dropped with a warning (the host's replay then differs, and says so).
pub fn stream<
    T: Settings,
    M: NetworkMemory,
    const N: usize,
    const S: usize,
    I: tinytrain::data::RowIndex,
>(
    experiment: &Experiment,
    workspace: &mut Workspace<M, N, S, I>,
    errors: &mut [f32],
) -> ! {
    let mut serial = crate::start();
    serial.enable_receiver();
    let mut stream = match Stream::<T>::new(experiment, workspace.memory.buffers(), errors) {
        Ok(stream) => stream,
        Err(error) => {
            defmt::error!("cannot stream {=str}: {}", experiment.name, error);
            exit_failure()
        }
    };
    let mut reporter = Reporter::new(&mut serial, experiment);
    let Ok(()) = reporter.started(&Rows {
        train: 0,
        validation: 0,
    });
    // The host sends nothing before this: what arrives before the receiver is on is lost.
    if crate::report::send_frame(reporter.serial_mut(), READY.as_bytes()).is_err() {
        defmt::panic!("the serial port failed");
    }
    let mut line = [0u8; SAMPLE_CAPACITY];
    let mut dropped = 0u32;
    let mut learning = 0u64;
    let mut scored = 0u32;
    loop {
        let message = read_line(reporter.serial_mut(), &mut line)
            .and_then(|len| line.get(..len))
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .and_then(|text| frame::open(text).ok())
            .and_then(|json| Frame::parse(json.as_bytes()).ok());
        let Some(frame) = message else {
            dropped += 1;
            defmt::warn!(
                "frame dropped (damaged, too long or not a stream frame): {=u32} so far",
                dropped
            );
            continue;
        };
        let Ok(message) = frame.message() else {
            continue;
        };
        let before = clock::ticks();
        let fed = stream.feed(message);
        match fed {
            Fed::Learned(_) => learning += clock::ticks() - before,
            Fed::Epoch(record) => {
                // The epoch's cost: its samples' learning, and the step and metrics that close it.
                learning += clock::ticks() - before;
                reporter.stream_epoch(&record, learning);
                learning = 0;
                let window = stream.window();
                defmt::info!(
                    "window samples={=u32} loss={=f32} acc={=f32}",
                    window.len() as u32,
                    window.mean_loss(),
                    window.accuracy().unwrap_or(f32::NAN)
                );
            }
            Fed::Scored { error, flagged } => {
                scored += 1;
                match flagged {
                    Some(flagged) => defmt::info!(
                        "score sample={=u32} error={=f32} bits={=u32:#010x} anomaly={=bool}",
                        scored,
                        error,
                        error.to_bits(),
                        flagged
                    ),
                    None => defmt::info!(
                        "score sample={=u32} error={=f32} bits={=u32:#010x}",
                        scored,
                        error,
                        error.to_bits()
                    ),
                }
            }
            Fed::Threshold { value, errors } => defmt::info!(
                "threshold value={=f32} bits={=u32:#010x} errors={=u32}",
                value,
                value.to_bits(),
                errors
            ),
            Fed::Ignored(why) => defmt::warn!("frame ignored: {=str}", why),
            Fed::Refused(error) => {
                defmt::warn!("sample refused: {}", error);
                if error == tinytrain::train::StreamError::Stopped {
                    break;
                }
            }
            Fed::End => break,
        }
    }
    let summary = stream.summary();
    // The model, then the summary: the host's cue that the run is complete, which it answers with
    // `HANDSHAKE_ACK`. Exiting only then keeps the tail: a pseudo-terminal (QEMU's, or a board's
    // USB serial port seen from the host) drops what is unread when the other end closes.
    let net = stream.trainer().net();
    let [params, stats] = net.model();
    crate::report::send_weights(
        reporter.serial_mut(),
        experiment.layers,
        net.front(),
        params,
        stats,
    );
    reporter.finish(&summary);
    crate::serial::wait_for(reporter.serial_mut(), frame::HANDSHAKE_ACK);
    exit()
}
