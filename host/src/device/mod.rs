//! `tinytrain train --device BOARD`: the same run as `tinytrain train`, trained on a board.
//!
//! 1. The CSV is read and checked exactly as `train` does ([`pipeline::prepare`]: the same split,
//!    normaliser statistics and class mapping).
//! 2. The experiment is generated from it ([`generate`]) and checked against the board's flash and
//!    RAM ([`fit`]) — before anything is built.
//! 3. The firmware is built ([`firmware`]: cargo, in the cache, never in the user's directory;
//!    an unchanged run reuses its firmware) and run: QEMU started by this program, or a board
//!    flashed and run through probe-rs ([`boards`]).
//! 4. The device's epochs arrive over its serial port (QEMU) or RTT (boards) and are shown by the
//!    monitor, which writes the run directory as `train` does: `metrics.jsonl`, `metrics.csv`,
//!    `events.jsonl`, `weights.json` (read back from the device), the curves; this module adds
//!    `manifest.json` (with a `device` section), `init.json`, `device.json` and `device.elf`.
//! 5. The host trains the same run natively and compares every epoch bit for bit ([`verify`]);
//!    `--no-verify` skips it.

pub mod boards;
pub mod firmware;
pub mod fit;
pub mod generate;
pub mod stream;
pub mod verify;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use tinytrain::network::Mlp;
use tinytrain::train::DivergencePolicy;

use crate::manifest::Manifest;
use crate::memory::VecMemory;
use crate::monitor::{self, Source, State};
use crate::options::{TrainArgs, TrainSpec};
use crate::pipeline::{self, Setup};
use crate::run_dir::{self, RunDir};
use crate::weights::{About, Weights};

use boards::{Board, Runner};

/// The file the device's measurements go to.
pub const DEVICE_JSON: &str = "device.json";
/// The firmware that ran, kept beside the run (to flash again, or to decode its defmt log).
pub const DEVICE_ELF: &str = "device.elf";

