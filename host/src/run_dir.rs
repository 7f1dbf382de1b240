//! The files a training run writes into its directory (`--out`, default `runs/<data>-seed<seed>`):
//!
//! | file            | when                   | contents                                             |
//! |-----------------|------------------------|------------------------------------------------------|
//! | `manifest.json` | before the first epoch | options, data, network, split, normaliser statistics |
//! | `init.json`     | before the first epoch | parameters after initialisation (or `--init`)        |
//! | `metrics.jsonl` | after every epoch      | one [`EpochRecord`] as JSON per line                 |
//! | `metrics.csv`   | after every epoch      | the same, as CSV with empty cells for absent values  |
//! | `events.jsonl`  | when something happens | diagnosis events and early stopping, one JSON a line |
//! | `checkpoint.bin`| after every epoch      | the trainer's state ([`tinytrain::checkpoint`]), for `--resume` |
//! | `weights.json`  | after the last epoch   | the trained (or, early stopping, the best) parameters |
//! | `curves.png`, `curves.svg` | at the end      | loss and accuracy curves (unless `--no-plot`)        |
//!
//! The metrics files are flushed after every epoch, so another program can follow a run as it trains.
//! They hold no timestamps: the same options produce byte-identical metrics.
//!
//! With `--tensorboard DIR` ([`RunDir::tensorboard`]) every record, event and the manifest also go
//! to a TensorBoard event file outside the directory, `DIR/<run name>/` ([`crate::tensorboard`]):
//! whatever writes a run writes it through here, so every command that takes the option writes
//! the same file.
//!
//! A run is never lost to another ([`RunDir::create`]): a directory that holds files is replaced
//! only with `--force`, and then only once the new run has its first epoch (it is written beside
//! the old one and swapped in); a lock file beside the directory keeps a second writer out; an input
//! inside the directory `--force` would replace is refused; default names never collide
//! ([`fresh`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use tinytrain::record::EpochRecord;

use crate::manifest::Manifest;
use crate::tensorboard::EventFile;
use crate::weights::Weights;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The initial parameters' file name.
pub const INIT_WEIGHTS: &str = "init.json";
/// The trained parameters' file name.
pub const WEIGHTS: &str = "weights.json";
/// The JSON-lines metrics' file name.
pub const METRICS_JSONL: &str = "metrics.jsonl";
/// The CSV metrics' file name.
pub const METRICS_CSV: &str = "metrics.csv";
/// The events' file name: one JSON object per line, each with `event`, `epoch` (where it starts) and
/// `detected` (the epoch that revealed it). Kept apart from `metrics.jsonl`, whose lines are exactly
/// the core's [`EpochRecord`] on every channel.
pub const EVENTS_JSONL: &str = "events.jsonl";
/// The checkpoint's file name: written after every epoch (to a temporary file, then renamed, so a
/// crash leaves the previous checkpoint intact); `train --resume` continues from it.
pub const CHECKPOINT: &str = "checkpoint.bin";
/// The header of `metrics.csv`: the fields of [`EpochRecord`], in order.
pub const METRICS_CSV_HEADER: &str = EpochRecord::CSV_HEADER;

/// `runs/<data file stem>-seed<seed>`, relative to the current directory.
pub fn default_dir(data: &Path, seed: u64) -> PathBuf {
    let stem = data
        .file_stem()
        .map_or_else(|| "data".into(), |s| s.to_string_lossy());
    Path::new("runs").join(format!("{stem}-seed{seed}"))
}

