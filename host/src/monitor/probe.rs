//! `tinytrain monitor --probe --chip NAME FIRMWARE.elf` (feature `probe`): attaches to a running
//! target through the first debug probe found (probe-rs as a library), reads RTT up channel 0 and
//! decodes it with the ELF's defmt table. The `epoch` lines become records (exact: their floats
//! come from the `bits=` words); the other lines are the device log. The `summary` line ends the
//! session. The firmware must already be flashed and running (`cargo run-f411`, `probe-rs download`).

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use probe_rs::rtt::{Rtt, UpChannel};
use probe_rs::{Core, Permissions, Session, SessionConfig};

use super::source::Source;
use super::Input;
use crate::decode;

/// How long to look for the RTT control block (the firmware sets it up early in `main`).
const ATTACH_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between polls of an empty channel.
const POLL: Duration = Duration::from_millis(10);

/// Attaches to `chip` and starts reading RTT.
pub fn start(elf: &Path, chip: &str, sender: Sender<Input>) -> anyhow::Result<Source> {
    let config = SessionConfig {
        permissions: Permissions::default(),
        ..SessionConfig::default()
    };
    let session = Session::auto_attach(chip, config)
        .with_context(|| format!("cannot attach to {chip} through a debug probe"))?;
    read_in_thread(session, elf, sender)
}

/// `tinytrain train --device BOARD` on a board: opens the probe (`selector`, probe-rs's
/// `VID:PID[:SERIAL]`, or the only one attached), flashes `elf` into `chip`, resets it to run, and
/// starts reading RTT, as `probe-rs run` does.
pub fn flash_and_start(
    elf: &Path,
    chip: &str,
    selector: Option<&str>,
    sender: Sender<Input>,
) -> anyhow::Result<Source> {
    let lister = probe_rs::probe::list::Lister::new();
    let probe = match selector {
        Some(selector) => {
            let selector: probe_rs::probe::DebugProbeSelector = selector
                .parse()
                .with_context(|| format!("--probe {selector}: not VID:PID[:SERIAL]"))?;
            lister
                .open(selector)
                .context("cannot open the debug probe --probe names")?
        }
        None => {
            let probes = lister.list_all();
            let [only] = &probes[..] else {
                anyhow::bail!(
                    "{} debug probes are attached; name one with --probe VID:PID[:SERIAL] ({})",
                    probes.len(),
                    probes
                        .iter()
                        .map(|p| format!(
                            "{:04x}:{:04x}{}",
                            p.vendor_id,
                            p.product_id,
                            p.serial_number
                                .as_deref()
                                .map(|s| format!(":{s}"))
                                .unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            only.open().context("cannot open the debug probe")?
        }
    };
    let mut session = probe
        .attach(chip, Permissions::default())
        .with_context(|| format!("cannot attach to {chip} through the debug probe"))?;
    probe_rs::flashing::download_file(
        &mut session,
        elf,
        probe_rs::flashing::ElfLoader(Default::default()),
    )
    .with_context(|| format!("cannot flash {} into {chip}", elf.display()))?;
    session
        .core(0)
        .and_then(|mut core| core.reset())
        .with_context(|| format!("cannot reset {chip}"))?;
    read_in_thread(session, elf, sender)
}

/// Reads RTT up channel 0 of `session`'s core 0 in a thread, decoded with `elf`'s defmt table.
fn read_in_thread(
    mut session: Session,
    elf: &Path,
    sender: Sender<Input>,
) -> anyhow::Result<Source> {
    let elf_bytes = std::fs::read(elf).with_context(|| format!("cannot read {}", elf.display()))?;
    let address = probe_rs::rtt::find_rtt_control_block_in_raw_file(&elf_bytes)
        .ok()
        .flatten();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let _ = sender.send(Input::Connected("probe, RTT channel 0".into()));
        let result = read_rtt(&mut session, address, &elf_bytes, &sender, &flag)
            .map_err(|e| format!("{e:#}"));
        let _ = sender.send(Input::End(result));
    });
    Ok(Source::from_thread(stop, thread))
}

fn read_rtt(
    session: &mut Session,
    address: Option<u64>,
    elf: &[u8],
    sender: &Sender<Input>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut core = session.core(0).context("cannot reach core 0")?;
    let started = Instant::now();
    let mut rtt = loop {
        let attached = match address {
            Some(address) => Rtt::attach_at(&mut core, address),
            None => Rtt::attach(&mut core),
        };
        match attached {
            Ok(rtt) => break rtt,
            Err(_) if started.elapsed() < ATTACH_TIMEOUT && !stop.load(Ordering::SeqCst) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e).context("no RTT control block"),
        }
    };
    let channel = rtt
        .up_channel(0)
        .context("the firmware has no RTT up channel 0")?;
    let done = AtomicBool::new(false);
    let reader = RttReader {
        core: &mut core,
        channel,
        stop,
        done: &done,
    };
    decode::decode_defmt_stream(elf, reader, |line| {
        // Epochs (exact, from `bits=`) and events as the monitor classifies every decoded line.
        if decode::strip_level(line).starts_with("summary ") {
            done.store(true, Ordering::SeqCst);
        }
        if let Some(input) = super::classify(line) {
            let _ = sender.send(input);
        }
        Ok(())
    })
}

/// RTT up channel 0 as a byte stream: polls until bytes arrive; ends when the monitor stops, or
/// once the summary line was seen and the channel is drained.
struct RttReader<'a, 'c> {
    core: &'a mut Core<'c>,
    channel: &'a mut UpChannel,
    stop: &'a AtomicBool,
    done: &'a AtomicBool,
}

impl Read for RttReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(0);
            }
            let n = self
                .channel
                .read(self.core, buf)
                .map_err(std::io::Error::other)?;
            if n > 0 {
                return Ok(n);
            }
            if self.done.load(Ordering::SeqCst) {
                return Ok(0);
            }
            std::thread::sleep(POLL);
        }
    }
}