/// Runs `tinytrain train --device BOARD`.
pub fn execute(args: &TrainArgs, device: &str) -> anyhow::Result<()> {
    let board = Board::named(device)?;
    let spec = args.spec()?;
    if args.stream && ["nrf52840", "microbit"].contains(&board.feature) {
        bail!("--stream: the firmware's {} UART driver only transmits, so the board cannot receive the samples; stream to an STM32 or MPS2 board", board.name);
    }
    if args.stream && matches!(board.runner, Runner::Probe(_)) && !args.build_only {
        bail!("--stream on {0}: the samples go to its UART, not through the probe: build the firmware with --build-only, flash it (probe-rs run --chip …), then stream to it with the same options and --stream --port PATH instead of --device {0}", board.name);
    }
    refuse(&spec, args.stream)?;
    let chip = match (board.runner, &args.chip) {
        (Runner::Qemu(_), Some(_)) | (Runner::Qemu(_), None) if args.probe.is_some() => {
            bail!(
                "--probe applies to boards run through a debug probe, not to {} (QEMU)",
                board.name
            )
        }
        (Runner::Qemu(_), Some(_)) => {
            bail!(
                "--chip applies to boards run through a debug probe, not to {} (QEMU)",
                board.name
            )
        }
        (Runner::Probe(default), chip) => chip.clone().unwrap_or_else(|| default.to_string()),
        (Runner::Qemu(_), None) => String::new(),
    };
    if matches!(board.runner, Runner::Probe(_)) && !cfg!(feature = "probe") && !args.build_only {
        bail!("--device {} runs through a debug probe: that needs tinytrain built with the `probe` feature (cargo install --path host --features probe), or --build-only to build the firmware and run it with probe-rs yourself", board.name);
    }
    let out = out_dir(args, &spec);
    let started = Instant::now();

    let table = pipeline::load_table(&spec)?;
    let setup = pipeline::prepare(&spec, &table)?;
    let (initial, model) = initial_model(&setup)?;
    let init = spec.init.as_ref().map(|_| model);
    if args.stream {
        stream::check(&setup)?;
    }
    let name = experiment_name(&setup);
    let generated = generate::generate(&setup, &name, init.as_deref(), args.stream);
    let need = fit::Need::of(&setup, &generated, init.is_some());
    let memory = board.memory()?;
    fit::check(&setup, &need, board, memory)?;

    let note = |line: &str| {
        if !args.quiet {
            eprintln!("{line}");
        }
    };
    note(&format!(
        "{} | {}: needs {:.1} KiB RAM of {} KiB, {:.1} KiB flash of {} KiB (data as {:?})",
        crate::train_cmd::describe(&setup),
        board.name,
        need.ram() as f64 / 1024.0,
        memory.ram / 1024,
        need.flash() as f64 / 1024.0,
        memory.flash / 1024,
        generated.encoding,
    ));
    let cache = firmware::cache_dir()?;
    let sources = firmware::sources(&cache)?;
    let experiment_dir = generated.write(
        &cache,
        &[
            firmware::sources_key().as_bytes(),
            sources.to_string_lossy().as_bytes(),
            board.name.as_bytes(),
        ],
    )?;
    let elf = experiment_dir.join(format!("{}.elf", board.name));
    let build_seconds = if elf.is_file() {
        note(&format!("firmware: cached ({})", elf.display()));
        None
    } else {
        note(&format!(
            "firmware: building for {} in {} ...",
            board.name,
            cache.display()
        ));
        let clock = Instant::now();
        let built = firmware::build(
            &sources,
            board,
            if args.stream { "stream" } else { "device" },
            &experiment_dir,
            &cache.join("target"),
            args.quiet,
        )?;
        run_dir::write_atomic(
            &elf,
            &std::fs::read(&built).with_context(|| format!("cannot read {}", built.display()))?,
        )?;
        Some(clock.elapsed().as_secs_f64())
    };

    let device_section = serde_json::json!({
        "board": board.name,
        "chip": (!chip.is_empty()).then_some(&chip),
        "need": need,
        "board_ram": memory.ram,
        "board_flash": memory.flash,
    });
    let manifest = Manifest {
        device: Some(device_section),
        ..Manifest::of(&setup)
    };
    if args.build_only {
        if out.is_dir() && std::fs::read_dir(&out)?.next().is_some() && !args.force {
            bail!(
                "{} already holds files (another run?); pass --force to replace them, or choose another --out",
                out.display()
            );
        }
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create the run directory {}", out.display()))?;
        manifest.write(&out.join(run_dir::MANIFEST))?;
        initial.write(&out.join(run_dir::INIT_WEIGHTS))?;
        run_dir::write_atomic(&out.join(DEVICE_ELF), &std::fs::read(&elf)?)?;
        let how = match board.runner {
            _ if args.stream => format!(
                "probe-rs run (or QEMU), then this command with --port PATH (the board's UART) instead of --device {}",
                board.name
            ),
            Runner::Probe(_) => format!(
                "probe-rs run --chip {chip} {0}, or tinytrain monitor --probe --chip {chip} {0}",
                out.join(DEVICE_ELF).display()
            ),
            Runner::Qemu(machine) => format!(
                "tinytrain monitor --qemu {} --machine {machine}",
                out.join(DEVICE_ELF).display()
            ),
        };
        note(&format!(
            "built {}; run it with {how}",
            out.join(DEVICE_ELF).display()
        ));
        return Ok(());
    }
    let run = open_run(args, &spec, &out, &manifest, &initial)?;
    run.write_file(DEVICE_ELF, &std::fs::read(&elf)?)?;

    let frames = args.stream.then(|| stream::frames(&setup));
    let feed = frames.as_ref().map(|frames| monitor::Feed {
        frames: frames.clone(),
        rate: args.rate.map(f64::from),
    });
    let (sender, receiver) = std::sync::mpsc::channel();
    let source = match board.runner {
        Runner::Qemu(machine) => Source::qemu(&elf, Some(machine), feed, sender.clone())?,
        Runner::Probe(_) => probe_source(&elf, &chip, args.probe.as_deref(), sender.clone())?,
    };
    let mut state = State::new(format!("{} ({name})", board.name), run, Some(spec.epochs));
    let live = !args.quiet && !args.plain && std::io::stdout().is_terminal();
    let watched = monitor::watch(&mut state, source, (sender, receiver), live, args.no_plot);
    let dir = state.dir().to_path_buf();
    let first_epoch = state.first_record.map(|at| (at - started).as_secs_f64());
    write_device_json(
        &dir,
        board,
        &chip,
        &need,
        &state,
        build_seconds,
        first_epoch,
    )?;
    finish(
        args,
        &setup,
        &name,
        init.as_deref(),
        frames.as_deref(),
        &state,
        watched,
        board.name,
    )
}