/// `base`, or `base-2`, `base-3`, … : the first that does not exist yet (or is an empty
/// directory), so that default run names never collide.
pub fn fresh(base: PathBuf) -> PathBuf {
    let free = |path: &Path| !path.exists() || is_empty_dir(path);
    if free(&base) {
        return base;
    }
    let name = base
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    (2u32..)
        .map(|k| base.with_file_name(format!("{name}-{k}")))
        .find(|path| free(path))
        .unwrap_or(base)
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// An open run directory.
#[derive(Debug)]
pub struct RunDir {
    /// Where the run goes.
    path: PathBuf,
    /// Where it is written until it is swapped in (`--force` over an existing run); `None`: `path`.
    staging: Option<PathBuf>,
    jsonl: BufWriter<File>,
    csv: BufWriter<File>,
    events: BufWriter<File>,
    /// `--tensorboard DIR`: the run's event file there.
    tensorboard: Option<EventFile>,
    /// Held while the run is written (see [`lock`]).
    _lock: File,
}

impl RunDir {
    /// Creates the run directory `path` (and its parents) and starts the metrics files.
    ///
    /// * `path` holds files already: an error, unless `force`; then the new run is written into a
    ///   directory beside it and replaces it at its first epoch (or [`RunDir::commit`]), so the old
    ///   run survives anything that fails before.
    /// * Another `tinytrain` writes `path`: an error (`lock`).
    /// * An `inputs` file lies inside a `path` that `force` would replace: an error.
    pub fn create(path: &Path, force: bool, inputs: &[&Path]) -> anyhow::Result<Self> {
        if path.exists() && !path.is_dir() {
            bail!("--out {} is a file, not a run directory", path.display());
        }
        let occupied = path.is_dir() && !is_empty_dir(path);
        if occupied && !force {
            bail!(
                "{} already holds files (another run?); pass --force to replace it, or choose another --out",
                path.display()
            );
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let lock = lock(path)?;
        if occupied {
            let dir = path.canonicalize()?;
            for input in inputs {
                if input
                    .canonicalize()
                    .is_ok_and(|file| file.starts_with(&dir))
                {
                    bail!(
                        "{} is an input of this run and lies inside {}, which --force would replace; move it out first",
                        input.display(),
                        path.display()
                    );
                }
            }
        }
        let staging = occupied.then(|| beside(path, &format!("new-{}", std::process::id())));
        let target = staging.as_deref().unwrap_or(path);
        if staging.is_some() {
            let _ = std::fs::remove_dir_all(target);
        }
        std::fs::create_dir_all(target)
            .with_context(|| format!("cannot create the run directory {}", target.display()))?;
        let open = |name: &str| -> anyhow::Result<BufWriter<File>> {
            let file = target.join(name);
            Ok(BufWriter::new(File::create(&file).with_context(|| {
                format!("cannot create {}", file.display())
            })?))
        };
        let mut run = Self {
            path: path.to_path_buf(),
            jsonl: open(METRICS_JSONL)?,
            csv: open(METRICS_CSV)?,
            events: open(EVENTS_JSONL)?,
            staging,
            tensorboard: None,
            _lock: lock,
        };
        writeln!(run.csv, "{METRICS_CSV_HEADER}").with_context(|| run.error_text(METRICS_CSV))?;
        Ok(run)
    }

    /// Swaps a run written beside an old one (`--force`) into its place, the old one removed; does
    /// nothing otherwise. [`RunDir::append`] calls it at the first epoch; call it at the end of a
    /// run that may have none.
    pub fn commit(&mut self) -> anyhow::Result<()> {
        let Some(staging) = self.staging.take() else {
            return Ok(());
        };
        let old = beside(&self.path, &format!("old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&self.path, &old)
            .and_then(|()| std::fs::rename(&staging, &self.path))
            .with_context(|| format!("cannot replace {}", self.path.display()))?;
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove the replaced run {}", old.display()))
    }

    /// Reopens a run directory to continue it: `metrics.jsonl`, `metrics.csv` (after its header) and
    /// `events.jsonl` are rewritten with the given lines (those of the epochs up to the checkpoint),
    /// and later epochs are appended to them.
    pub fn resume(
        path: &Path,
        jsonl_lines: &[String],
        csv_lines: &[String],
        event_lines: &[String],
    ) -> anyhow::Result<Self> {
        let lock = lock(path)?;
        let open = |name: &str| -> anyhow::Result<BufWriter<File>> {
            let file = path.join(name);
            Ok(BufWriter::new(File::create(&file).with_context(|| {
                format!("cannot create {}", file.display())
            })?))
        };
        let mut run = Self {
            path: path.to_path_buf(),
            staging: None,
            jsonl: open(METRICS_JSONL)?,
            csv: open(METRICS_CSV)?,
            events: open(EVENTS_JSONL)?,
            tensorboard: None,
            _lock: lock,
        };
        writeln!(run.csv, "{METRICS_CSV_HEADER}").with_context(|| run.error_text(METRICS_CSV))?;
        for line in jsonl_lines {
            writeln!(run.jsonl, "{line}").with_context(|| run.error_text(METRICS_JSONL))?;
        }
        for line in csv_lines {
            writeln!(run.csv, "{line}").with_context(|| run.error_text(METRICS_CSV))?;
        }
        for line in event_lines {
            writeln!(run.events, "{line}").with_context(|| run.error_text(EVENTS_JSONL))?;
        }
        for (writer, name) in [
            (&mut run.jsonl, METRICS_JSONL),
            (&mut run.csv, METRICS_CSV),
            (&mut run.events, EVENTS_JSONL),
        ] {
            writer
                .flush()
                .with_context(|| format!("cannot write {}", path.join(name).display()))?;
        }
        Ok(run)
    }

    /// Replaces `checkpoint.bin` with `bytes`, atomically (a temporary file, then a rename).
    pub fn write_checkpoint(&self, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.path().join(CHECKPOINT), bytes)
    }

    /// Writes `name` in the run directory atomically.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.path().join(name), bytes)
    }

    /// The directory the run's files are in now (beside the final one until it is swapped in).
    pub fn path(&self) -> &Path {
        self.staging.as_deref().unwrap_or(&self.path)
    }

    /// Where the run goes.
    pub fn final_path(&self) -> &Path {
        &self.path
    }

    /// Writes `manifest.json` (and, with an event file, the manifest as its options: all but the
    /// split's rows and the normaliser's statistics, numbers by the hundred).
    pub fn write_manifest(&mut self, manifest: &Manifest<'_>) -> anyhow::Result<()> {
        manifest.write(&self.path().join(MANIFEST))?;
        if self.tensorboard.is_some() {
            let mut options = serde_json::to_value(manifest)?;
            if let Some(map) = options.as_object_mut() {
                map.remove("split");
                map.remove("normalization");
            }
            self.write_hparams(&options)?;
        }
        Ok(())
    }

    /// Starts the run's TensorBoard event file in `logdir/<run name>` (the name of the run
    /// directory), with the records and events the directory holds already (those a resumed run
    /// kept), so that the file holds the whole run. From here on [`RunDir::append`],
    /// [`RunDir::append_event`] and [`RunDir::write_manifest`] write to it too.
    pub fn tensorboard(&mut self, logdir: &Path) -> anyhow::Result<()> {
        let mut file = EventFile::create(logdir, &crate::plot::run_name(&self.path))?;
        let read = |name: &str| std::fs::read_to_string(self.path().join(name)).unwrap_or_default();
        for line in read(METRICS_JSONL).lines() {
            let record: EpochRecord = serde_json::from_str(line).with_context(|| {
                format!("{}: {line}", self.path().join(METRICS_JSONL).display())
            })?;
            file.record(&record)?;
        }
        for line in read(EVENTS_JSONL).lines() {
            file.event(
                detected(&serde_json::from_str(line).unwrap_or_default()),
                line,
            )?;
        }
        self.tensorboard = Some(file);
        Ok(())
    }

    /// The run's options as the event file's `hparams` text, if there is an event file and it has
    /// none yet (a manifest's come first).
    pub fn write_hparams(&mut self, options: &serde_json::Value) -> anyhow::Result<()> {
        match &mut self.tensorboard {
            Some(file) => file.hparams(options),
            None => Ok(()),
        }
    }

    /// Writes a weights file, e.g. [`INIT_WEIGHTS`] or [`WEIGHTS`].
    pub fn write_weights(&self, name: &str, weights: &Weights) -> anyhow::Result<()> {
        weights.write(&self.path().join(name))
    }

    /// Appends one epoch to both metrics files and flushes them (the first swaps a `--force` run
    /// into place).
    pub fn append(&mut self, record: &EpochRecord) -> anyhow::Result<()> {
        self.commit()?;
        let json = serde_json::to_string(record).context("cannot serialise an epoch record")?;
        writeln!(self.jsonl, "{json}")
            .and_then(|()| self.jsonl.flush())
            .with_context(|| self.error_text(METRICS_JSONL))?;
        writeln!(self.csv, "{}", csv_line(record))
            .and_then(|()| self.csv.flush())
            .with_context(|| self.error_text(METRICS_CSV))?;
        match &mut self.tensorboard {
            Some(file) => file.record(record),
            None => Ok(()),
        }
    }

    /// Appends one event to `events.jsonl` and flushes it.
    pub fn append_event(&mut self, event: &impl serde::Serialize) -> anyhow::Result<()> {
        let json = serde_json::to_string(event).context("cannot serialise an event")?;
        writeln!(self.events, "{json}")
            .and_then(|()| self.events.flush())
            .with_context(|| self.error_text(EVENTS_JSONL))?;
        match &mut self.tensorboard {
            Some(file) => file.event(detected(&serde_json::to_value(event)?), &json),
            None => Ok(()),
        }
    }

    fn error_text(&self, name: &str) -> String {
        format!("cannot write {}", self.path().join(name).display())
    }
}

impl Drop for RunDir {
    /// A `--force` run that never got its first epoch leaves the old run as it was.
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            let _ = std::fs::remove_dir_all(staging);
        }
    }
}