/// What no device run can do (`stream`: a run of `--stream`).
fn refuse(spec: &TrainSpec, stream: bool) -> anyhow::Result<()> {
    if spec.autoencoder.is_some() && !stream {
        bail!("--device: --task autoencoder trains on a device from a stream only (the firmware generated with its data trains a classifier or a one-output regression): add --stream, or train on the host (leave out --device)");
    }
    if spec.targets.len() > 1 && stream {
        bail!("--device --stream: a sample frame carries one target, so --targets with several columns streams only one per run (--label); without --stream the device trains on all of them from its data table");
    }
    if spec.targets.len() > 1 && spec.init.is_some() {
        bail!("--device --init: a shipped model's target statistics reach the device for one target only; with several --targets leave out --init (the device fits them on its training rows, as the host does)");
    }
    if let DivergencePolicy::ReduceLr { .. } = spec.divergence {
        bail!("--device: --on-divergence reduce-lr restores the last good weights, a copy the firmware does not keep; use skip or stop");
    }
    Ok(())
}

/// `--out`, or a fresh directory named after the data and the seed.
fn out_dir(args: &TrainArgs, spec: &TrainSpec) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| run_dir::fresh(run_dir::default_dir(&spec.data, spec.seed)))
}

/// Creates the run directory (refusing to replace another run's files without `--force`) with its
/// manifest and init.json, and its TensorBoard writer with `--tensorboard`.
fn open_run(
    args: &TrainArgs,
    spec: &TrainSpec,
    out: &Path,
    manifest: &Manifest,
    initial: &Weights,
) -> anyhow::Result<RunDir> {
    let inputs: Vec<&Path> = [Some(spec.data.as_path()), spec.init.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let mut run = RunDir::create(out, args.force, &inputs)?;
    if let Some(logdir) = &args.tensorboard {
        run.tensorboard(logdir)?;
    }
    run.write_manifest(manifest)?;
    run.write_weights(run_dir::INIT_WEIGHTS, initial)?;
    Ok(run)
}

/// Runs `tinytrain train --stream --port PATH`: the stream of [`stream::frames`] goes to a board
/// already running the stream firmware (`--device BOARD --stream --build-only`, flashed), its
/// frames come back on the same port into the run directory, and the host's replay checks them.
pub fn execute_on_port(args: &TrainArgs, port: &Path) -> anyhow::Result<()> {
    let spec = args.spec()?;
    refuse(&spec, true)?;
    let out = out_dir(args, &spec);
    let table = pipeline::load_table(&spec)?;
    let setup = pipeline::prepare(&spec, &table)?;
    stream::check(&setup)?;
    let (initial, model) = initial_model(&setup)?;
    let init = spec.init.as_ref().map(|_| model);
    let name = experiment_name(&setup);
    let manifest = Manifest {
        device: Some(serde_json::json!({ "port": port, "baud": args.baud })),
        ..Manifest::of(&setup)
    };
    let run = open_run(args, &spec, &out, &manifest, &initial)?;
    let frames = stream::frames(&setup);
    let feed = monitor::Feed {
        frames: frames.clone(),
        rate: args.rate.map(f64::from),
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    let source = Source::fed(port, args.baud, feed, None, sender.clone());
    let what = port.display().to_string();
    let mut state = State::new(format!("{what} ({name})"), run, Some(spec.epochs));
    let live = !args.quiet && !args.plain && std::io::stdout().is_terminal();
    let watched = monitor::watch(&mut state, source, (sender, receiver), live, args.no_plot);
    finish(
        args,
        &setup,
        &name,
        init.as_deref(),
        Some(&frames),
        &state,
        watched,
        &what,
    )
}

/// The end of a device run: the monitor's outcome, the weights the device sent (with what the
/// model reads and predicts), and the host's verdict — its own run of the same options, or its
/// replay of the stream (`frames`).
#[allow(clippy::too_many_arguments)]
fn finish(
    args: &TrainArgs,
    setup: &Setup<'_>,
    name: &str,
    init: Option<&[f32]>,
    frames: Option<&[Vec<u8>]>,
    state: &State,
    watched: anyhow::Result<()>,
    what: &str,
) -> anyhow::Result<()> {
    let note = |line: &str| {
        if !args.quiet {
            eprintln!("{line}");
        }
    };
    let dir = state.dir().to_path_buf();
    watched.with_context(|| format!("the run on {what} failed"))?;
    if state.summary.is_none() {
        bail!(
            "{what} ended before its summary: {} of {} epochs arrived (saved in {})",
            state.records.len(),
            setup.spec.epochs,
            dir.display()
        );
    }
    if state.weights.is_empty() {
        note("the device sent no weights frames (RTT carries none): weights.json is missing");
    } else {
        // The device sends the parameters; what they read and predict is the run's.
        let path = dir.join(run_dir::WEIGHTS);
        let weights = Weights {
            about: Some(About::of(setup)),
            ..Weights::read(&path)?
        };
        let mut json = serde_json::to_vec(&weights)?;
        json.push(b'\n');
        run_dir::write_atomic(&path, &json)?;
        // Several targets: each one's errors in its units, of the device's model.
        if let Some(per_target) = crate::targets::of_run(setup, &weights)? {
            let mut json = serde_json::to_vec_pretty(&per_target)?;
            json.push(b'\n');
            run_dir::write_atomic(&dir.join(crate::targets::FILE), &json)?;
            note(&format!("{per_target} ({})", crate::targets::FILE));
        }
    }

    if args.no_verify {
        note("device ≡ host: not verified (--no-verify)");
        return Ok(());
    }
    let host_records = match frames {
        Some(frames) => {
            let experiment = stream::experiment(setup, name, init);
            let replay = stream::replay(setup, &experiment, frames)?;
            if let Some(a) = replay.accuracy {
                println!(
                    "validation accuracy ({} rows, scored on the host with the replay's model): {:.2}% with the starting model, {:.2}% after the stream",
                    a.rows,
                    100.0 * a.before,
                    100.0 * a.after
                );
            }
            // The weights frames the device sent, against the replay's model.
            let sent = Weights::read(&dir.join(run_dir::WEIGHTS))?;
            if (&sent.layers, &sent.batch_norms)
                != (&replay.weights.layers, &replay.weights.batch_norms)
            {
                bail!(
                    "the device's weights differ from the host's replay of the stream (saved in {})",
                    dir.display()
                );
            }
            println!("device weights ≡ host replay: every parameter equal");
            if let Some(replayed) = replay.summary.anomalies {
                anomalies(state, &replayed, &dir)?;
            }
            replay.records
        }
        None => pipeline::train(setup, &mut pipeline::Silent)?.records,
    };
    let verdict = verify::compare(&state.records, &host_records);
    println!("{verdict}");
    if !verdict.identical() {
        bail!(
            "the device's run differs from the host's (saved in {})",
            dir.display()
        );
    }
    Ok(())
}

/// An autoencoder stream's anomaly detection as the device reports it (its summary's
/// `anomalies`) against the host's replay: the same threshold bits and flag counts, or an error.
/// Writes them to threshold.json, with the flag's precision and recall.
fn anomalies(
    state: &State,
    replayed: &tinytrain_experiments::stream::Anomalies,
    dir: &Path,
) -> anyhow::Result<()> {
    let sent = state
        .summary
        .as_ref()
        .map(|s| s["summary"]["anomalies"].clone())
        .unwrap_or_default();
    let count = |key: &str| sent[key].as_u64().map(|n| n as u32);
    let device = (
        count("threshold_bits"),
        count("errors"),
        [
            count("true_positives"),
            count("false_positives"),
            count("false_negatives"),
            count("true_negatives"),
        ],
    );
    let host = (
        Some(replayed.threshold_bits),
        Some(replayed.errors),
        [
            Some(replayed.true_positives),
            Some(replayed.false_positives),
            Some(replayed.false_negatives),
            Some(replayed.true_negatives),
        ],
    );
    if device != host {
        bail!(
            "the device's anomaly detection differs from the host's replay: {sent} against {replayed:?} (saved in {})",
            dir.display()
        );
    }
    let percent = |v: Option<f32>| v.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
    println!(
        "anomaly threshold {} (quantile {} of {} validation errors, on the device); the flag: precision {}, recall {} ({} of {} anomalies, {} of {} held-out normal rows) — ≡ host replay",
        replayed.threshold,
        replayed.quantile,
        replayed.errors,
        percent(replayed.precision()),
        percent(replayed.recall()),
        replayed.true_positives,
        replayed.true_positives + replayed.false_negatives,
        replayed.false_positives,
        replayed.false_positives + replayed.true_negatives,
    );
    let json = serde_json::json!({
        "measured_on": "the device (its summary), equal to the host's replay",
        "error": "mean over the features of the loss between the standardised row and its reconstruction (eval mode)",
        "quantile": replayed.quantile,
        "threshold": replayed.threshold,
        "validation_rows": replayed.errors,
        "true_positives": replayed.true_positives,
        "false_positives": replayed.false_positives,
        "false_negatives": replayed.false_negatives,
        "true_negatives": replayed.true_negatives,
        "precision": replayed.precision(),
        "recall": replayed.recall(),
    });
    run_dir::write_atomic(
        &dir.join(crate::anomaly::THRESHOLD),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )
}

/// The parameters the run starts from: the seeded initialisation, or `--init`'s (checked against
/// the network's shapes); and the model as the firmware takes it, its parameters then its
/// batch-norm statistics.
fn initial_model(setup: &Setup<'_>) -> anyhow::Result<(Weights, Vec<f32>)> {
    let mut memory = VecMemory::try_for_run(&setup.plan, &setup.config, setup.frozen_params())?;
    let freeze = setup.config.freeze as usize;
    let mut net = Mlp::new_frozen(&setup.layers, memory.buffers(), setup.spec.seed, freeze)
        .map_err(|e| anyhow!("cannot build the network: {e}"))?;
    if let (Some(path), Some(weights)) = (&setup.spec.init, &setup.init) {
        weights
            .load_leading_into(&mut net, setup.init_layers)
            .with_context(|| format!("--init {}", path.display()))?;
    }
    let model = net.model().concat();
    let weights = Weights {
        about: Some(About::of(setup)),
        ..Weights::of(&net)
    };
    Ok((weights, model))
}

/// The experiment's name on the device: the CSV's stem, as an identifier.
fn experiment_name(setup: &Setup<'_>) -> String {
    let stem = setup
        .table
        .path
        .file_stem()
        .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
    // At most `NAME_CAPACITY` characters: the device's summary frame must hold the name.
    stem.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(tinytrain_experiments::experiment::NAME_CAPACITY)
        .collect()
}

/// `device.json`: the board, the fit check's figures and what the device measured (its summary
/// frame's `resources`), with how long the build took and when the run started.
fn write_device_json(
    dir: &std::path::Path,
    board: &Board,
    chip: &str,
    need: &fit::Need,
    state: &State,
    build_seconds: Option<f64>,
    first_epoch_seconds: Option<f64>,
) -> anyhow::Result<()> {
    let resources = state
        .summary
        .as_ref()
        .map(|s| s["resources"].clone())
        .unwrap_or_default();
    let json = serde_json::json!({
        "board": board.name,
        "cpu": board.cpu,
        "run_with": board.how(),
        "chip": (!chip.is_empty()).then_some(chip),
        "predicted": {
            "ram": need.ram(),
            "flash": need.flash(),
            "items": need,
        },
        "measured": resources,
        "firmware_build_seconds": build_seconds,
        "seconds_to_first_epoch": first_epoch_seconds,
        "epochs_received": state.records.len(),
        "corrupted_frames": state.corrupted,
    });
    let path: PathBuf = dir.join(DEVICE_JSON);
    run_dir::write_atomic(
        &path,
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )
}

#[cfg(feature = "probe")]
fn probe_source(
    elf: &std::path::Path,
    chip: &str,
    probe: Option<&str>,
    sender: std::sync::mpsc::Sender<monitor::Input>,
) -> anyhow::Result<Source> {
    monitor::probe_run(elf, chip, probe, sender)
}

#[cfg(not(feature = "probe"))]
fn probe_source(
    _elf: &std::path::Path,
    chip: &str,
    _probe: Option<&str>,
    _sender: std::sync::mpsc::Sender<monitor::Input>,
) -> anyhow::Result<Source> {
    bail!("--device with a probe-rs board ({chip}) needs tinytrain built with the `probe` feature: cargo install --path host --features probe")
}