/// An `events.jsonl` line's `detected`: the epoch whose record revealed the event (0 if it has none).
fn detected(line: &serde_json::Value) -> u32 {
    line["detected"]
        .as_u64()
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// `parent/.name.what`: a sibling of the run directory for staging, the old run or the lock.
fn beside(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{what}"))
}

/// Takes the lock of run directory `path`: the file `.NAME.lock` beside it, locked exclusively
/// while the run is written (released when the process ends, however it ends). A second writer of
/// the same directory gets an error instead of interleaved metrics.
fn lock(path: &Path) -> anyhow::Result<File> {
    let file = beside(path, "lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&file)
        .with_context(|| format!("cannot create the lock file {}", file.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another tinytrain is writing {} (it holds {}); wait for it or choose another --out",
            path.display(),
            file.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", file.display()))
        }
    }
}

/// Refuses an `--out FILE` that exists (unless `force`) or is a directory, before any work: the
/// one rule of every command that writes a single file (`predict`, `export`).
pub fn check_output_file(out: &Path, force: bool) -> anyhow::Result<()> {
    // A device or a pipe (`/dev/null`, `/dev/stdout`, a FIFO) holds nothing to lose.
    if is_special(out) {
        return Ok(());
    }
    if out.exists() && !force {
        bail!(
            "{} exists; pass --force to replace it, or choose another --out",
            out.display()
        );
    }
    if out.is_dir() {
        bail!("--out {} is a directory, not a file", out.display());
    }
    Ok(())
}

/// Replaces `file` with `bytes` atomically: a temporary file beside it, then a rename, so a crash
/// leaves the old contents or the new, never half of them. A device or a pipe is written in place:
/// a rename would put a plain file where `/dev/null` was, for every program on the machine.
pub fn write_atomic(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if is_special(file) {
        return std::fs::write(file, bytes)
            .with_context(|| format!("cannot write {}", file.display()));
    }
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(format!(".tmp{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, file))
        .with_context(|| format!("cannot write {}", file.display()))
}

/// `path` exists and is neither a regular file nor a directory (a device, a FIFO, a socket).
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// One `metrics.csv` line: the fields of [`METRICS_CSV_HEADER`], shortest round-trip decimals, empty
/// cells for absent values.
pub fn csv_line(r: &EpochRecord) -> String {
    let cell = |v: Option<f32>| v.map_or_else(String::new, |v| v.to_string());
    let cells: Vec<String> = std::iter::once(r.epoch.to_string())
        .chain(r.floats().map(cell))
        .collect();
    cells.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found when `/dev/null` turned into a plain file on this project's machine: an atomic write
    /// to a device or a pipe renamed a temporary file over it. Now it writes in place (a FIFO here,
    /// which must still be a FIFO after, holding what was written), and `--force` is not needed.
    #[test]
    fn a_pipe_or_device_is_written_in_place_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        check_output_file(&fifo, false).unwrap();
        write_atomic(&fifo, b"weights").unwrap();
        assert_eq!(reader.join().unwrap(), b"weights");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    fn record(epoch: u32, train_loss: f32, lr: f32) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss,
            lr,
            ..Default::default()
        }
    }

    #[test]
    fn csv_lines_leave_absent_values_empty() {
        let record = EpochRecord {
            train_mae: Some(3.25),
            ..record(2, 0.5, 0.001)
        };
        assert_eq!(csv_line(&record), "2,0.5,,,,0.001,,3.25,,");
        assert_eq!(
            csv_line(&record).split(',').count(),
            METRICS_CSV_HEADER.split(',').count()
        );
    }

    #[test]
    fn metrics_files_get_one_line_per_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b");
        let mut run = RunDir::create(&path, false, &[]).unwrap();
        let record = EpochRecord {
            val_acc: Some(0.5),
            ..record(1, 0.25, 0.1)
        };
        run.append(&record).unwrap();
        let jsonl = std::fs::read_to_string(path.join(METRICS_JSONL)).unwrap();
        assert_eq!(
            jsonl,
            "{\"epoch\":1,\"train_loss\":0.25,\"val_acc\":0.5,\"lr\":0.1}\n"
        );
        let csv = std::fs::read_to_string(path.join(METRICS_CSV)).unwrap();
        assert_eq!(csv, format!("{METRICS_CSV_HEADER}\n1,0.25,,,0.5,0.1,,,,\n"));
        assert_eq!(
            std::fs::read_to_string(path.join(EVENTS_JSONL)).unwrap(),
            ""
        );
        run.append_event(&serde_json::json!({"event": "plateau", "epoch": 3}))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(path.join(EVENTS_JSONL)).unwrap(),
            "{\"epoch\":3,\"event\":\"plateau\"}\n"
        );
    }

    /// Found by hostile input: `--out` over another run overwrote it silently, an abort after
    /// opening had already truncated it, two writers interleaved, and `--data DIR/metrics.csv --out
    /// DIR` overwrote the input.
    #[test]
    fn a_run_is_never_lost_to_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let mut first = RunDir::create(&path, false, &[]).unwrap();
        first.append(&record(1, 0.5, 0.1)).unwrap();
        // A second writer, even with --force, is refused while the first holds the lock.
        let busy = RunDir::create(&path, true, &[]).unwrap_err().to_string();
        assert!(busy.starts_with("another tinytrain is writing"), "{busy}");
        drop(first);
        let kept = std::fs::read(path.join(METRICS_JSONL)).unwrap();

        // Without --force: refused, nothing touched.
        let refused = RunDir::create(&path, false, &[]).unwrap_err().to_string();
        assert!(refused.ends_with("already holds files (another run?); pass --force to replace it, or choose another --out"), "{refused}");
        assert_eq!(std::fs::read(path.join(METRICS_JSONL)).unwrap(), kept);

        // With --force, a run that fails before its first epoch leaves the old one whole.
        let failed = RunDir::create(&path, true, &[]).unwrap();
        failed.write_file("manifest.json", b"{}").unwrap();
        drop(failed);
        assert_eq!(std::fs::read(path.join(METRICS_JSONL)).unwrap(), kept);
        assert!(!path.join("manifest.json").exists());

        // An input inside the directory --force would replace is refused.
        let input = path.join("metrics.csv");
        let message = RunDir::create(&path, true, &[&input])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("is an input of this run and lies inside"),
            "{message}"
        );

        // With --force and a first epoch, the new run replaces the old one entirely.
        let mut second = RunDir::create(&path, true, &[]).unwrap();
        second.append(&record(1, 0.25, 0.1)).unwrap();
        assert_ne!(std::fs::read(path.join(METRICS_JSONL)).unwrap(), kept);
        assert_eq!(second.path(), path);
        let siblings: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(siblings.len(), 2, "{siblings:?}"); // the run and its lock file

        // Default names never collide.
        assert_eq!(fresh(path.clone()), dir.path().join("run-2"));
        assert_eq!(fresh(dir.path().join("new")), dir.path().join("new"));
    }

    /// Found by hostile input: non-finite values were written as `null`, which plot, monitor and
    /// --resume could not read (and which reads as "absent"). They are `"NaN"`, `"Infinity"` and
    /// `"-Infinity"`, read back by every reader of metrics.jsonl.
    #[test]
    fn non_finite_values_have_one_encoding_every_reader_takes() {
        let record = EpochRecord {
            val_loss: Some(f32::NAN),
            val_acc: Some(f32::INFINITY),
            train_mae: Some(f32::NEG_INFINITY),
            ..record(3, 0.5, 0.1)
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"epoch":3,"train_loss":0.5,"val_loss":"NaN","val_acc":"Infinity","lr":0.1,"train_mae":"-Infinity"}"#
        );
        let back: EpochRecord = serde_json::from_str(&json).unwrap();
        assert!(back.val_loss.unwrap().is_nan());
        assert_eq!(
            (back.val_acc, back.train_mae),
            (record.val_acc, record.train_mae)
        );
        // The plot's and the monitor's readers.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(METRICS_JSONL), format!("{json}\n")).unwrap();
        let run = crate::plot::Run::read(dir.path()).unwrap();
        assert!(run.records[0].val_loss.unwrap().is_nan());
        // (The monitor also refuses impossible values, such as an infinite accuracy.)
        let possible =
            r#"{"epoch":3,"train_loss":0.5,"val_loss":"NaN","lr":0.1,"val_rmse":"Infinity"}"#;
        assert!(
            matches!(crate::monitor::classify(possible), Some(crate::monitor::Input::Record(r)) if r.val_loss.is_some_and(f32::is_nan) && r.val_rmse == Some(f32::INFINITY))
        );
        // A required value cannot be null, and numbers still read as before.
        assert!(
            serde_json::from_str::<EpochRecord>(r#"{"epoch":1,"train_loss":null,"lr":0.1}"#)
                .is_err()
        );
        let plain: EpochRecord =
            serde_json::from_str(r#"{"epoch":1,"train_loss":0.19304118,"lr":0.001}"#).unwrap();
        assert_eq!(plain.train_loss.to_bits(), 0.19304118f32.to_bits());
    }

    #[test]
    fn default_dir_names_data_and_seed() {
        assert_eq!(
            default_dir(Path::new("data/iris.csv"), 7),
            Path::new("runs/iris-seed7")
        );
    }
}
